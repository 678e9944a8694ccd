"""The embedded simulator under bad input: exact state round trips, one rule for bad argument values (a failed action
naming the argument; ``envs.validation``), non-finite numbers, refused initial states, unknown state objects."""

from __future__ import annotations

import copy
import math

import pytest

from envs import make_env

from .test_env_embedded import act, ids


@pytest.fixture(scope="module")
def small_env():
    with make_env(width=96, height=96) as env:
        yield env


def test_round_trip_keeps_drawer_contents_and_rotations_exact(small_env):
    """FloorPlan10: a knife put into an open drawer, a knife in a bowl, a cut tomato, a held egg: export -> reset ->
    export gives the same dict, and nothing moved on the way (the drawer's contents once moved 0.375 m)."""
    env = small_env
    event = env.reset(scene="FloorPlan10")
    drawer, butter_knife = ids(event, "Drawer")[0], ids(event, "ButterKnife")[0]
    act(env, "OpenObject", objectId=drawer, forceAction=True)
    act(env, "PickupObject", objectId=butter_knife, forceAction=True)
    act(env, "PutObject", objectId=drawer, forceAction=True)
    act(env, "PickupObject", objectId=ids(event, "Knife")[0], forceAction=True)
    act(env, "PutObject", objectId=ids(event, "Bowl")[0], forceAction=True)
    act(env, "PickupObject", objectId=ids(event, "Knife")[0], forceAction=True)
    act(env, "SliceObject", objectId=ids(event, "Tomato")[0], forceAction=True)
    act(env, "PutObject", objectId=ids(event, "CounterTop")[0], forceAction=True)
    act(env, "PickupObject", objectId=ids(event, "Egg")[0], forceAction=True)
    before = act(env, "RotateRight", degrees=37.5).get_object(butter_knife)["position"]

    state = env.export_state()
    knife = next(o for o in state["objects"] if o["objectId"] == butter_knife)
    assert knife["parentReceptacles"][0] == drawer
    assert all(math.isclose(knife["position"][k], before[k], abs_tol=1e-5) for k in "xyz")
    assert all(0.0 <= o["rotation"]["y"] < 360.0 for o in state["objects"])
    env.reset(scene="FloorPlan10", initial_state=state)
    assert env.export_state() == state


@pytest.mark.parametrize("action, args, argument", [
    ("RotateRight", {"degrees": math.nan}, "degrees"),
    ("RotateLeft", {"degrees": math.inf}, "degrees"),
    ("LookDown", {"degrees": -math.inf}, "degrees"),
    ("MoveAhead", {"moveMagnitude": math.nan}, "moveMagnitude"),
    ("MoveBack", {"moveMagnitude": math.inf}, "moveMagnitude"),
    ("Teleport", {"rotation": math.nan}, "rotation"),
    ("TeleportFull", {"x": 1.0, "y": 0.9, "z": math.nan, "rotation": 0.0, "horizon": 0.0}, "z"),
    ("PickupObject", {"objectId": ["a"]}, "objectId"),
    ("PickupObject", {"x": "abc", "y": 0.5}, "x"),
    ("OpenObject", {"x": 0.5, "y": 0.5, "openness": "half"}, "openness"),
    ("Teleport", {"position": {"x": 1}}, "position"),
    ("Teleport", {"position": "abc"}, "position"),
    ("GetCoordinateFromRaycast", {"x": 1.5, "y": 0.5}, "x"),
    ("FillObjectWithLiquid", {"x": 0.5, "y": 0.5, "fillLiquid": "oil"}, "fillLiquid"),
    ("PutObject", {"x": 0.5, "y": 0.5, "forceAction": "yes"}, "forceAction"),
    ("InitialRandomSpawn", {"randomSeed": 1.5}, "randomSeed"),
    ("RotateRight", {"degrees": True}, "degrees"),
])
def test_bad_argument_values_fail_the_action_and_change_nothing(small_env, action, args, argument):
    env = small_env
    if env.last_event.metadata["sceneName"] != "FloorPlan1":
        env.reset(scene="FloorPlan1")
    before = env.last_event.metadata
    event = env.step(action=action, **args)
    assert event.metadata["lastActionSuccess"] is False
    assert event.metadata["errorCode"] == "InvalidArgument"
    assert f"invalid argument {argument}=" in event.metadata["errorMessage"]
    assert action in event.metadata["errorMessage"]
    for key in ("agent", "objects", "inventoryObjects"):
        assert event.metadata[key] == before[key], key


