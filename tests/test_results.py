"""The run directory writer (agent.results) and the run comparison CLI (agent.compare) on hand-made records."""

from __future__ import annotations

import csv
import json

import pytest

from agent.compare import bootstrap_rates, main as compare_main
from agent.results import (CONFIG_FILE, EPISODES_FILE, RECORD_FIELDS, SUMMARY_JSON, SUMMARY_MD, ResultsFormatError,
                           ResultsWriter, load_records, summarize)
from episodes.metrics import aggregate_metrics, evaluate_traj, new_traj_metrics

CONFIG = {"mode": "tfd", "split": "valid_unseen", "perception": "gt", "planner": "rules", "model": None,
          "data_dir": "data/teach", "seed": 0, "max_steps": 1000}


def episode(instance_id: str, task: str = "Coffee", success: bool = True, gt: int = 10, traj: int = 10,
            open_conditions: int = 4, left_open: int = 0, error: bool = False, wall: float = 1.0,
            steps: int | None = None, **extra) -> dict:
    """A record as the runner writes it: TEACh's fields from evaluate_traj plus our run fields."""
    record = new_traj_metrics(instance_id, instance_id.split(".")[0])
    record.update(evaluate_traj(success, gt_path_len=gt, traj_len=traj, init_gc_total=open_conditions,
                                init_gc_satisfied=0, final_gc_total=open_conditions,
                                final_gc_satisfied=open_conditions - left_open))
    record.update(error=int(error), task=task, split="valid_unseen", mode="tfd", steps=traj if steps is None else steps,
                  failed_actions=0, wall_time_s=wall, cpu_time_s=wall / 2,
                  error_message="RuntimeError: boom" if error else None)
    record.update(extra)
    return record


def hand_records() -> list[dict]:
    return [
        # Coffee: done in twice the expert's length (ratio 1/2); half done at the expert's length.
        episode("g1.tfd", "Coffee", success=True, gt=10, traj=20, open_conditions=4, left_open=0, wall=1.0),
        episode("g2.tfd", "Coffee", success=False, gt=10, traj=10, open_conditions=4, left_open=2, wall=2.0),
        # Plate Of Toast: done faster than the expert; an exception with nothing done.
        episode("g3.tfd", "Plate Of Toast", success=True, gt=20, traj=10, open_conditions=2, left_open=0, wall=3.0),
        episode("g4.tfd", "Plate Of Toast", success=False, gt=20, traj=5, open_conditions=2, left_open=2, error=True,
                wall=10.0),
    ]


def write_run(run_dir, records, config=CONFIG) -> None:
    writer = ResultsWriter(run_dir, config)
    for record in records:
        writer.append(record)
    writer.write_summary()


# --- ResultsWriter -------------------------------------------------------------------------------------------------

def test_append_then_resume_skips_done_ids(tmp_path):
    run = tmp_path / "run"
    writer = ResultsWriter(run, CONFIG)
    assert json.loads((run / CONFIG_FILE).read_text()) == CONFIG
    assert writer.done_ids() == set()
    records = hand_records()
    writer.append(records[0])
    writer.append(records[1])
    assert writer.done_ids() == {"g1.tfd", "g2.tfd"}
    lines = (run / EPISODES_FILE).read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0]) == records[0]

    with pytest.raises(FileExistsError, match="--resume"):
        ResultsWriter(run, CONFIG)
    resumed = ResultsWriter(run, CONFIG, resume=True)
    assert resumed.done_ids() == {"g1.tfd", "g2.tfd"}
    resumed.append(records[2])
    assert {r["instance_id"] for r in load_records(run)} == {"g1.tfd", "g2.tfd", "g3.tfd"}


