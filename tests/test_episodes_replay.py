"""``python -m episodes.replay`` on bad games: one line on stderr per game naming the file, no traceback, exit 1."""

from __future__ import annotations

import json
import math

from episodes.dataset import split_files
from episodes.replay import main


def _variant(game_file, out_dir, name, edit):
    data = json.loads(game_file.read_text())
    edit(data["tasks"][0]["episodes"][0])
    path = out_dir / f"{name}.game.json"
    path.write_text(json.dumps(data))
    return path


def _first_driver_click(episode):
    return next(i for i in episode["interactions"] if i.get("agent_id") == 1 and "x" in i)


BAD_GAMES = {
    "bad_world": lambda e: e.update(world="FloorPlan999"),
    "no_positions": lambda e: [o.pop("position") for o in e["initial_state"]["objects"]],
    "nan_agent": lambda e: e["initial_state"]["agents"][1]["position"].update(x=math.nan),
    "agent_outside": lambda e: e["initial_state"]["agents"][1]["position"].update(x=-40.0),
    "no_final_state": lambda e: e.pop("final_state"),
    "click_off_frame": lambda e: _first_driver_click(e).update(x=7.5),
    "diverges": lambda e: next(i for i in e["interactions"] if i.get("agent_id") == 1 and "utterance" not in i)
    .update(success=0),
}


def test_bad_games_give_one_line_each_and_a_non_zero_exit(tiny_teach_data, tmp_path, capsys):
    good = split_files(tiny_teach_data, "games", "valid_unseen")[0]
    bad = [_variant(good, tmp_path, name, edit) for name, edit in BAD_GAMES.items()]
    binary = tmp_path / "binary.game.json"
    binary.write_bytes(bytes(range(256)) * 4)
    truncated = tmp_path / "truncated.game.json"
    truncated.write_text(good.read_text()[:500])
    bad += [binary, truncated]

    assert main([str(path) for path in bad]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err and captured.out == ""
    assert len(lines) == len(bad)
    for path, line in zip(bad, lines):
        assert line.startswith("error: ") and str(path) in line, line
    assert "against the record" in lines[list(BAD_GAMES).index("diverges")]
