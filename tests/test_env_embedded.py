"""The embedded simulator: AI2-THOR's actions and state changes, TEACh's clicks and simbot properties, state in/out
and determinism (bad input: test_env_robustness.py; random actions: test_env_fuzz.py). Interactions use
``forceAction`` where a test is about a state rule, not about reach."""

from __future__ import annotations

import numpy as np
import pytest

from envs import make_env
from envs.nav import navigate_to


def ids(event, object_type):
    return [o["objectId"] for o in event.metadata["objects"] if o["objectType"] == object_type]


def act(env, action, **args):
    event = env.step(action=action, **args)
    assert event.metadata["lastActionSuccess"], f"{action} {args}: {event.metadata['errorMessage']}"
    return event


def carry(env, object_id, receptacle_id):
    """Pick up ``object_id`` and put it on/in ``receptacle_id`` (forced: no walking)."""
    if env.last_event.metadata["inventoryObjects"]:
        held = env.last_event.metadata["inventoryObjects"][0]["objectId"]
        floor = ids(env.last_event, "Floor")[0]
        act(env, "PutObject", objectId=floor, forceAction=True)
        assert not env.last_event.get_object(held)["isPickedUp"]
    act(env, "PickupObject", objectId=object_id, forceAction=True)
    return act(env, "PutObject", objectId=receptacle_id, forceAction=True)


@pytest.fixture()
def env(kitchen):
    kitchen.reset(scene="FloorPlan1")
    return kitchen