def test_append_rejects_incomplete_records(tmp_path):
    writer = ResultsWriter(tmp_path / "run", CONFIG)
    record = hand_records()[0]
    del record["task"], record["wall_time_s"]
    with pytest.raises(ValueError, match="task, .*wall_time_s|wall_time_s.*task"):
        writer.append(record)
    with pytest.raises(ValueError, match="mode"):
        writer.append(episode("g9.tfd", mode="train"))
    assert not (tmp_path / "run" / EPISODES_FILE).exists() or not (tmp_path / "run" / EPISODES_FILE).read_text()


def test_numpy_values_are_written_as_json(tmp_path):
    np = pytest.importorskip("numpy")
    writer = ResultsWriter(tmp_path / "run", CONFIG)
    writer.append(episode("g1.tfd", steps=np.int64(7), program=np.array([1, 2])))
    (record,) = load_records(tmp_path / "run")
    assert record["steps"] == 7 and record["program"] == [1, 2]


def test_truncated_last_line_is_dropped_and_repaired(tmp_path):
    run = tmp_path / "run"
    write_run(run, hand_records()[:2])
    path = run / EPISODES_FILE
    whole = path.read_text()
    path.write_text(whole + json.dumps(hand_records()[2])[:40])  # killed mid-write

    with pytest.warns(RuntimeWarning, match="line 3"):
        assert [r["instance_id"] for r in load_records(run)] == ["g1.tfd", "g2.tfd"]
    assert path.read_text() != whole  # load_records leaves the file alone

    with pytest.warns(RuntimeWarning, match="truncated"):
        writer = ResultsWriter(run, CONFIG, resume=True)
    assert path.read_text() == whole
    assert writer.done_ids() == {"g1.tfd", "g2.tfd"}
    writer.append(hand_records()[2])
    assert [r["instance_id"] for r in load_records(run)] == ["g1.tfd", "g2.tfd", "g3.tfd"]


def test_valid_last_line_without_newline_gets_one_before_appending(tmp_path):
    run = tmp_path / "run"
    write_run(run, hand_records()[:1])
    path = run / EPISODES_FILE
    path.write_text(path.read_text().rstrip("\n"))
    writer = ResultsWriter(run, CONFIG, resume=True)
    writer.append(hand_records()[1])
    assert len(load_records(run)) == 2


def test_malformed_middle_line_names_file_and_line(tmp_path):
    run = tmp_path / "run"
    write_run(run, hand_records()[:3])
    path = run / EPISODES_FILE
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:-5]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ResultsFormatError, match=r"episodes\.jsonl: line 2"):
        load_records(run)
    with pytest.raises(ResultsFormatError, match="line 2"):
        ResultsWriter(run, CONFIG, resume=True)


def test_resume_with_a_different_config_names_the_fields(tmp_path):
    run = tmp_path / "run"
    write_run(run, hand_records()[:1])
    changed = dict(CONFIG, perception="odin", seed=3)
    with pytest.raises(ValueError, match="perception, seed") as caught:
        ResultsWriter(run, changed, resume=True)
    assert "'gt'" in str(caught.value) and "'odin'" in str(caught.value)
    # A field outside the key set only warns, and the stored config stays.
    with pytest.warns(RuntimeWarning, match="max_steps"):
        ResultsWriter(run, dict(CONFIG, max_steps=50), resume=True)
    assert json.loads((run / CONFIG_FILE).read_text())["max_steps"] == 1000
    # Provider options are part of what the run is: a zoomed odin run is not the same run.
    with pytest.raises(ValueError, match="perception_options"):
        ResultsWriter(run, dict(CONFIG, perception_options={"zoom_tiles": 2}), resume=True)


def test_repeated_instance_id_keeps_the_last(tmp_path):
    run = tmp_path / "run"
    write_run(run, [episode("g1.tfd", success=False, left_open=4), episode("g2.tfd"),
                    episode("g1.tfd", success=True)])
    records = load_records(run)
    assert [r["instance_id"] for r in records] == ["g1.tfd", "g2.tfd"]
    assert records[0]["success"] == 1
    assert json.loads((run / SUMMARY_JSON).read_text())["success"]["num_evals"] == 2


