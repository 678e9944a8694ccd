"""The Env contract (DESIGN.md): any backend passes these using only AI2-THOR's API. Each test starts from a fresh
``reset(scene="FloorPlan1")`` of the module's environment, so none depends on another's moves."""

from __future__ import annotations

import re

import numpy as np
import pytest

from envs.camera import event_camera_to_world, unproject_depth
from envs.nav import navigate_to

REQUIRED_OBJECT_KEYS = {
    "objectId", "objectType", "position", "rotation", "axisAlignedBoundingBox", "visible", "pickupable", "receptacle",
    "openable", "isOpen", "toggleable", "isToggled", "sliceable", "isSliced", "cookable", "isCooked", "dirtyable",
    "isDirty", "canFillWithLiquid", "isFilledWithLiquid", "fillLiquid", "breakable", "isBroken", "isPickedUp",
    "parentReceptacles", "receptacleObjectIds", "distance",
}
OBJECT_ID = re.compile(r"^(?P<type>[A-Za-z]+)(\|[+-]\d{2,}\.\d{2}){3}(\|(?P<part>[A-Za-z]+)(_\d+)?)?$")
"""AI2-THOR's objectId: ``Type|x|y|z`` (signed, zero-padded, two decimals); a sub-object or a piece adds
``|SinkBasin`` or ``|AppleSliced_0``, and then the last part names the object's type (the ids of TEACh's released
game files)."""


@pytest.fixture()
def env(any_env):
    any_env.reset(scene="FloorPlan1")
    return any_env


def test_event_fields(env):
    event = env.step(action="Pass")
    h, w = env.height, env.width
    assert event.frame.shape == (h, w, 3) and event.frame.dtype == np.uint8
    assert event.depth_frame.shape == (h, w) and event.depth_frame.dtype == np.float32
    assert event.instance_segmentation_frame.shape == (h, w, 3)
    assert event.metadata["lastActionSuccess"] is True and bool(event)
    for key in ("agent", "cameraPosition", "fov", "objects", "inventoryObjects", "errorMessage", "currentTime",
                "heldObjectPose"):
        assert key in event.metadata
    assert event.metadata["agent"]["position"]["y"] == pytest.approx(0.9009992, abs=0.01)
    for obj in event.metadata["objects"]:
        missing = REQUIRED_OBJECT_KEYS - set(obj)
        assert not missing, f"{obj['objectId']} lacks {missing}"
        match = OBJECT_ID.match(obj["objectId"])
        assert match, f"{obj['objectId']} is not in AI2-THOR's objectId form"
        assert (match["part"] or match["type"]) == obj["objectType"], obj["objectId"]


def test_segmentation_colours_are_one_to_one(env):
    event = env.step(action="RotateRight")
    colours = event.object_id_to_color
    assert len(set(map(tuple, colours.values()))) == len(colours)
    assert all(event.color_to_object_id[tuple(c)] == oid for oid, c in colours.items())
    seg = event.instance_segmentation_frame.reshape(-1, 3)
    present = {tuple(int(x) for x in c) for c in np.unique(seg, axis=0)}
    assert present <= set(event.color_to_object_id), "a pixel colour maps to no objectId"
    for oid, mask in event.instance_masks.items():
        colour = np.array(colours[oid], dtype=np.uint8)
        assert np.array_equal(mask, np.all(event.instance_segmentation_frame == colour, axis=-1))


def test_depth_unprojects_onto_objects(env):
    """Points unprojected from an object's mask lie within 5 cm of its axis-aligned bounding box."""
    for action in ("LookDown", "RotateLeft", "RotateLeft", "LookUp"):
        event = env.step(action=action)
        points = unproject_depth(event.depth_frame, event.metadata["fov"], event_camera_to_world(event.metadata, "thor"))
        checked = 0
        for obj in event.metadata["objects"]:
            mask = event.instance_masks.get(obj["objectId"]) if obj["objectId"] in event.instance_masks else None
            if mask is None or mask.sum() < 20:
                continue
            corners = np.asarray(obj["axisAlignedBoundingBox"]["cornerPoints"])
            lo, hi = corners.min(0) - 0.05, corners.max(0) + 0.05
            p = points[mask]
            inside = np.all((p >= lo) & (p <= hi), axis=1).mean()
            assert inside > 0.98, f"{obj['objectId']}: only {inside:.1%} of its depth points lie in its box"
            checked += 1
        assert checked >= 2


def test_reachable_positions_are_walkable(env):
    event = env.step(action="GetReachablePositions")
    positions = event.metadata["actionReturn"]
    assert len(positions) > 20
    grid = {(round(p["x"] / 0.25), round(p["z"] / 0.25)) for p in positions}
    for p in positions[:: max(1, len(positions) // 10)]:
        teleported = env.step(action="Teleport", position=p, rotation=dict(x=0, y=0, z=0), horizon=0)
        assert teleported.metadata["lastActionSuccess"], teleported.metadata["errorMessage"]
        ahead = env.step(action="MoveAhead")
        here = (round(ahead.metadata["agent"]["position"]["x"] / 0.25), round(ahead.metadata["agent"]["position"]["z"] / 0.25))
        if ahead.metadata["lastActionSuccess"]:
            assert here in grid, "a successful move left the reachable grid"


def test_failed_action_reports_instead_of_raising(env):
    event = env.step(action="PickupObject", objectId="Nonexistent|+00.00|+00.00|+00.00")
    assert event.metadata["lastActionSuccess"] is False and event.metadata["errorMessage"]
    with pytest.raises(ValueError, match="InvalidAction"):
        env.step(action="FlyToTheMoon")


def test_pickup_and_put_through_navigation(env):
    event = env.reset(scene="FloorPlan1")
    reachable = env.step(action="GetReachablePositions").metadata["actionReturn"]
    candidates = [o for o in event.metadata["objects"] if o["pickupable"] and o["parentReceptacles"]
                  and not any(p.split("|")[0] in ("Cabinet", "Drawer", "Fridge", "Microwave") for p in o["parentReceptacles"])]
    target = next(o for o in candidates if navigate_to(env, o["objectId"], reachable) is not None)
    picked = env.step(action="PickupObject", objectId=target["objectId"])
    assert picked.metadata["lastActionSuccess"], picked.metadata["errorMessage"]
    assert picked.metadata["inventoryObjects"][0]["objectId"] == target["objectId"]
    assert picked.get_object(target["objectId"])["isPickedUp"]
    counter = next(o for o in picked.metadata["objects"] if o["objectType"] in ("CounterTop", "DiningTable") and o["visible"]) \
        if any(o["objectType"] in ("CounterTop", "DiningTable") and o["visible"] for o in picked.metadata["objects"]) else None
    if counter is None:
        counter_id = next(o["objectId"] for o in picked.metadata["objects"] if o["objectType"] == "CounterTop")
        assert navigate_to(env, counter_id, reachable) is not None
    else:
        counter_id = counter["objectId"]
    put = env.step(action="PutObject", objectId=counter_id)
    assert put.metadata["lastActionSuccess"], put.metadata["errorMessage"]
    placed = put.get_object(target["objectId"])
    assert placed["parentReceptacles"][0] == counter_id and not placed["isPickedUp"]
    assert target["objectId"] in put.get_object(counter_id)["receptacleObjectIds"]
    assert put.metadata["inventoryObjects"] == []