# --- navigation ------------------------------------------------------------------------------------------------------
def test_navigation_actions(env):
    start = env.last_event.metadata["agent"]
    event = act(env, "RotateRight")
    assert event.metadata["agent"]["rotation"]["y"] == pytest.approx((start["rotation"]["y"] + 90) % 360)
    event = act(env, "RotateLeft", degrees=45)
    assert event.metadata["agent"]["rotation"]["y"] == pytest.approx((start["rotation"]["y"] + 45) % 360)
    act(env, "RotateRight", degrees=45)
    event = act(env, "LookDown")
    assert event.metadata["agent"]["cameraHorizon"] == pytest.approx(30)
    act(env, "LookDown")
    failed = env.step(action="LookDown")
    assert not failed.metadata["lastActionSuccess"] and failed.metadata["agent"]["cameraHorizon"] == pytest.approx(60)
    act(env, "LookUp", degrees=90)
    assert env.step(action="LookUp").metadata["lastActionSuccess"] is False  # -30 is the limit
    reachable = act(env, "GetReachablePositions").metadata["actionReturn"]
    p = reachable[len(reachable) // 2]
    event = act(env, "TeleportFull", x=p["x"], y=p["y"], z=p["z"], rotation=dict(x=0, y=90, z=0), horizon=30)
    agent = event.metadata["agent"]
    assert (agent["position"]["x"], agent["position"]["z"], agent["rotation"]["y"], agent["cameraHorizon"]) == \
        pytest.approx((p["x"], p["z"], 90, 30))
    grid = {(round(q["x"] / 0.25), round(q["z"] / 0.25)) for q in reachable}
    moved = 0
    for action, (dx, dz) in (("MoveAhead", (1, 0)), ("MoveBack", (-1, 0)), ("MoveRight", (0, -1)), ("MoveLeft", (0, 1))):
        act(env, "Teleport", position=p, rotation=dict(x=0, y=90, z=0))
        event = env.step(action=action)
        target = (round(p["x"] / 0.25) + dx, round(p["z"] / 0.25) + dz)
        assert event.metadata["lastActionSuccess"] == (target in grid), action
        if event.metadata["lastActionSuccess"]:
            moved += 1
            pos = event.metadata["agent"]["position"]
            assert (round(pos["x"] / 0.25), round(pos["z"] / 0.25)) == target
    with pytest.raises(ValueError, match="MissingArguments"):
        env.step(action="TeleportFull", x=p["x"], z=p["z"])
    blocked = env.step(action="Teleport", position=dict(x=-5.0, y=0.9, z=-5.0))
    assert not blocked.metadata["lastActionSuccess"]


def test_walls_block_moves(env):
    reachable = act(env, "GetReachablePositions").metadata["actionReturn"]
    edge = min(reachable, key=lambda q: q["x"])
    act(env, "Teleport", position=edge, rotation=dict(x=0, y=270, z=0))
    stopped = False
    for _ in range(4):
        if not env.step(action="MoveAhead").metadata["lastActionSuccess"]:
            stopped = True
            break
    assert stopped, "walking west off the reachable grid never failed"


# --- object interaction ---------------------------------------------------------------------------------------------
def test_pickup_put_rules(env):
    event = env.last_event
    apple, bread = ids(event, "Apple")[0], ids(event, "Bread")[0]
    fail = env.step(action="PutObject", objectId=ids(event, "CounterTop")[0], forceAction=True)
    assert not fail.metadata["lastActionSuccess"] and "isn't holding" in fail.metadata["errorMessage"]
    act(env, "PickupObject", objectId=apple, forceAction=True)
    second = env.step(action="PickupObject", objectId=bread, forceAction=True)
    assert not second.metadata["lastActionSuccess"]
    not_receptacle = env.step(action="PutObject", objectId=bread, forceAction=True)
    assert not not_receptacle.metadata["lastActionSuccess"]
    # Object-specific receptacles refuse other types even when forced (AI2-THOR ObjectSpecificReceptacle).
    burner = ids(event, "StoveBurner")[0]
    refused = env.step(action="PutObject", objectId=burner, forceAction=True)
    assert not refused.metadata["lastActionSuccess"] and "not a valid Object Type" in refused.metadata["errorMessage"]
    fridge = ids(event, "Fridge")[0]
    closed = env.step(action="PutObject", objectId=fridge, forceAction=True)
    assert not closed.metadata["lastActionSuccess"] and "open" in closed.metadata["errorMessage"]
    act(env, "OpenObject", objectId=fridge, forceAction=True)
    event = act(env, "PutObject", objectId=fridge, forceAction=True)
    assert event.get_object(apple)["parentReceptacles"][0] == fridge
    act(env, "CloseObject", objectId=fridge, forceAction=True)
    assert env.last_event.get_object(apple)["ObjectTemperature"] == "Cold"


def test_open_close_and_drawer_carries_contents(env):
    event = env.last_event
    drawer = ids(event, "Drawer")[0]
    spoon = ids(event, "Spoon")[0]
    act(env, "OpenObject", objectId=drawer, forceAction=True)
    event = carry(env, spoon, drawer)
    before = event.get_object(spoon)["position"]
    event = act(env, "CloseObject", objectId=drawer, forceAction=True)
    after = event.get_object(spoon)["position"]
    assert event.get_object(drawer)["isOpen"] is False
    moved = np.hypot(after["x"] - before["x"], after["z"] - before["z"])
    assert moved > 0.1, "the spoon did not slide in with the drawer"
    assert event.get_object(spoon)["parentReceptacles"][0] == drawer
    fail = env.step(action="OpenObject", objectId=spoon, forceAction=True)
    assert not fail.metadata["lastActionSuccess"] and "Openable" in fail.metadata["errorMessage"]


def test_faucet_cleans_and_fills_in_sink(env):
    event = env.last_event
    mug, basin, faucet = ids(event, "Mug")[0], ids(event, "SinkBasin")[0], ids(event, "Faucet")[0]
    act(env, "DirtyObject", objectId=mug, forceAction=True)
    act(env, "EmptyLiquidFromObject", objectId=mug, forceAction=True) if event.get_object(mug)["isFilledWithLiquid"] else None
    carry(env, mug, basin)
    assert env.last_event.get_object(mug)["isDirty"]
    event = act(env, "ToggleObjectOn", objectId=faucet, forceAction=True)
    m = event.get_object(mug)
    assert not m["isDirty"] and m["isFilledWithLiquid"] and m["fillLiquid"] == "water"
    assert m["simbotIsFilledWithWater"] == 1
    again = env.step(action="ToggleObjectOn", objectId=faucet, forceAction=True)
    assert not again.metadata["lastActionSuccess"] and "already on" in again.metadata["errorMessage"]


def test_stove_boils_potato_in_pot(env):
    event = env.last_event
    pot, potato = ids(event, "Pot")[0], ids(event, "Potato")[0]
    burner = next(o["objectId"] for o in event.metadata["objects"]
                  if o["objectType"] == "StoveBurner" and not o["receptacleObjectIds"])
    knob = next(o["objectId"] for o in event.metadata["objects"]
                if o["objectType"] == "StoveKnob" and burner in o.get("controlledObjects", []))
    for inside in event.get_object(pot)["receptacleObjectIds"] or []:
        carry(env, inside, ids(event, "CounterTop")[0])
    carry(env, pot, burner)
    act(env, "FillObjectWithLiquid", objectId=pot, fillLiquid="water", forceAction=True)
    carry(env, potato, pot)
    assert not env.last_event.get_object(potato)["isCooked"]
    assert not env.last_event.get_object(burner)["toggleable"], "burners are switched by their knob"
    event = act(env, "ToggleObjectOn", objectId=knob, forceAction=True)
    assert event.get_object(burner)["isToggled"]
    p = event.get_object(potato)
    assert p["isCooked"] and p["simbotIsCooked"] and p["simbotIsBoiled"]
    assert burner in p["parentReceptacles"] and pot == p["parentReceptacles"][0]


def test_knife_slices_and_microwave_toaster_cook(env):
    event = env.last_event
    apple, potato, bread = ids(event, "Apple")[0], ids(event, "Potato")[0], ids(event, "Bread")[0]
    no_knife = env.step(action="SliceObject", objectId=apple, forceAction=True)
    assert not no_knife.metadata["lastActionSuccess"]
    act(env, "PickupObject", objectId=ids(event, "Knife")[0], forceAction=True)
    for source, piece in ((apple, "AppleSliced"), (potato, "PotatoSliced"), (bread, "BreadSliced")):
        event = act(env, "SliceObject", objectId=source, forceAction=True)
        pieces = [o for o in event.metadata["objects"] if o["objectId"].startswith(source + f"|{piece}_")]
        assert pieces and all(o["objectType"] == piece for o in pieces)
        assert event.get_object(source)["isSliced"]
    counter = ids(event, "CounterTop")[0]
    act(env, "PutObject", objectId=counter, forceAction=True)  # put the knife down
    microwave, toaster = ids(event, "Microwave")[0], ids(event, "Toaster")[0]
    potato_slice = f"{potato}|PotatoSliced_0"
    bread_slices = [f"{bread}|BreadSliced_0", f"{bread}|BreadSliced_1"]
    act(env, "OpenObject", objectId=microwave, forceAction=True)
    carry(env, potato_slice, microwave)
    carry(env, bread_slices[0], microwave)
    on_while_open = env.step(action="ToggleObjectOn", objectId=microwave, forceAction=True)
    assert not on_while_open.metadata["lastActionSuccess"]
    act(env, "CloseObject", objectId=microwave, forceAction=True)
    event = act(env, "ToggleObjectOn", objectId=microwave, forceAction=True)
    assert event.get_object(potato_slice)["isCooked"] and event.get_object(potato_slice)["simbotIsCooked"]
    assert not event.get_object(bread_slices[0])["isCooked"], "microwaves heat bread but do not toast it"
    assert not env.step(action="OpenObject", objectId=microwave, forceAction=True).metadata["lastActionSuccess"]
    carry(env, bread_slices[1], toaster)
    event = act(env, "ToggleObjectOn", objectId=toaster, forceAction=True)
    assert event.get_object(bread_slices[1])["isCooked"]


def test_metadata_carries_current_time_and_held_object_pose(env):
    """AI2-THOR's metadata schema (ai2thor/tests/data/metadata-schema.json) requires both."""
    first = env.last_event.metadata
    mug = ids(env.last_event, "Mug")[0]
    event = act(env, "PickupObject", objectId=mug, forceAction=True)
    meta = event.metadata
    assert meta["currentTime"] >= first["currentTime"] >= 0.0
    pose = meta["heldObjectPose"]
    assert set(pose) == {"position", "rotation", "localPosition", "localRotation"}
    assert all(pose["position"][k] == pytest.approx(event.get_object(mug)["position"][k]) for k in "xyz")
    local = pose["localPosition"]
    assert 0.3 < local["z"] < 1.0 and 0.0 < local["x"] < 0.3, "held ahead of the agent, slightly right"
    turned = act(env, "RotateRight").metadata["heldObjectPose"]
    assert all(turned["localPosition"][k] == pytest.approx(local[k]) for k in "xyz"), "the hand turns with the agent"
    assert turned["position"] != pose["position"]


def test_slices_appear_inside_the_sliced_object(env):
    """A loaf cut inside FloorPlan1's garbage can: every slice within the loaf's box, still in the can (its pieces
    once spread 0.28 m from the loaf's centre, into the wall)."""
    event = env.last_event
    bread, can = ids(event, "Bread")[0], ids(event, "GarbageCan")[0]
    carry(env, bread, can)
    event = act(env, "PickupObject", objectId=ids(event, "Knife")[0], forceAction=True)
    corners = np.asarray(event.get_object(bread)["axisAlignedBoundingBox"]["cornerPoints"])
    lo, hi = corners.min(0) - 1e-6, corners.max(0) + 1e-6
    event = act(env, "SliceObject", objectId=bread, forceAction=True)
    slices = [o for o in event.metadata["objects"] if o["objectId"].startswith(bread + "|BreadSliced_")]
    assert len(slices) > 1
    for piece in slices:
        centre = np.array([piece["axisAlignedBoundingBox"]["center"][k] for k in "xyz"])
        assert np.all(centre >= lo) and np.all(centre <= hi), piece["objectId"]
        assert piece["parentReceptacles"][0] == can


def test_coffee_machine_fills_mug(env):
    event = env.last_event
    mug, machine = ids(event, "Mug")[0], ids(event, "CoffeeMachine")[0]
    if event.get_object(mug)["isFilledWithLiquid"]:
        act(env, "EmptyLiquidFromObject", objectId=mug, forceAction=True)
    cup = ids(event, "Cup")[0]
    act(env, "PickupObject", objectId=cup, forceAction=True)
    refused = env.step(action="PutObject", objectId=machine, forceAction=True)
    assert not refused.metadata["lastActionSuccess"], "a coffee machine takes only mugs"
    act(env, "PutObject", objectId=ids(event, "CounterTop")[0], forceAction=True)
    carry(env, mug, machine)
    event = act(env, "ToggleObjectOn", objectId=machine, forceAction=True)
    m = event.get_object(mug)
    assert m["isFilledWithLiquid"] and m["fillLiquid"] == "coffee" and m["simbotIsFilledWithCoffee"] is True


def test_pour_waters_plant_and_empties_into_sink():
    with make_env() as env:
        event = env.reset(scene="FloorPlan201")  # living rooms always have a HousePlant and a WateringCan
        plant, can = ids(event, "HousePlant")[0], ids(event, "WateringCan")[0]
        act(env, "FillObjectWithLiquid", objectId=can, fillLiquid="water", forceAction=True)
        act(env, "PickupObject", objectId=can, forceAction=True)
        event = act(env, "Pour", objectId=plant, forceAction=True)
        assert event.get_object(plant)["isFilledWithLiquid"]
        assert not event.get_object(can)["isFilledWithLiquid"]
        empty = env.step(action="Pour", objectId=plant, forceAction=True)
        assert not empty.metadata["lastActionSuccess"]


def test_drop_lands_on_something(env):
    event = env.last_event
    apple = ids(event, "Apple")[0]
    act(env, "PickupObject", objectId=apple, forceAction=True)
    event = env.step(action="DropHandObject")
    if event.metadata["lastActionSuccess"]:
        landed = event.get_object(apple)
        assert landed["parentReceptacles"] and not landed["isPickedUp"]
    else:
        assert event.get_object(apple)["isPickedUp"]


# --- TEACh's clicks --------------------------------------------------------------------------------------------------
def test_click_resolution_acts_on_the_clicked_object(env):
    event = env.last_event
    reachable = act(env, "GetReachablePositions").metadata["actionReturn"]
    target = next(o["objectId"] for o in event.metadata["objects"] if o["objectType"] == "Toaster")
    assert navigate_to(env, target, reachable) is not None
    event = env.last_event
    rows, cols = np.nonzero(event.instance_masks[target])
    i = len(rows) // 2
    x, y = (cols[i] + 0.5) / env.width, (rows[i] + 0.5) / env.height
    event = act(env, "ToggleObjectOn", x=x, y=y)
    assert event.get_object(target)["isToggled"]
    walls = [oid for oid in event.instance_masks if oid.startswith("Wall") or oid == "Ceiling"]
    if walls:
        r, c = np.nonzero(event.instance_masks[walls[0]])
        far = env.step(action="PickupObject", x=(c[0] + 0.5) / env.width, y=(r[0] + 0.5) / env.height)
        assert not far.metadata["lastActionSuccess"]


def test_click_beyond_reach_fails(env):
    reachable = act(env, "GetReachablePositions").metadata["actionReturn"]
    rng = np.random.default_rng(0)
    for _ in range(40):
        p = reachable[int(rng.integers(len(reachable)))]
        event = act(env, "TeleportFull", x=p["x"], y=p["y"], z=p["z"], rotation=float(rng.choice([0, 90, 180, 270])),
                    horizon=float(rng.choice([0, 30])))
        for obj in event.metadata["objects"]:
            if obj["objectId"] not in event.instance_masks or not obj["pickupable"]:
                continue
            mask = event.instance_masks[obj["objectId"]] & (event.depth_frame > 2.2)
            if mask.sum() >= 4:
                rows, cols = np.nonzero(mask)
                failed = env.step(action="PickupObject", x=(cols[0] + 0.5) / env.width, y=(rows[0] + 0.5) / env.height)
                assert not failed.metadata["lastActionSuccess"]
                assert "too far" in failed.metadata["errorMessage"]
                assert not failed.get_object(obj["objectId"])["isPickedUp"]
                return
    raise AssertionError("no view with a pickupable object beyond reach in 40 random poses")


# --- state in / out, determinism ------------------------------------------------------------------------------------
def _comparable(objects):
    keys = ("objectType", "isOpen", "isToggled", "isDirty", "isFilledWithLiquid", "fillLiquid", "isCooked", "isSliced",
            "isPickedUp", "parentReceptacles", "simbotIsCooked", "simbotIsFilledWithWater", "simbotIsFilledWithCoffee")
    out = {}
    for o in objects:
        entry = {k: o.get(k) for k in keys}
        entry["position"] = tuple(round(o["position"][a], 4) for a in "xyz")
        out[o["objectId"]] = entry
    return out


def test_initial_state_round_trip(env):
    event = env.last_event
    act(env, "PickupObject", objectId=ids(event, "Knife")[0], forceAction=True)
    act(env, "SliceObject", objectId=ids(event, "Tomato")[0], forceAction=True)
    act(env, "OpenObject", objectId=ids(event, "Fridge")[0], forceAction=True)
    carry(env, ids(event, "Mug")[0], ids(event, "SinkBasin")[0])
    act(env, "ToggleObjectOn", objectId=ids(event, "Faucet")[0], forceAction=True)
    act(env, "PickupObject", objectId=ids(event, "Egg")[0], forceAction=True)
    act(env, "RotateRight")
    state = env.export_state()
    frame = env.last_event.frame.copy()
    with make_env() as other:
        restored = other.reset(scene="FloorPlan1", initial_state=state)
        assert _comparable(restored.metadata["objects"]) == _comparable(state["objects"])
        assert np.array_equal(restored.frame, frame), "the restored world renders differently"
        assert other.export_state()["custom_object_metadata"] == state["custom_object_metadata"]
    bad = dict(state)
    bad["objects"] = "nope"
    with pytest.raises(ValueError, match="objects"):
        env.reset(scene="FloorPlan1", initial_state=bad)


def test_seeded_determinism():
    actions = ["RotateRight", "MoveAhead", "LookDown", "MoveAhead", "RotateLeft", "MoveAhead"]
    runs = []
    for _ in range(2):
        with make_env(seed=7) as env:
            env.reset(scene="FloorPlan302")
            env.step(action="InitialRandomSpawn", randomSeed=3)
            frames = [env.step(action=a).frame for a in actions]
            runs.append((frames, _comparable(env.last_event.metadata["objects"])))
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][0], runs[1][0]))
    assert runs[0][1] == runs[1][1]
    with make_env(seed=7) as env:
        a = _comparable(env.reset(scene="FloorPlan302").metadata["objects"])
        b = _comparable(env.reset(scene="FloorPlan303").metadata["objects"])
    assert a != b, "different floorplans must differ"