# --- summary --------------------------------------------------------------------------------------------------------

def test_summary_equals_aggregate_metrics_and_hand_computed_numbers(tmp_path):
    run = tmp_path / "run"
    records = hand_records()
    writer = ResultsWriter(run, CONFIG)
    for record in records:
        writer.append(record)
    summary = writer.write_summary()

    assert json.loads((run / SUMMARY_JSON).read_text()) == summary
    expected = aggregate_metrics(records)
    assert {key: summary[key] for key in expected} == expected
    # By hand: SR 2/4; GC (4+2+2+0)/(4+4+2+2); weights 10+10+20+20 = 60; PLW-SR (10*1/2 + 20*1)/60;
    # PLW-GC (10*1/2 + 10*1/2 + 20*1 + 0)/60.
    assert summary["success"] == {"num_successes": 2, "num_evals": 4, "success_rate": 0.5}
    assert summary["goal_condition_success"]["goal_condition_success_rate"] == pytest.approx(8 / 12)
    assert summary["path_length_weighted_success_rate"] == pytest.approx(25 / 60)
    assert summary["path_length_weighted_goal_condition_success_rate"] == pytest.approx(30 / 60)
    assert summary["num_fails_by_error"] == 1
    assert summary["counts"] == {"episodes": 4, "errors": 1}
    assert summary["cost"] == {"median_wall_time_s": 2.5, "median_cpu_time_s": 1.25, "mean_steps": 11.25}

    markdown = (run / SUMMARY_MD).read_text()
    assert "SR | 50.0% (2/4)" in markdown
    assert "66.7% (8/12 goal conditions)" in markdown
    assert "41.7%" in markdown and "| Plate Of Toast | 2 |" in markdown
    assert "Errors (exception during the episode, scored as is): 1" in markdown


def test_summary_per_family_split():
    summary = summarize(hand_records())
    assert list(summary["per_task"]) == ["Coffee", "Plate Of Toast"]
    coffee, toast = summary["per_task"]["Coffee"], summary["per_task"]["Plate Of Toast"]
    assert coffee == aggregate_metrics(hand_records()[:2])
    assert coffee["success"]["success_rate"] == 0.5
    assert coffee["goal_condition_success"]["goal_condition_success_rate"] == pytest.approx(6 / 8)
    assert coffee["path_length_weighted_success_rate"] == pytest.approx(5 / 20)
    assert toast["goal_condition_success"]["goal_condition_success_rate"] == pytest.approx(2 / 4)
    assert toast["path_length_weighted_success_rate"] == pytest.approx(20 / 40)
    assert toast["num_fails_by_error"] == 1


def test_empty_summary():
    summary = summarize([])
    assert summary["success"]["success_rate"] == 0.0 and summary["per_task"] == {}
    assert summary["counts"] == {"episodes": 0, "errors": 0}
    assert summary["cost"]["median_wall_time_s"] is None
    assert set(RECORD_FIELDS) >= {"instance_id", "task", "error_message"}


# --- bootstrap ------------------------------------------------------------------------------------------------------

def test_bootstrap_interval_contains_point_and_is_degenerate_when_all_succeed():
    rates = bootstrap_rates(hand_records(), resamples=300, seed=0)
    for name, (point, lo, hi) in rates.items():
        assert lo <= point <= hi, name
    assert rates["SR"][1] < rates["SR"][2]
    perfect = [episode(f"p{i}.tfd", gt=5, traj=5) for i in range(6)]
    for name, (point, lo, hi) in bootstrap_rates(perfect, resamples=300, seed=0).items():
        assert point == lo == hi == 1.0, name
    assert bootstrap_rates(hand_records(), 300, seed=1) == bootstrap_rates(hand_records(), 300, seed=1)