def test_none_means_not_given_and_malformed_calls_raise(small_env):
    env = small_env
    env.reset(scene="FloorPlan1")
    yaw = env.last_event.metadata["agent"]["rotation"]["y"]
    assert act(env, "RotateRight", degrees=None).metadata["agent"]["rotation"]["y"] == (yaw + 90.0) % 360.0
    with pytest.raises(ValueError, match="InvalidAction"):
        env.step(action="FlyToTheMoon")
    with pytest.raises(ValueError, match="MissingArguments"):
        env.step(action="PickupObject", x=0.5)
    with pytest.raises(ValueError, match="MissingArguments"):
        env.step(action="GetCoordinateFromRaycast", x=0.5)


def test_moves_out_of_the_room_fail_whatever_their_length(small_env):
    env = small_env
    env.reset(scene="FloorPlan1")
    start = env.last_event.metadata["agent"]["position"]
    for magnitude in (50.0, 1e300):
        event = env.step(action="MoveAhead", moveMagnitude=magnitude)
        assert not event.metadata["lastActionSuccess"] and "blocked" in event.metadata["errorMessage"]
    assert env.last_event.metadata["agent"]["position"] == start
    event = env.step(action="Teleport", position={"x": -50.0, "y": 0.9, "z": 1.0}, forceAction=True)
    assert not event.metadata["lastActionSuccess"] and "outside the room" in event.metadata["errorMessage"]


BAD_STATES = [
    (lambda s: s["agents"][1]["position"].update(x=math.nan), "agents[1].position"),
    (lambda s: s["agents"][1]["position"].update(x=75.0), "agents[1].position"),
    (lambda s: s["agents"][1].update(cameraHorizon=math.inf), "agents[1].cameraHorizon"),
    (lambda s: s["agents"][1].update(cameraHorizon=90.0), "agents[1].cameraHorizon"),
    (lambda s: s["objects"][3].update(position="here"), "objects[3].position"),
    (lambda s: s["objects"][3].pop("position"), "objects[3].position"),
    (lambda s: s["objects"][3]["rotation"].update(y=math.nan), "objects[3].rotation"),
    (lambda s: s["objects"][2].pop("objectId"), "objects[2].objectId"),
    (lambda s: s.update(objects="nope"), "objects"),
]


def test_bad_initial_states_are_refused_naming_the_field(small_env):
    env = small_env
    env.reset(scene="FloorPlan1")
    good = env.export_state()
    env.reset(scene="FloorPlan2")
    for edit, field in BAD_STATES:
        state = copy.deepcopy(good)
        edit(state)
        with pytest.raises(ValueError) as info:
            env.reset(scene="FloorPlan1", initial_state=state)
        assert f"field {field!r}" in str(info.value)
        assert env.last_event.metadata["sceneName"] == "FloorPlan2", "a refused state must leave the env as it was"
    assert env.step(action="MoveAhead").metadata["sceneName"] == "FloorPlan2"


def test_unknown_state_objects_are_reported(small_env):
    env = small_env
    env.reset(scene="FloorPlan1")
    state = env.export_state()
    state["objects"].append(dict(state["objects"][0], objectId="Spaceship|+01.00|+00.00|+01.00", objectType="Spaceship"))
    with pytest.warns(UserWarning, match=r"1 object\(s\).*Spaceship"):
        env.reset(scene="FloorPlan1", initial_state=state)
    assert env.unknown_state_objects == ["Spaceship|+01.00|+00.00|+01.00"]
    env.reset(scene="FloorPlan1")
    assert env.unknown_state_objects == []


def test_recorded_states_name_objects_as_live_events(small_env):
    from episodes.expert import snapshot

    event = small_env.reset(scene="FloorPlan1")
    live = {o["objectId"]: o["name"] for o in event.metadata["objects"]}
    assert {o["objectId"]: o["name"] for o in snapshot(small_env)["objects"]} == live