@pytest.mark.parametrize("scene", ["FloorPlan1", "FloorPlan205", "FloorPlan310", "FloorPlan415"])
def test_every_room_kind_builds(scene):
    with make_env() as env:
        event = env.reset(scene=scene)
        types = {o["objectType"] for o in event.metadata["objects"]}
        reachable = env.step(action="GetReachablePositions").metadata["actionReturn"]
    assert len(reachable) >= 20
    expected = {"FloorPlan1": {"Fridge", "StoveBurner", "SinkBasin", "CoffeeMachine", "Mug"},
                "FloorPlan205": {"Sofa", "Television", "HousePlant", "RemoteControl"},
                "FloorPlan310": {"Bed", "Desk", "AlarmClock", "Pillow"},
                "FloorPlan415": {"Toilet", "SinkBasin", "Towel", "ToiletPaper"}}[scene]
    assert expected <= types, expected - types


def test_bad_options_give_clear_errors():
    with pytest.raises(ValueError, match="unknown option"):
        make_env(colour="blue")
    with pytest.raises(ValueError, match="width"):
        make_env(width=0)
    with pytest.raises(ValueError, match="backend"):
        make_env(backend="unity")
    with make_env() as env:
        with pytest.raises(ValueError, match="FloorPlan"):
            env.reset(scene="Kitchen7")


