"""TEACh file formats: fixtures load, every format round-trips, malformed files give one clear error."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from episodes import (EpisodeFormatError, driver_action_record, load_actions, load_edh_instance, load_game,
                      load_split, load_tfd_instance, make_edh_instance, make_game, make_tfd_instance, task_record,
                      write_edh_instance, write_game, write_tfd_instance)
from episodes.dataset import edh_path, game_path, tfd_path

FIXTURES = Path(__file__).parent / "fixtures" / "teach"
COFFEE_GAME = FIXTURES / "games" / "valid_seen" / "fx_coffee_0001.game.json"
COFFEE_EDH = FIXTURES / "edh_instances" / "valid_seen" / "fx_coffee_0001.edh0.json"
COFFEE_TFD = FIXTURES / "tfd_instances" / "valid_seen" / "fx_coffee_0001.tfd.json"


def _raw(path: Path) -> dict:
    return json.loads(path.read_text())


def _write_raw(data, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


# ---------------------------------------------------------------- actions


def test_action_table_matches_teach_ids_and_idx():
    table = load_actions()
    assert len(table.actions) == 36
    assert table.by_id(206).name == "Slice" and table.by_id(206).idx == 21
    assert table.by_name("Navigation").action_id == 300 and table.by_name("Navigation").idx == 14
    assert table.by_idx(33).name == "Text"
    assert table.by_id(2).pose_delta == (0.25, 0, 0, 0, 0, 0)
    with pytest.raises(KeyError, match="999"):
        table.by_id(999)


def test_driver_action_record_keys_follow_teach():
    pickup = driver_action_record(200, 12.5, "Mug|1|2|3", 0.4, 0.6)
    assert pickup == {"action_id": 200, "action_name": "Pickup", "action_idx": 15, "time_start": 12.5,
                      "obj_interaction_action": 1, "oid": "Mug|1|2|3", "x": 0.4, "y": 0.6}
    forward = driver_action_record(2, 1.0, "ignored", 0.1, 0.1)
    assert forward["obj_interaction_action"] == 0 and forward["oid"] is None and forward["x"] is None


# ---------------------------------------------------------------- fixtures load


def test_fixture_game_loads_and_covers_every_action_id():
    game = load_game(COFFEE_GAME)
    assert game.game_id == "fx_coffee_0001"
    assert game.task_id == 102 and game.task_name == "Coffee" and game.task_params == []
    assert game.world == "FloorPlan12" and game.world_type == "Kitchen"
    assert {i["action_id"] for i in game.interactions} == set(load_actions().ids)
    assert game.utterances()[0] == ("Commander", "Please make a coffee in a clean mug.")
    assert game.final_state is not None and len(game.initial_state["objects"]) == 4


def test_fixture_instances_load():
    edh = load_edh_instance(COFFEE_EDH)
    assert edh.instance_id == "fx_coffee_0001.edh0" and edh.game_id == "fx_coffee_0001"
    assert edh.expected_init_goal_conditions == (8, 4)
    assert len(edh.driver_action_history) == 2 and len(edh.driver_actions_future) == 11
    assert set(edh.state_changes["objects"]) == {"Mug|+00.50|+00.90|-01.50", "CoffeeMachine|+01.00|+00.90|-01.75"}
    tfd = load_tfd_instance(COFFEE_TFD)
    assert tfd.instance_id == "fx_coffee_0001.tfd" and tfd.driver_action_history == []
    assert len(tfd.driver_actions_future) == 13


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("kind,source,loader,writer,locate", [
    ("games", COFFEE_GAME, load_game, write_game, lambda root, obj: game_path(root, "valid_seen", obj.game_id)),
    ("edh", COFFEE_EDH, load_edh_instance, write_edh_instance,
     lambda root, obj: edh_path(root, "valid_seen", obj.instance_id)),
    ("tfd", COFFEE_TFD, load_tfd_instance, write_tfd_instance,
     lambda root, obj: tfd_path(root, "valid_seen", obj.game_id)),
])
def test_every_format_round_trips(tmp_path, kind, source, loader, writer, locate):
    original = loader(source)
    written = writer(original, tmp_path, "valid_seen")
    assert written == locate(tmp_path, original)
    assert _raw(written) == _raw(source)
    again = loader(written)
    assert again.to_dict() == original.to_dict()


def test_builders_write_the_teach_layout(tmp_path):
    game = load_game(COFFEE_GAME)
    built = make_game("g_new", task_record(108, ["2", "Tomato", "on", "Plate"]), "FloorPlan3", "Kitchen",
                      game.initial_state, game.interactions[:5], game.final_state)
    assert built.task_name == "N Slices Of X In Y" and built.task["task_params"] == ["2", "Tomato", "on", "Plate"]
    assert built.episode["commander_embodied"] == "False"
    assert list(built.to_dict()) == ["version", "task_type", "comments", "definitions", "tasks"]
    path = write_game(built, tmp_path, "train")
    assert path == tmp_path / "games" / "train" / "g_new.game.json"
    assert load_game(path).task["components"]["Plate"]["task"]["task_name"] == "Clean X"

    future = [driver_action_record(2, 1.0), driver_action_record(200, 2.0, "Tomato|1|1|1", 0.5, 0.5)]
    edh = make_edh_instance("g_new", 3, [("Commander", "slice a tomato")], [], [], future, ["a.jpeg", "b.jpeg"],
                            [], 0, {}, {}, {"agents": {}, "objects": {}}, 4, 1)
    assert write_edh_instance(edh, tmp_path, "train").name == "g_new.edh3.json"
    assert load_edh_instance(tmp_path / "edh_instances" / "train" / "g_new.edh3.json").dialog_history == [
        ["Commander", "slice a tomato"]]
    tfd = make_tfd_instance("g_new", [("Commander", "slice a tomato")], future, ["a.jpeg", "b.jpeg"])
    assert write_tfd_instance(tfd, tmp_path, "train").name == "g_new.tfd.json"


# ---------------------------------------------------------------- malformed inputs


def _broken_game(tmp_path, mutate) -> Path:
    data = _raw(COFFEE_GAME)
    mutate(data)
    return _write_raw(data, tmp_path / "games" / "valid_seen" / "broken.game.json")


@pytest.mark.parametrize("mutate,field,message", [
    (lambda d: d["tasks"][0]["episodes"][0].pop("world"), "tasks[0].episodes[0].world", "missing"),
    (lambda d: d["tasks"][0]["episodes"][0]["interactions"][2].update(time_start="soon"),
     "tasks[0].episodes[0].interactions[2].time_start", "expected integer or number, got str"),
    (lambda d: d["tasks"][0]["episodes"][0]["interactions"][3].update(action_id=999),
     "tasks[0].episodes[0].interactions[3].action_id", "unknown action id 999"),
    (lambda d: d["tasks"][0]["episodes"][0]["interactions"][8].pop("oid"),
     "tasks[0].episodes[0].interactions[8].oid", "missing"),
    (lambda d: d["tasks"][0].update(task_params=["Mug"]), "tasks[0].task_params", "task_nparams is 0"),
    (lambda d: d.pop("definitions"), "definitions", "missing"),
    (lambda d: d["tasks"][0]["episodes"][0]["interactions"][5].update(pose=[1, 2, 3]),
     "tasks[0].episodes[0].interactions[5].pose", "expected 6 numbers"),
    (lambda d: d["tasks"][0]["episodes"][0].update(world="FloorPlan999"), "tasks[0].episodes[0].world",
     "outside 1-30"),
    (lambda d: d["tasks"][0]["episodes"][0]["interactions"][8].update(x=7.5),
     "tasks[0].episodes[0].interactions[8].x", "in [0, 1], got 7.5"),
    (lambda d: d["tasks"][0]["episodes"][0]["interactions"][2].update(time_start=float("nan")),
     "tasks[0].episodes[0].interactions[2].time_start", "finite number"),
    (lambda d: d["tasks"][0]["episodes"][0]["initial_state"]["objects"][1].update(position={"x": "1", "y": 0, "z": 0}),
     "tasks[0].episodes[0].initial_state.objects[1].position", "x must be a finite number"),
    (lambda d: d["tasks"][0]["episodes"][0]["initial_state"]["objects"][0].pop("position"),
     "tasks[0].episodes[0].initial_state.objects[0].position", "expected a dict"),
    (lambda d: d["tasks"][0]["episodes"][0]["final_state"].update(agents=[]),
     "tasks[0].episodes[0].final_state.agents", "empty"),
    (lambda d: d["tasks"][0]["episodes"][0]["initial_state"]["agents"][1]["position"].update(z=float("nan")),
     "tasks[0].episodes[0].initial_state.agents[1].position", "z must be a finite number"),
])
def test_malformed_game_names_file_and_field(tmp_path, mutate, field, message):
    path = _broken_game(tmp_path, mutate)
    with pytest.raises(EpisodeFormatError) as caught:
        load_game(path)
    assert caught.value.field == field
    assert message in caught.value.message
    assert str(path) in str(caught.value) and field in str(caught.value)


def test_truncated_file_is_a_clear_error(tmp_path):
    text = COFFEE_GAME.read_text()
    path = tmp_path / "cut.game.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(EpisodeFormatError, match="not valid JSON") as caught:
        load_game(path)
    assert caught.value.field == "<file>" and caught.value.path == str(path)


def test_binary_file_is_a_clear_error(tmp_path):
    path = tmp_path / "blob.game.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe" + bytes(range(256)))
    with pytest.raises(EpisodeFormatError, match="not a UTF-8 text file") as caught:
        load_game(path)
    assert caught.value.field == "<file>" and caught.value.path == str(path)


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d.pop("instance_id"), "instance_id"),
    (lambda d: d["driver_actions_future"][0].update(x=-0.5), "driver_actions_future[0].x"),
    (lambda d: d["driver_actions_future"][0].update(action_id=777), "driver_actions_future[0].action_id"),
    (lambda d: d["driver_action_history"][1].update(action_name="Backward"), "driver_action_history[1].action_name"),
    (lambda d: d.update(dialog_history=[["Commander"]]), "dialog_history[0]"),
    (lambda d: d.update(pred_start_idx="3"), "pred_start_idx"),
    (lambda d: d.update(expected_init_goal_conditions_total=2.5), "expected_init_goal_conditions_total"),
    (lambda d: d.update(instance_id="other.edh0"), "instance_id"),
])
def test_malformed_edh_instance_names_field(tmp_path, mutate, field):
    data = _raw(COFFEE_EDH)
    mutate(data)
    path = _write_raw(data, tmp_path / COFFEE_EDH.name)
    with pytest.raises(EpisodeFormatError) as caught:
        load_edh_instance(path)
    assert caught.value.field == field and caught.value.path == str(path)


def test_malformed_tfd_instance_names_field(tmp_path):
    data = _raw(COFFEE_TFD)
    data["dialog_history"] = "hello"
    path = _write_raw(data, tmp_path / COFFEE_TFD.name)
    with pytest.raises(EpisodeFormatError, match="expected list") as caught:
        load_tfd_instance(path)
    assert caught.value.field == "dialog_history"


def test_split_load_skips_bad_files_and_records_why(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "data")
    root = tmp_path / "data"
    bad = copy.deepcopy(_raw(COFFEE_GAME))
    bad["tasks"][0]["episodes"][0]["interactions"][0]["action_id"] = 4242
    _write_raw(bad, root / "games" / "valid_seen" / "bad_one.game.json")
    (root / "games" / "valid_seen" / "cut.game.json").write_text('{"tasks": [')
    report = load_split(root, "games", "valid_seen")
    assert [g.game_id for g in report.items] == ["fx_coffee_0001"]
    reasons = {Path(s.path).name: s for s in report.skipped}
    assert set(reasons) == {"bad_one.game.json", "cut.game.json"}
    assert reasons["bad_one.game.json"].field == "tasks[0].episodes[0].interactions[0].action_id"
    assert reasons["cut.game.json"].field == "<file>"
    assert load_split(root, "games", "test_unseen").items == []
    with pytest.raises(ValueError, match="unknown split"):
        load_split(root, "games", "validation")
