"""scripts/eval_summary.py turns the evaluation reports of one checkpoint into one table row (missing reports as -),
and scripts/eval_checkpoint.sh refuses bad arguments before any work, naming what is wrong."""

import importlib.util
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _summary_module():
    spec = importlib.util.spec_from_file_location("eval_summary", ROOT / "scripts" / "eval_summary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _memory(small, everything):
    return {"rows": [{"objects": "Mug", "recall": 1.0, "precision": 1.0},
                     {"objects": "small task objects", "recall": small[0], "precision": small[1]},
                     {"objects": "all", "recall": everything[0], "precision": everything[1]}]}


def test_summary_row_reads_each_report_and_marks_missing_ones(tmp_path):
    summary = _summary_module()
    (tmp_path / "eval_m.json").write_text(json.dumps({"rows": [{"3d": {"AP": 0.256, "AP50": 0.4886, "AP25": 0.641},
                                                                "2d": {"AP": 0.161, "AP50": 0.302}}]}))
    (tmp_path / "memory_eval_m_odin.json").write_text(json.dumps(_memory((0.57, 0.4388), (0.768, None))))
    row = summary.summary_row("m", tmp_path)
    assert row == ["m", "25.6/48.9/64.1", "16.1/30.2", "-", "57/44", "77/0", "-", "-"]
    (tmp_path / "eval_m_object_views.json").write_text(json.dumps(
        {"rows": [{"2d": {"AP": 0.16, "AP50": 0.3, "look_around": {"AP50": 0.278}, "object_views": {"AP50": 0.402}}}]}))
    assert summary.summary_row("m", tmp_path)[3] == "27.8/40.2"
    assert summary.main(["no-equals-sign"]) == 2


def test_eval_checkpoint_refuses_missing_weights_and_data(tmp_path):
    script = ROOT / "scripts" / "eval_checkpoint.sh"
    usage = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert usage.returncode == 2 and "WEIGHTS OUT" in usage.stdout
    missing = subprocess.run(["bash", str(script), str(tmp_path / "none.safetensors"), str(tmp_path / "out")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "none.safetensors: no such file" in missing.stdout
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"")
    no_data = subprocess.run(["bash", str(script), str(weights), str(tmp_path / "out")], capture_output=True,
                             text=True, env={"PATH": "/usr/bin:/bin", "DATA_EVAL": str(tmp_path / "nodata")})
    assert no_data.returncode == 2 and "nodata has no dataset.json" in no_data.stdout
    assert not (tmp_path / "out").exists()