def test_egg_cracks_when_sliced_or_broken(env):
    event = env.last_event
    eggs = ids(event, "Egg")
    act(env, "PickupObject", objectId=ids(event, "Knife")[0], forceAction=True)
    event = act(env, "SliceObject", objectId=eggs[0], forceAction=True)
    cracked = [o for o in event.metadata["objects"] if o["objectId"].startswith(eggs[0] + "|")]
    assert [o["objectType"] for o in cracked] == ["EggCracked"] and cracked[0]["cookable"]
    assert event.get_object(eggs[0])["isSliced"] and not event.get_object(eggs[0])["visible"]
    if len(eggs) > 1:
        event = act(env, "BreakObject", objectId=eggs[1], forceAction=True)
        assert any(o["objectType"] == "EggCracked" and o["objectId"].startswith(eggs[1]) for o in event.metadata["objects"])


def test_reset_to_other_floorplans_in_one_env():
    with make_env() as env:
        for scene in ("FloorPlan401", "FloorPlan1", "FloorPlan402", "FloorPlan1"):
            event = env.reset(scene=scene)
            assert event.metadata["sceneName"] == scene
            visible = {o["objectId"] for o in event.metadata["objects"] if o["visible"]}
            assert visible <= set(event.instance_masks), "visibility computed from another scene's frame"


