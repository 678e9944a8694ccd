"""``python -m episodes.stats`` on the fixture directory and on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from episodes.stats import dataset_stats, main

FIXTURES = Path(__file__).parent / "fixtures" / "teach"


def test_stats_per_split_on_fixtures():
    stats = dataset_stats(FIXTURES)
    assert list(stats) == ["train", "valid_seen"]
    seen = stats["valid_seen"]
    assert seen["games"]["by_task_family"] == {"Coffee": 1}
    assert seen["edh_instances"]["by_task_family"] == {"Coffee": 1}  # family looked up through the game
    assert seen["edh_instances"]["expert_path_length"]["max"] == 11
    assert seen["edh_instances"]["dialogue_length"]["mean"] == 3
    assert seen["tfd_instances"]["expert_path_length"]["min"] == 13
    assert seen["games"]["dialogue_length"]["max"] == 6  # Keyboard + Audio utterances
    assert stats["train"]["games"]["by_task_family"] == {"Water Plant": 1}
    assert stats["train"]["tfd_instances"]["expert_path_length"]["mean"] == 3


def test_cli_prints_counts_and_one_line_per_bad_file(tmp_path, capsys):
    root = tmp_path / "data"
    shutil.copytree(FIXTURES, root)
    truncated = root / "edh_instances" / "valid_seen" / "zz.edh0.json"
    truncated.write_text("{")
    binary = root / "games" / "valid_seen" / "blob.game.json"
    binary.write_bytes(bytes(range(256)))
    assert main([str(root), "--split", "valid_seen"]) == 1
    captured = capsys.readouterr()
    assert "== valid_seen" in captured.out and "== train" not in captured.out
    assert "Coffee" in captured.out and "1 skipped" in captured.out and "zz.edh0.json" in captured.out
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2 and "Traceback" not in captured.err
    assert any(str(binary) in line and "not a UTF-8 text file" in line for line in errors)
    assert any(str(truncated) in line and "not valid JSON" in line for line in errors)
    assert main([str(root), "--json"]) == 1
    parsed = json.loads(capsys.readouterr().out)
    assert parsed["valid_seen"]["edh_instances"]["files"] == 1
    truncated.unlink()
    binary.unlink()
    assert main([str(root)]) == 0


def test_cli_bad_dir_exits_non_zero_with_one_line(tmp_path):
    missing = subprocess.run([sys.executable, "-m", "episodes.stats", str(tmp_path / "nope")],
                             capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert missing.returncode != 0 and missing.stdout == ""
    assert missing.stderr.strip().count("\n") == 0 and "not a directory" in missing.stderr
    assert main([str(tmp_path)]) == 2  # exists, but holds no TEACh layout
    help_text = subprocess.run([sys.executable, "-m", "episodes.stats", "--help"], capture_output=True, text=True,
                               cwd=Path(__file__).parents[1])
    assert help_text.returncode == 0 and "DIR" in help_text.stdout


def test_driver_path_splits_navigation_from_object_interactions():
    """Path figures count a game's Driver actions as motions (TEACh action ids below 100) and object interactions
    (ids 200-212), read here straight from the fixture's JSON."""
    game = json.loads(next((FIXTURES / "games" / "valid_seen").glob("*.game.json")).read_text())
    driver = [i for i in game["tasks"][0]["episodes"][0]["interactions"]
              if i.get("agent_id") == 1 and i["action_id"] not in (100, 101, 102)]  # not Text, Speech, Beep
    objects = sum(200 <= i["action_id"] <= 212 for i in driver)
    figures = dataset_stats(FIXTURES)["valid_seen"]["games"]["driver"]
    assert figures["object_interactions_per_game"]["mean"] == objects > 0
    assert figures["navigation_actions_per_game"]["mean"] == len(driver) - objects > 0
