"""The generators over worker processes write the serial run's files, and sweep what a killed run left half-written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from episodes.generate import generate
from perception import make_dataset


def tree(root: Path, hide: str = "") -> dict[str, bytes]:
    """Every file under ``root`` by relative path, with ``hide`` (e.g. the output path itself) blanked out."""
    return {str(p.relative_to(root)): p.read_bytes().replace(hide.encode(), b"OUT") if hide else p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


def test_two_workers_write_the_serial_dataset_and_sweep_a_killed_runs_partials(tmp_path, capsys):
    common = ["--scenes", "FloorPlan1", "FloorPlan10", "--views", "3", "--width", "48", "--height", "40"]
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert make_dataset.main(common + ["--out", str(serial)]) == 0
    leftover = parallel / "train" / f".FloorPlan1.partial-{dead_pid()}"  # a sequence cut short by a kill
    (leftover / "color").mkdir(parents=True)
    (leftover / "color" / "0.jpg").write_bytes(b"half a jpeg")
    assert make_dataset.main(common + ["--out", str(parallel), "--workers", "2", "--scene-timeout", "300"]) == 0
    assert not leftover.exists()
    mine, reference = tree(parallel, str(parallel)), tree(serial, str(serial))
    assert mine.keys() == reference.keys() and len(mine) > 20
    assert mine == reference  # commands recorded without --workers / --scene-timeout
    with pytest.raises(SystemExit) as stopped:
        make_dataset.main(common + ["--out", str(parallel), "--workers", "0"])
    assert stopped.value.code == 2 and "--workers must be >= 1" in capsys.readouterr().err


def test_games_made_by_a_worker_process_equal_the_serial_ones(tiny_teach_data, tmp_path):
    summaries = generate(["valid_unseen"], 1, seed=0, out=tmp_path, workers=2, progress=False, timeout=600)
    assert summaries[0]["written"] == 1 and not summaries[0]["failed_games"]
    assert tree(tmp_path) == tree(tiny_teach_data)  # the fixture was made serially, in this process