def test_bootstrap_follows_aggregate_rules_when_no_conditions_were_open():
    # Every total 0: GC falls back to the mean per-episode goal_condition_success, as aggregate_metrics does.
    vacuous = [episode("v1.tfd", open_conditions=0), new_traj_metrics("v2.tfd", "v2")]
    point, lo, hi = bootstrap_rates(vacuous, resamples=200, seed=0)["GC"]
    assert point == pytest.approx(0.5) and 0.0 <= lo <= point <= hi <= 1.0


# --- compare CLI ----------------------------------------------------------------------------------------------------

@pytest.fixture
def two_runs(tmp_path):
    perfect = tmp_path / "perfect"
    write_run(perfect, [episode("g1.tfd", "Coffee"), episode("g2.tfd", "Coffee"),
                        episode("g3.tfd", "Plate Of Toast", open_conditions=2)])
    mixed = tmp_path / "mixed"
    write_run(mixed, hand_records(), config=dict(CONFIG, perception="odin"))
    return perfect, mixed


def read_csv(path) -> dict[str, dict]:
    with open(path, newline="") as handle:
        return {row["run"]: row for row in csv.DictReader(handle)}


def test_compare_writes_md_csv_png(two_runs, tmp_path, capsys):
    perfect, mixed = two_runs
    out = tmp_path / "cmp"
    assert compare_main([str(perfect), str(mixed), "--out", str(out), "--bootstrap", "300"]) == 0
    captured = capsys.readouterr()
    assert "different instance sets" in captured.err
    for name in ("comparison.md", "comparison.csv", "comparison_per_family.csv", "comparison.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = read_csv(out / "comparison.csv")
    assert set(rows) == {"perfect", "mixed"}
    assert rows["perfect"]["N"] == "3" and rows["mixed"]["N"] == "4"
    assert float(rows["perfect"]["SR"]) == float(rows["perfect"]["SR_lo"]) == float(rows["perfect"]["SR_hi"]) == 1.0
    for rate in ("SR", "GC", "PLW-SR", "PLW-GC"):
        lo, point, hi = (float(rows["mixed"][f"{rate}{suffix}"]) for suffix in ("_lo", "", "_hi"))
        assert lo <= point <= hi, rate
    assert float(rows["mixed"]["SR"]) == 0.5 and float(rows["mixed"]["PLW-SR"]) == pytest.approx(25 / 60)
    markdown = (out / "comparison.md").read_text()
    assert "| perfect | 3 | 100.0 [100.0, 100.0]" in markdown
    assert "| Plate Of Toast | 100.0% (1/1) | 50.0% (1/2) |" in markdown
    assert "odin" in markdown and "# Run comparison" in captured.out


def test_compare_common_only(two_runs, tmp_path, capsys):
    perfect, mixed = two_runs
    out = tmp_path / "cmp"
    assert compare_main([str(perfect), str(mixed), "--out", str(out), "--bootstrap", "100", "--common-only"]) == 0
    captured = capsys.readouterr()
    assert "3 instance ids present in all 2 runs" in captured.err
    assert "different instance sets" not in captured.err
    rows = read_csv(out / "comparison.csv")
    assert rows["perfect"]["N"] == rows["mixed"]["N"] == "3"
    assert float(rows["mixed"]["SR"]) == pytest.approx(2 / 3)


def test_compare_missing_or_empty_dir_exits_2(two_runs, tmp_path, capsys):
    perfect, _ = two_runs
    missing = tmp_path / "nope"
    assert compare_main([str(perfect), str(missing), "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(missing) in err
    bare = tmp_path / "bare"
    bare.mkdir()
    assert compare_main([str(bare), "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert str(bare) in err and EPISODES_FILE in err
    assert not (tmp_path / "cmp").exists()


def test_compare_help_exits_0(capsys):
    with pytest.raises(SystemExit) as caught:
        compare_main(["--help"])
    assert caught.value.code == 0
    assert "--common-only" in capsys.readouterr().out
