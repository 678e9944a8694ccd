"""The expert's human habits (issue 14): wrong containers opened and shut before the right one, asking when lost,
Pan / Backward steps, clicks beside the target that fail and change nothing; all drawn from a seeded stream."""

from __future__ import annotations

import numpy as np
import pytest

from envs import make_env
from episodes.expert import SEARCHED_CONTAINERS, Expert, Habits, Trace

NONE = Habits(search_wrong_container=0, look_around=0, adjust=0, misclick=0)


@pytest.fixture(scope="module")
def env():
    with make_env(width=160, height=160, seed=0) as made:
        yield made


def _expert(env, habits: Habits, seed: int = 0) -> tuple[Expert, list]:
    env.reset(scene="FloorPlan1")
    expert = Expert(env, Trace(), rng=np.random.default_rng(seed), habits=habits)
    said: list = []
    expert.on_milestone = lambda kind, info: said.append((kind, info))
    return expert, said


def _names(expert: Expert) -> list[str]:
    return [a["action_name"] for a in expert.trace.driver_actions]


def _hidden_object(expert: Expert) -> tuple[str, str]:
    """A pickupable object inside a shut cabinet, drawer or fridge, and that container."""
    for o in expert.objects():
        container = expert.closed_container_of(o["objectId"]) if o["pickupable"] else None
        if container is not None and expert.obj(container)["objectType"] in SEARCHED_CONTAINERS:
            return o["objectId"], container
    pytest.skip("FloorPlan1 hides nothing in a container")


def test_a_click_beside_the_target_fails_changes_nothing_then_the_right_click_works(env):
    expert, said = _expert(env, Habits(search_wrong_container=0, look_around=0, adjust=0, misclick=1.0))
    target = next(o["objectId"] for o in expert.objects() if o["pickupable"]
                  and expert.closed_container_of(o["objectId"]) is None)
    expert.fetch(target, announce=False)
    pickups = [i for i in expert.trace.interactions if i["action_id"] == 200]
    assert [(p["success"], p["oid"]) for p in pickups] == [(0, None), (1, target)]
    assert (pickups[0]["x"], pickups[0]["y"]) != (pickups[1]["x"], pickups[1]["y"])
    assert expert.held() == target
    assert ("missed", {"object_id": target}) in said  # the dialogue may remark on it


def test_a_lost_driver_opens_a_wrong_container_shuts_it_and_asks(env):
    expert, said = _expert(env, Habits(search_wrong_container=1.0, second_wrong_container=0, ask_when_lost=1.0,
                                       look_around=0, adjust=0, misclick=0))
    target, container = _hidden_object(expert)
    expert.fetch(target)
    opened = [i["oid"] for i in expert.trace.interactions if i["action_id"] == 202 and i["success"]]
    assert opened[0] != container and opened[-1] == container  # a wrong one first, then the right one
    lost = [info for kind, info in said if kind == "lost"]
    assert lost == [{"object_id": target, "searched_id": opened[0]}]
    assert not expert.obj(opened[0])["isOpen"]  # shut again: the end state does not remember the search
    assert expert.held() == target


def test_no_search_for_an_object_the_commander_has_located(env):
    expert, said = _expert(env, Habits(search_wrong_container=1.0, ask_when_lost=1.0, look_around=0, adjust=0,
                                       misclick=0))
    target, container = _hidden_object(expert)
    expert.told_where.add(target)
    expert.fetch(target)
    opened = [i["oid"] for i in expert.trace.interactions if i["action_id"] == 202]
    assert opened == [container] and not [kind for kind, _ in said if kind == "lost"]


def test_arriving_drivers_pan_or_back_up_and_the_plain_planner_never_does(env):
    habits = Habits(search_wrong_container=0, look_around=0, adjust=1.0, misclick=0)
    seen = set()
    for seed in range(3):
        expert, _ = _expert(env, habits, seed)
        target = max((o for o in expert.objects() if o["pickupable"]
                      and expert.closed_container_of(o["objectId"]) is None), key=lambda o: o["distance"])
        expert.fetch(target["objectId"], announce=False)
        seen |= set(_names(expert)) & {"Pan Left", "Pan Right", "Backward"}
    assert seen
    env.reset(scene="FloorPlan1")
    plain = Expert(env, Trace())  # no rng: no habits at all
    plain.fetch(target["objectId"], announce=False)
    assert not set(_names(plain)) & {"Pan Left", "Pan Right", "Backward"}


def test_habits_are_seeded(env):
    def run(seed):
        expert, said = _expert(env, Habits(), seed)
        target, _ = _hidden_object(expert)
        expert.fetch(target)
        return [(a["action_name"], a["x"], a["y"]) for a in expert.trace.driver_actions], said

    assert run(5) == run(5)
