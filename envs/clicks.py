"""TEACh's click resolution: which object an ``(x, y)`` click on the egocentric frame means, and whether it is in reach.

Follows ``SimulatorTHOR.__get_oid_at_frame_xy_with_affordance`` and the reach check in ``SimulatorTHOR.add_interaction``
of TEACh (``alexa/teach`` ``src/teach/simulators/simulator_THOR.py`` at 903191e; the 900-pixel window and
``hotspot_pixel_width`` 10 are its settings).
Both backends call these functions, so a click means the same object in either world.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .camera import camera_position, camera_to_world_thor, intrinsic_matrix

ACTION_AFFORDANCES: dict[str, list[dict]] = {
    "PickupObject": [{"pickupable": True, "isPickedUp": False}],
    "PutObject": [{"receptacle": True}],
    "OpenObject": [{"openable": True, "isOpen": False}],
    "CloseObject": [{"openable": True, "isOpen": True}],
    "ToggleObjectOn": [{"toggleable": True, "isToggled": False}],
    "ToggleObjectOff": [{"toggleable": True, "isToggled": True}],
    "SliceObject": [{"sliceable": True, "isSliced": False}],
    "DirtyObject": [{"dirtyable": True, "isDirty": False}],
    "CleanObject": [{"dirtyable": True, "isDirty": True}],
    "FillObjectWithLiquid": [{"canFillWithLiquid": True, "isFilledWithLiquid": False}],
    "EmptyLiquidFromObject": [{"canFillWithLiquid": True, "isFilledWithLiquid": True}],
    "Pour": [
        {"canFillWithLiquid": True, "isFilledWithLiquid": False},
        {"objectType": "Sink"},
        {"objectType": "SinkBasin"},
        {"objectType": "Bathtub"},
        {"objectType": "BathtubBasin"},
    ],
    "BreakObject": [{"breakable": True, "isBroken": False}],
    # Not TEACh actions (TEACh has no click for them); ours, so that every object action resolves clicks alike.
    "CookObject": [{"cookable": True, "isCooked": False}],
    "UseUpObject": [{"canBeUsedUp": True, "isUsedUp": False}],
}
"""AI2-THOR action -> alternative property filters a clicked object must match one of (TEACh's
``action_to_affordances``, keyed by the AI2-THOR action each TEACh action sends)."""

HOTSPOT_HALF_WIDTH = 10
"""TEACh's ``hotspot_pixel_width``: the fallback window is [p - 10, p + 10) on each axis, i.e. 20 x 20 pixels."""

REACH_DISTANCE = 1.5
"""TEACh's ``visibility_distance`` (metres), the largest click-point to agent distance an action may target."""


def matches_affordance(obj: Mapping | None, filters: list[dict]) -> bool:
    """True if ``obj`` has every key of some filter with an equal value (TEACh's ``k in obj and obj[k] == v``)."""
    if not obj:
        return False
    return any(all(key in obj and obj[key] == value for key, value in f.items()) for f in filters)


def _frame_size(event) -> tuple[int, int]:
    for frame in (event.instance_segmentation_frame, event.frame, event.depth_frame):
        if frame is not None:
            return int(frame.shape[0]), int(frame.shape[1])
    meta = event.metadata
    if "screenHeight" in meta and "screenWidth" in meta:
        return int(meta["screenHeight"]), int(meta["screenWidth"])
    raise ValueError("event has no frame and no metadata screenWidth/screenHeight: cannot size the click")


def click_pixel(x: float, y: float, height: int, width: int) -> tuple[int, int]:
    """(row, col) of a click at column fraction ``x`` and row fraction ``y``: round(y*H), round(x*W), clipped.

    TEACh computes the same rounding against its 900-pixel window and indexes the frame with it, so a coordinate of
    exactly 1.0 raises IndexError there (teach.md section 9, quirk 12); we clip to the last pixel instead.
    """
    for name, value in (("x", x), ("y", y)):
        if not np.isfinite(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"click coordinate {name}={value!r} must be a number in [0, 1]")
    col = min(max(int(np.round(x * width)), 0), width - 1)
    row = min(max(int(np.round(y * height)), 0), height - 1)
    return row, col


def _objects_by_id(event, objects: Mapping[str, dict] | None) -> Mapping[str, dict]:
    if objects is not None:
        return objects
    return {o["objectId"]: o for o in event.metadata.get("objects", [])}


