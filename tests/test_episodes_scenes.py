"""Scenes that differ per game (issue 14 item 4): objects left out or duplicated in a game's initial state, and the
embedded world honouring such a state as AI2-THOR's ``SetObjectPoses`` does (left out = removed, a repeated name
with "(Copy)" = a duplicate)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from envs import make_env
from episodes.generate import TASK_TYPES, vary_objects


@pytest.fixture(scope="module")
def kitchen_state():
    with make_env(width=96, height=96, seed=0) as env:
        env.reset(scene="FloorPlan10")
        yield env.export_state()


def test_varied_states_remove_only_non_task_objects_and_name_copies_as_ai2thor(kitchen_state):
    ids = {o["objectId"] for o in kitchen_state["objects"]}
    removed_types, copied_types, counts = set(), set(), set()
    for seed in range(20):
        varied, removed, copies = vary_objects(kitchen_state, np.random.default_rng(seed))
        by_id = {o["objectId"]: o for o in varied["objects"]}
        assert not set(removed) & set(by_id) and set(removed) <= ids
        removed_types |= {r.split("|")[0] for r in removed}
        for c in copies:
            assert c not in ids and by_id[c]["name"].endswith("(Copy)")
            original = next(o for o in kitchen_state["objects"] if o["name"] == by_id[c]["name"][:-len("(Copy)")])
            assert original["objectType"] == by_id[c]["objectType"]
            copied_types.add(by_id[c]["objectType"])
        counts.add(len(varied["objects"]))
    assert removed_types and not removed_types & TASK_TYPES
    assert copied_types & TASK_TYPES  # task objects get distractor copies
    assert len(counts) > 3  # object counts differ between games, not only positions
    again = vary_objects(kitchen_state, np.random.default_rng(7))
    assert again == vary_objects(kitchen_state, np.random.default_rng(7))
    assert kitchen_state == copy.deepcopy(kitchen_state)  # the input is left alone


def test_the_embedded_world_removes_left_out_objects_and_spawns_copies(kitchen_state):
    varied, removed, copies = vary_objects(kitchen_state, np.random.default_rng(3))
    assert removed and copies, "seed 3 should both remove and copy; pick another seed if the sampling changed"
    with make_env(width=96, height=96, seed=0) as env:
        event = env.reset(scene="FloorPlan10", initial_state=varied)
        present = {o["objectId"]: o for o in event.metadata["objects"]}
        assert not set(removed) & set(present) and set(copies) <= set(present)
        assert env.unknown_state_objects == []
        event = env.step(action="InitialRandomSpawn", randomSeed=1)
        placed = {o["objectId"]: o for o in event.metadata["objects"]}
        assert all(placed[c]["parentReceptacles"] for c in copies)  # the copies are real objects, placed
        state = env.export_state()
        env.reset(scene="FloorPlan10", initial_state=state)
        assert env.export_state() == state  # removals and copies survive a round trip
        foreign = copy.deepcopy(kitchen_state)  # a state of another world: none of its ids are ours
        for o in foreign["objects"]:
            o["objectId"] = "Alien" + o["objectId"]
        with pytest.warns(UserWarning):
            event = env.reset(scene="FloorPlan10", initial_state=foreign)
        assert len(event.metadata["objects"]) == len(kitchen_state["objects"])  # nothing removed
