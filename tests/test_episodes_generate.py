"""The embedded episode generator: a tiny valid_unseen set written, loaded, solved, replayed and regenerated.

Games 0 (Coffee, a kitchen task) and 6 (Put All X On Y, any room) of valid_unseen with seed 0 keep the run short;
every family is exercised by the generator's own run (see the report), not here.
"""

from __future__ import annotations

import json

import pytest

from envs.scenes import floorplans
from episodes.checker import goal_conditions, state_objects
from episodes.dataset import load_split
from episodes.language import DIALOGUE_ACTS, names_of
from episodes.expert import MOTIONS, OBJECT_ACTIONS
from episodes.generate import _run_job, game_id_for, generate_game, main, write_generated
from episodes.replay import replay_game, state_differences

SPLIT, SEED, INDICES = "valid_unseen", 0, (0, 6)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("teach_gen")
    for index in INDICES:
        write_generated(generate_game(SPLIT, SEED, index), root, SPLIT)
    return root


@pytest.fixture(scope="module")
def games(data):
    report = load_split(data, "games", SPLIT)
    assert not report.skipped, report.skipped
    return {g.game_id: g for g in report.items}


def test_every_file_loads_and_validates(data, games):
    assert set(games) == {game_id_for(SPLIT, SEED, i) for i in INDICES}
    tfd = load_split(data, "tfd_instances", SPLIT)
    edh = load_split(data, "edh_instances", SPLIT)
    assert not tfd.skipped and not edh.skipped
    assert {t.game_id for t in tfd.items} == set(games)
    families = {g.task_name for g in games.values()}
    assert families == {"Coffee", "Put All X On Y"}
    for instance in edh.items:
        game = games[instance.game_id]
        history, future = instance.driver_action_history, instance.driver_actions_future
        driver = [i for i in game.interactions if i["agent_id"] == 1 and "utterance" not in i]
        assert len(history) + len(future) == len(driver) and history and future
        assert len(instance.data["driver_image_history"]) == len(history)
        assert instance.state_changes["objects"], "an EDH instance whose future changes nothing was kept"
        total, satisfied = instance.expected_init_goal_conditions
        assert 0 <= satisfied < total
        assert instance.dialog_history[-1][0] == "Commander"  # cuts are made at Commander turns


def test_expert_solved_every_game_and_acts_only_by_teach_actions(games):
    allowed = set(MOTIONS) | set(OBJECT_ACTIONS)
    names = {a["action_id"]: a["action_name"] for a in next(iter(games.values())).data["definitions"]["actions"]}
    for game in games.values():
        start = goal_conditions(game.task_id, game.task_params, state_objects(game.initial_state))
        end = goal_conditions(game.task_id, game.task_params, state_objects(game.final_state))
        assert end.success and not start.success, game.game_id
        driver = [i for i in game.interactions if i["agent_id"] == 1 and "utterance" not in i]
        assert driver and {names[i["action_id"]] for i in driver} <= allowed
        for interaction in driver:
            if names[interaction["action_id"]] in OBJECT_ACTIONS:
                assert 0 <= interaction["x"] <= 1 and 0 <= interaction["y"] <= 1
                # a click beside the target resolves to nothing: TEACh logs it failed, with a null oid
                assert bool(interaction["oid"]) == bool(interaction["success"])
            else:
                assert len(interaction["pose"]) == 6
        assert game.initial_state["agents"][1]["cameraHorizon"] == pytest.approx(30)


def test_replay_reproduces_the_final_state(games):
    for game in games.values():
        replayed = replay_game(game)
        assert state_differences(game.final_state, replayed) == []


def test_replay_notices_a_changed_click(games):
    game = next(g for g in games.values() if g.task_name == "Coffee")
    tampered = json.loads(json.dumps(game.data))
    episode = tampered["tasks"][0]["episodes"][0]
    clicks = [i for i in episode["interactions"] if "x" in i and i["agent_id"] == 1]
    clicks[-1]["x"], clicks[-1]["y"] = 0.0, 0.0  # the corner of the frame: the coffee machine is never there
    from episodes.formats import Game

    with pytest.raises(RuntimeError, match="against the record"):
        replay_game(Game(game.game_id, tampered))


def test_same_seed_gives_identical_json(games):
    again = generate_game(SPLIT, SEED, INDICES[1])
    assert json.dumps(again.game.to_dict(), sort_keys=True) == json.dumps(
        games[game_id_for(SPLIT, SEED, INDICES[1])].to_dict(), sort_keys=True)


def test_valid_unseen_games_use_only_valid_unseen_floorplans(games):
    allowed = set(floorplans(SPLIT))
    assert allowed.isdisjoint(floorplans("train"))
    assert {g.world for g in games.values()} <= allowed