def test_sandwich_pieces_stack_on_a_plate(env):
    event = env.last_event
    plate = ids(event, "Plate")[0]
    act(env, "PickupObject", objectId=ids(event, "Knife")[0], forceAction=True)
    for source in (ids(event, "Bread")[0], ids(event, "Tomato")[0]):
        act(env, "SliceObject", objectId=source, forceAction=True)
    act(env, "PutObject", objectId=ids(event, "CounterTop")[0], forceAction=True)
    pieces = ids(env.last_event, "BreadSliced")[:2] + ids(env.last_event, "TomatoSliced")[:2]
    heights = []
    for piece in pieces:
        event = carry(env, piece, plate)
        assert event.get_object(piece)["parentReceptacles"][0] == plate
        heights.append(event.get_object(piece)["position"]["y"])
    assert max(heights) > min(heights), "a full plate should stack pieces, not refuse them"


def test_every_floorplan_is_one_walkable_region():
    from envs.embedded.layout import _largest_region, build_scene

    for name in ("FloorPlan2", "FloorPlan29", "FloorPlan302", "FloorPlan304"):
        region, free = _largest_region(build_scene(name).world)
        assert region >= 0.9 * free, f"{name}: {region} of {free} free grid points connected"


def test_slices_pile_up_in_a_bowl_up_to_its_rim(env):
    """TEACh's N Cooked Slices Of X In Y puts two or more slices in one bowl: the first lies on the bowl's floor, the
    next ones on top of it (until the bowl's clearance is used up: four potato slices fit)."""
    event = env.last_event
    bowl = ids(event, "Bowl")[0]
    for thing in event.metadata["objects"]:  # an empty bowl to start from
        if thing["parentReceptacles"] and bowl in thing["parentReceptacles"]:
            carry(env, thing["objectId"], ids(env.last_event, "CounterTop")[0])
    act(env, "PickupObject", objectId=ids(env.last_event, "Knife")[0], forceAction=True)
    act(env, "SliceObject", objectId=ids(env.last_event, "Potato")[0], forceAction=True)
    act(env, "PutObject", objectId=ids(env.last_event, "CounterTop")[0], forceAction=True)
    slices = ids(env.last_event, "PotatoSliced")
    heights, placed = [], 0
    for piece in slices:
        if env.last_event.metadata["inventoryObjects"]:
            act(env, "PutObject", objectId=ids(env.last_event, "CounterTop")[0], forceAction=True)
        act(env, "PickupObject", objectId=piece, forceAction=True)
        carry_event = env.step(action="PutObject", objectId=bowl, forceAction=True)
        if not carry_event.metadata["lastActionSuccess"]:
            assert "No valid positions" in carry_event.metadata["errorMessage"]
            break
        placed += 1
        assert bowl in carry_event.get_object(piece)["parentReceptacles"]
        heights.append(carry_event.get_object(piece)["position"]["y"])
    assert placed >= 2, "a second slice must fit in a bowl"
    assert all(later > earlier for earlier, later in zip(heights, heights[1:])), "each slice rests on the last"