def resolve_click(event, x: float, y: float, action: str, objects: Mapping[str, dict] | None = None) -> str | None:
    """The objectId a click at ``(x, y)`` targets for ``action``, or None.

    TEACh's rule (``__get_oid_at_frame_xy_with_affordance`` with ``region_backoff=True``), at the event's own frame
    size rather than TEACh's fixed 900 x 900:

    1. ``x`` is the column fraction and ``y`` the row fraction, both in [0, 1]; the pixel is
       (round(y*H), round(x*W)), clipped to the frame (TEACh raises on 1.0; we clip).
    2. If the object at exactly that pixel matches one of ``ACTION_AFFORDANCES[action]``, it is the answer.
    3. Otherwise scan the square [col-10, col+10) x [row-10, row+10) clipped to the frame. The reference code uses a
       +-10 px square (20 x 20 pixels), not a 10 x 10 patch. Each matching object scores (its pixels inside the
       square) / (its pixels in the whole frame); the best wins. Ties go to the object seen first in TEACh's scan
       order, which walks columns in the outer loop and rows in the inner loop.

    ``objects`` is {objectId: metadata dict} (e.g. with the simbot properties merged in); by default the event's
    ``metadata["objects"]``. Segmentation comes from ``event.object_id_at`` and ``event.instance_masks``.
    """
    if action not in ACTION_AFFORDANCES:
        raise ValueError(f"action {action!r} takes no clicked object; expected one of {sorted(ACTION_AFFORDANCES)}")
    filters = ACTION_AFFORDANCES[action]
    height, width = _frame_size(event)
    row, col = click_pixel(x, y, height, width)
    by_id = _objects_by_id(event, objects)
    masks = event.instance_masks

    exact = event.object_id_at(row, col)
    if exact is not None and exact in masks and matches_affordance(by_id.get(exact), filters):
        return exact

    inside: dict[str, int] = {}  # insertion order = first-seen order, which breaks ties
    rejected: set[str] = set()
    for c in range(max(0, col - HOTSPOT_HALF_WIDTH), min(width, col + HOTSPOT_HALF_WIDTH)):
        for r in range(max(0, row - HOTSPOT_HALF_WIDTH), min(height, row + HOTSPOT_HALF_WIDTH)):
            oid = event.object_id_at(r, c)
            if oid is None or oid in rejected:
                continue
            if oid in inside:
                inside[oid] += 1
            elif oid in masks and matches_affordance(by_id.get(oid), filters):
                inside[oid] = 1
            else:
                rejected.add(oid)
    best, best_score = None, -1.0
    for oid, count in inside.items():
        score = count / int(np.count_nonzero(masks[oid]))
        if score > best_score:
            best, best_score = oid, score
    return best


def click_world_point(event, x: float, y: float) -> np.ndarray | None:
    """Thor-frame 3D point seen at the click, or None if the event has no depth.

    Stands in for AI2-THOR's ``GetCoordinateFromRaycast(x, y)``, which TEACh uses for its reach check: the ray through
    the continuous image point (x*W, y*H) of the pinhole camera (``envs.camera``), cut at the planar depth of the pixel
    under the click.
    """
    depth = event.depth_frame
    if depth is None:
        return None
    height, width = depth.shape[:2]
    row, col = click_pixel(x, y, height, width)
    meta = event.metadata
    if "fov" not in meta or "agent" not in meta:
        raise ValueError("event metadata needs 'fov' and 'agent' to place a click in the world")
    k = intrinsic_matrix(width, height, float(meta["fov"]))
    z = float(depth[row, col])
    camera_point = np.array([(x * width - k[0, 2]) / k[0, 0] * z, (y * height - k[1, 2]) / k[1, 1] * z, z])
    agent = meta["agent"]
    cam = meta.get("cameraPosition") or camera_position(agent["position"], agent.get("isStanding", True))
    pose = camera_to_world_thor(cam, float(agent["rotation"]["y"]), float(agent["cameraHorizon"]))
    return pose[:3, :3] @ camera_point + pose[:3, 3]


def within_reach(event, x: float, y: float, max_distance: float = REACH_DISTANCE) -> bool:
    """TEACh's reach check: the clicked world point is at most ``max_distance`` (1.5 m) from ``agent.position``.

    TEACh measures from the agent's body position (not the camera) to the raycast hit. Without a depth frame the
    point cannot be found; we then return True and leave range to the simulator's own ``visibilityDistance`` check.
    """
    point = click_world_point(event, x, y)
    if point is None:
        return True
    pos = event.metadata["agent"]["position"]
    agent = np.array([float(pos["x"]), float(pos["y"]), float(pos["z"])])
    return bool(np.linalg.norm(point - agent) <= max_distance)