def test_dialogue_names_the_task_objects_with_teach_dialogue_fields(data, games):
    for game in games.values():
        utterances = [i for i in game.interactions if "utterance" in i]
        assert {i["agent_id"] for i in utterances} == {0, 1}
        text = " ".join(i["corrected_utterance"] for i in utterances).lower()
        if game.task_name == "Coffee":
            assert "coffee" in text
        else:
            what, where = game.task_params[0], game.task_params[2]
            assert any(n in text for n in names_of(what)) and any(n in text for n in names_of(where))
        for i in utterances:
            das = i["da_metadata"]["das"]
            assert len(das) == 3 and len(i["da_metadata"]["text_segments"]) == 3
            assert {a for a in das if a} <= set(DIALOGUE_ACTS) and das[0]
    for instance in load_split(data, "edh_instances", SPLIT).items:
        d = instance.data
        assert len(d["dialog_history_with_das"]) == len(d["dialog_history"])
        assert d["dialog_history_with_das"][-1][1].startswith("<<")
        assert d["history_subgoals"] and d["future_subgoals"] and d["future_subgoals"][1::2]
        assert "Instruction" in d["interactions"][d["pred_start_idx"] - 1]["da_metadata"]["das"]
    for tfd in load_split(data, "tfd_instances", SPLIT).items:
        assert len(tfd.data["dialog_history_with_das"]) == len(tfd.dialog_history)
        assert 0 < len(tfd.data["dialog_history_cleaned"]) <= len(tfd.dialog_history)


def test_rerun_skips_games_on_disk_and_bad_arguments_fail(data, capsys):
    assert _run_job((SPLIT, INDICES[0], SEED, str(data), False, 300, 300))[2] == "already_on_disk"
    assert main(["--split", "valid", "--out", str(data)]) == 2
    assert "--split" in capsys.readouterr().err
    assert main(["--n", "0", "--out", str(data)]) == 2
    assert main(["--workers", "0", "--out", str(data)]) == 2


def test_the_default_set_location_names_the_generator_version(monkeypatch, tmp_path):
    from episodes import default_set

    monkeypatch.delenv("TEACH_EMBEDDED_DATA", raising=False)
    monkeypatch.setattr(default_set, "DATA_VERSION", 7)
    assert default_set.default_root(3, 5).name == "teach_embedded_v7_s3_n5"  # an older generator's set is not reused
    monkeypatch.setenv("TEACH_EMBEDDED_DATA", str(tmp_path))
    assert default_set.default_root() == tmp_path


def test_every_block_of_twelve_games_holds_every_family_in_a_seeded_order():
    from episodes.generate import FAMILY_ORDER, family_order

    blocks = [family_order(SPLIT, 99, block) for block in range(4)]
    assert all(sorted(b) == sorted(FAMILY_ORDER) for b in blocks)
    assert blocks[0] == FAMILY_ORDER  # the first 12 games keep their families: game 0 is Coffee, as before
    assert len({tuple(b) for b in blocks}) == 4 and family_order(SPLIT, 99, 2) == blocks[2]
    assert family_order("train", 99, 1) != blocks[1] and family_order(SPLIT, 98, 1) != blocks[1]


def test_boil_x_is_not_always_a_potato():
    import numpy as np

    from episodes.generate import boilable_types, sample_params

    assert {"Potato", "PotatoSliced", "EggCracked"} <= set(boilable_types())
    kitchen = [{"objectType": t, "pickupable": True, "canFillWithLiquid": False, "isDirty": False}
               for t in ("Pot", "StoveBurner", "SinkBasin", "Mug", "Potato", "Egg", "Knife")]
    drawn = {sample_params("Boil X", kitchen, np.random.default_rng(seed))[0] for seed in range(40)}
    assert drawn == {"Potato", "PotatoSliced", "EggCracked"}
    no_knife = [o for o in kitchen if o["objectType"] != "Knife"]
    assert {sample_params("Boil X", no_knife, np.random.default_rng(s))[0] for s in range(20)} == {"Potato"}


def test_train_games_use_layout_variants_and_evaluation_splits_never_do():
    import numpy as np

    from envs.scenes import parse_scene
    from episodes.generate import layout_for

    rng = np.random.default_rng(0)
    train = {layout_for("train", "FloorPlan5", rng) for _ in range(30)}
    assert train == {"FloorPlan5", "FloorPlan5_v1", "FloorPlan5_v2"}
    assert all(parse_scene(s).floorplan == "FloorPlan5" for s in train)
    assert {layout_for(SPLIT, "FloorPlan10", rng) for _ in range(10)} == {"FloorPlan10"}
