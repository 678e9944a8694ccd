"""TEACh's metric formulas on hand-computed examples, and EDH/TfD scoring of the fixture episode."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from episodes import (EpisodeFormatError, aggregate_by_split, aggregate_metrics, evaluate_traj, load_edh_instance,
                      load_game, load_tfd_instance, metrics_file, new_traj_metrics, score_edh, score_tfd)
from episodes.checker import state_objects
from episodes.metrics import TRAJ_FIELDS

FIXTURES = Path(__file__).parent / "fixtures" / "teach"
GAME = FIXTURES / "games" / "valid_seen" / "fx_coffee_0001.game.json"
EDH = FIXTURES / "edh_instances" / "valid_seen" / "fx_coffee_0001.edh0.json"
TFD = FIXTURES / "tfd_instances" / "valid_seen" / "fx_coffee_0001.tfd.json"


def record(instance_id: str, **metrics) -> dict:
    entry = new_traj_metrics(instance_id, instance_id.split(".")[0])
    entry.update(metrics)
    return entry


def test_evaluate_traj_success_with_a_long_trajectory():
    # 4 conditions open at the start, all done; the agent took 20 steps where the expert took 10.
    m = evaluate_traj(True, gt_path_len=10, traj_len=20, init_gc_total=8, init_gc_satisfied=4, final_gc_total=8,
                      final_gc_satisfied=8)
    assert m["completed_goal_conditions"] == 4 and m["total_goal_conditions"] == 4
    assert m["goal_condition_success"] == 1.0
    assert m["success_spl"] == pytest.approx(0.5) and m["goal_condition_spl"] == pytest.approx(0.5)
    assert m["path_len_weighted_success_spl"] == pytest.approx(5.0)
    assert m["path_len_weighted_goal_condition_spl"] == pytest.approx(5.0)
    assert (m["gt_path_len"], m["traj_len"], m["success"]) == (10, 20, 1)


def test_evaluate_traj_partial_with_a_short_trajectory():
    # 4 open at the start, 3 still open at the end: GC = 1 - 3/4; a shorter path than the expert's is not rewarded.
    m = evaluate_traj(False, 10, 5, 6, 2, 6, 3)
    assert m["goal_condition_success"] == pytest.approx(0.25) and m["completed_goal_conditions"] == 1
    assert m["success_spl"] == 0.0 and m["goal_condition_spl"] == pytest.approx(0.25)
    assert m["path_len_weighted_goal_condition_spl"] == pytest.approx(2.5)


def test_evaluate_traj_caps_and_edge_cases():
    # satisfied above total is capped: nothing open at the start gives GC 1 (TEACh's rule)
    assert evaluate_traj(False, 3, 3, 2, 5, 2, 0)["goal_condition_success"] == 1.0
    # undoing conditions makes GC negative, as in TEACh
    undone = evaluate_traj(False, 4, 4, 4, 3, 4, 1)
    assert undone["goal_condition_success"] == pytest.approx(-2.0) and undone["completed_goal_conditions"] == -2
    # no expert path and no steps: TEACh divides by zero; here the length ratio is 1 and weights are 0
    empty = evaluate_traj(True, 0, 0, 2, 0, 2, 2)
    assert empty["success_spl"] == 1.0 and empty["path_len_weighted_success_spl"] == 0.0


def test_aggregate_matches_hand_computation():
    stats = [
        record("a.edh0", **evaluate_traj(True, 10, 20, 8, 4, 8, 8), num_api_fails=30, predicted_stop=1),
        # (traj_len overwritten afterwards: only the limit count should see it)
        record("b.edh1", **{**evaluate_traj(False, 10, 5, 6, 2, 6, 3), "traj_len": 1000}, error=1),
    ]
    summary = aggregate_metrics(stats)
    assert summary["success"] == {"num_successes": 1, "num_evals": 2, "success_rate": 0.5}
    assert summary["goal_condition_success"] == {"completed_goal_conditions": 5, "total_goal_conditions": 8,
                                                 "goal_condition_success_rate": pytest.approx(5 / 8)}
    assert summary["path_length_weighted_success_rate"] == pytest.approx(5.0 / 20)
    assert summary["path_length_weighted_goal_condition_success_rate"] == pytest.approx((5.0 + 2.5) / 20)
    assert (summary["num_predicted_stops"], summary["num_fails_by_api_limit"], summary["num_fails_by_traj_len_limit"],
            summary["num_fails_by_error"]) == (1, 1, 1, 1)
    # An unscored instance keeps the zero template: it counts in the success rate, not in GC or PLW denominators.
    with_failed_init = aggregate_metrics(stats + [record("c.edh0")])
    assert with_failed_init["success"]["success_rate"] == pytest.approx(1 / 3)
    assert with_failed_init["goal_condition_success"]["goal_condition_success_rate"] == pytest.approx(5 / 8)
    assert with_failed_init["path_length_weighted_success_rate"] == pytest.approx(0.25)


def test_aggregate_empty_split_and_zero_totals():
    empty = aggregate_metrics([])
    assert empty["success"] == {"num_successes": 0, "num_evals": 0, "success_rate": 0.0}
    assert empty["goal_condition_success"]["goal_condition_success_rate"] == 0.0
    assert empty["path_length_weighted_success_rate"] == 0.0
    # Nothing open anywhere: the mean per-episode GC (1 for the vacuous episode, 0 for the unscored one).
    vacuous = [record("a.edh0", **evaluate_traj(True, 2, 2, 3, 3, 3, 3)), record("b.edh0")]
    assert aggregate_metrics(vacuous)["goal_condition_success"]["goal_condition_success_rate"] == pytest.approx(0.5)


def test_aggregate_keeps_one_record_per_instance_and_splits():
    first = record("a.edh0", **evaluate_traj(False, 5, 5, 2, 0, 2, 2))
    rerun = record("a.edh0", **evaluate_traj(True, 5, 5, 2, 0, 2, 0))
    assert aggregate_metrics([first, rerun])["success"]["num_evals"] == 1
    by_split = aggregate_by_split({"valid_seen": [rerun], "valid_unseen": []})
    assert by_split["valid_seen"]["success"]["success_rate"] == 1.0
    assert by_split["valid_unseen"]["success"]["num_evals"] == 0
    payload = metrics_file([first])
    assert payload["traj_stats"]["a.edh0"] is not None and payload["success"]["num_evals"] == 1


def test_score_edh_on_the_fixture():
    game, edh = load_game(GAME), load_edh_instance(EDH)
    done = score_edh(edh, state_objects(game.final_state), traj_len=22, predicted_stop=True,
                     pred_actions=[{"action": "Forward", "obj_relative_coord": None}])
    assert set(TRAJ_FIELDS) <= set(done)
    assert (done["success"], done["completed_goal_conditions"], done["total_goal_conditions"]) == (1, 4, 4)
    # expert future 11 steps, agent 22: half the path-length credit
    assert done["success_spl"] == pytest.approx(0.5) and done["path_len_weighted_success_spl"] == pytest.approx(5.5)
    assert done["predicted_stop"] == 1 and done["instance_id"] == "fx_coffee_0001.edh0"
    nothing = score_edh(edh, state_objects(game.initial_state), traj_len=3)
    assert (nothing["success"], nothing["completed_goal_conditions"], nothing["goal_condition_success"]) == (0, 0, 0.0)


def test_score_edh_needs_state_changes():
    edh = load_edh_instance(EDH)
    stripped = copy.deepcopy(edh)
    del stripped.data["state_changes"]
    with pytest.raises(EpisodeFormatError, match="state_changes"):
        score_edh(stripped, [], traj_len=0)


def test_score_tfd_on_the_fixture():
    game, tfd = load_game(GAME), load_tfd_instance(TFD)
    # Coffee: the dirty, empty mug meets 1 of 3 conditions at the start; the final state meets all.
    done = score_tfd(game, tfd, state_objects(game.final_state), traj_len=13)
    assert (done["success"], done["completed_goal_conditions"], done["total_goal_conditions"]) == (1, 2, 2)
    assert done["success_spl"] == 1.0 and done["path_len_weighted_success_spl"] == pytest.approx(13.0)
    half = copy.deepcopy(game.final_state)
    half["objects"][3]["isDirty"] = True
    partial = score_tfd(game, tfd, state_objects(half), traj_len=26)
    assert (partial["success"], partial["goal_condition_success"]) == (0, pytest.approx(0.5))
    assert partial["goal_condition_spl"] == pytest.approx(0.25)
