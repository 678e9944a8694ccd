"""Box worlds rendered by ray casting into AI2-THOR-shaped Events, for tests and benchmarks of perception code.

A room is an axis-aligned box seen from inside (its faces are ``Floor``/``Wall``/``Ceiling`` structure, present in the
segmentation but not in ``metadata["objects"]``, as in AI2-THOR); objects are axis-aligned boxes. Depth is planar, as
AI2-THOR's depth shader gives it, and the camera follows ``envs.camera`` exactly, so every frame is a known ground
truth for unprojection, association and export.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from envs.base import Env, normalise_step_args
from envs.camera import AGENT_Y, camera_position, event_camera_to_world, pixel_rays
from envs.event import Event



@dataclass
class Box:
    """An object: objectId, objectType and its thor-frame axis-aligned extent; ``properties`` go into metadata."""

    object_id: str
    object_type: str
    lo: Sequence[float]
    hi: Sequence[float]
    properties: dict = field(default_factory=dict)

    def metadata(self) -> dict:
        lo, hi = np.asarray(self.lo, dtype=float), np.asarray(self.hi, dtype=float)
        centre, size = (lo + hi) / 2, hi - lo
        corners = [[float(x), float(y), float(z)]
                   for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        entry = {
            "objectId": self.object_id, "objectType": self.object_type, "name": self.object_id,
            "position": dict(zip("xyz", map(float, centre))), "rotation": {"x": 0.0, "y": 0.0, "z": 0.0},
            "axisAlignedBoundingBox": {"center": dict(zip("xyz", map(float, centre))),
                                       "size": dict(zip("xyz", map(float, size))), "cornerPoints": corners},
            "visible": False, "pickupable": False, "receptacle": False, "isPickedUp": False,
            "parentReceptacles": None, "receptacleObjectIds": None, "distance": 0.0,
        }
        entry.update(self.properties)
        return entry


def colour_of(name: str) -> tuple[int, int, int]:
    """A stable segmentation colour per objectId (never black, which means nothing)."""
    digest = hashlib.md5(name.encode()).digest()
    return (digest[0] | 1, digest[1], digest[2])


def _slab_hits(origin: np.ndarray, directions: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Entry and exit ray parameters of an axis-aligned box (the slab method, Kay & Kajiya 1986)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - origin) / directions
        t2 = (hi - origin) / directions
    t_near = np.nanmax(np.minimum(t1, t2), axis=1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=1)
    return t_near, t_far


def render_box_world(boxes: Sequence[Box], agent_position, yaw: float, horizon: float, width: int = 64,
                     height: int = 64, fov: float = 90.0, room_lo=(-3.0, 0.0, -3.0), room_hi=(3.0, 2.5, 3.0),
                     inventory: Sequence[Box] = (), scene_name: str = "FloorPlan1") -> Event:
    """Render one Event: RGB (flat colours), planar depth, instance segmentation and AI2-THOR-style metadata.

    ``agent_position`` is the thor-frame agent position (dict or 3-vector; y defaults to the standing iTHOR agent's);
    held ``inventory`` boxes are listed in ``inventoryObjects`` and not drawn.
    """
    if isinstance(agent_position, dict):
        agent = {"x": float(agent_position["x"]), "y": float(agent_position.get("y", AGENT_Y)),
                 "z": float(agent_position["z"])}
    else:
        x, y, z = (float(v) for v in agent_position)
        agent = {"x": x, "y": y, "z": z}
    cam = camera_position(agent)
    metadata = {
        "sceneName": scene_name, "lastAction": "Pass", "lastActionSuccess": True, "errorMessage": "", "fov": float(fov),
        "screenWidth": width, "screenHeight": height,
        "agent": {"position": agent, "rotation": {"x": 0.0, "y": float(yaw), "z": 0.0}, "cameraHorizon": float(horizon),
                  "isStanding": True},
        "cameraPosition": dict(zip("xyz", map(float, cam))),
        "objects": [b.metadata() for b in boxes] + [dict(b.metadata(), isPickedUp=True) for b in inventory],
        "inventoryObjects": [{"objectId": b.object_id, "objectType": b.object_type} for b in inventory],
    }
    pose = event_camera_to_world(metadata, frame="thor")
    # Rays with camera z = 1, so the ray parameter of a hit is its planar depth.
    directions = pixel_rays(width, height, fov).reshape(-1, 3) @ pose[:3, :3].T
    origin = pose[:3, 3]

    room_lo_arr, room_hi_arr = np.asarray(room_lo, dtype=float), np.asarray(room_hi, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        exits = np.where(directions > 0, (room_hi_arr - origin) / directions, (room_lo_arr - origin) / directions)
    exits[~np.isfinite(exits)] = np.inf
    exits[exits < 0] = np.inf
    depth = exits.min(axis=1)
    exit_axis = exits.argmin(axis=1)
    names = ["Wall|room", "Floor|room", "Ceiling|room"]
    label = np.where(exit_axis == 1, np.where(directions[:, 1] < 0, 1, 2), 0)

    for index, box in enumerate(boxes):
        t_near, t_far = _slab_hits(origin, directions, np.asarray(box.lo, float), np.asarray(box.hi, float))
        hit = (t_far >= t_near) & (t_near > 0) & (t_near < depth)
        depth[hit] = t_near[hit]
        label[hit] = len(names) + index
    names += [b.object_id for b in boxes]

    object_id_to_color = {name: colour_of(name) for name in names}
    palette = np.array([object_id_to_color[n] for n in names], dtype=np.uint8)
    segmentation = palette[label].reshape(height, width, 3)
    visible = set(np.unique(label).tolist())
    for entry, index in zip(metadata["objects"], range(len(boxes))):
        entry["visible"] = (len(names) - len(boxes) + index) in visible
        entry["distance"] = float(np.linalg.norm(np.asarray(box_centre(boxes[index])) - np.asarray(
            [agent["x"], agent["y"], agent["z"]])))
    frame = segmentation.copy()
    return Event(metadata, frame=frame, depth_frame=depth.reshape(height, width).astype(np.float32),
                 instance_segmentation_frame=segmentation, object_id_to_color=object_id_to_color)


def box_centre(box: Box) -> list[float]:
    return [(float(a) + float(b)) / 2 for a, b in zip(box.lo, box.hi)]


class BoxWorldEnv(Env):
    """A tiny ``Env`` over a box world: the navigation actions a look-around needs (``GetReachablePositions`` on a
    0.25 m grid inside the room, ``TeleportFull``, ``RotateLeft/Right``, ``LookUp/Down``, ``Pass``), rendered by
    :func:`render_box_world`. For tests of code that drives an environment, not a simulator."""

    def __init__(self, boxes: Sequence[Box], width: int = 64, height: int = 64, fov: float = 90.0,
                 room_lo=(-3.0, 0.0, -3.0), room_hi=(3.0, 2.5, 3.0), grid: float = 0.25):
        self.boxes, self.width, self.height, self.fov = list(boxes), width, height, fov
        self.room_lo, self.room_hi, self.grid = room_lo, room_hi, grid
        self.scene = "FloorPlan1"
        self.position, self.yaw, self.horizon = [0.0, AGENT_Y, 0.0], 0.0, 0.0
        self._last: Event | None = None

    def _render(self, action: str, success: bool = True, action_return=None, error: str = "") -> Event:
        event = render_box_world(self.boxes, self.position, self.yaw, self.horizon, self.width, self.height, self.fov,
                                 self.room_lo, self.room_hi, scene_name=self.scene)
        event.metadata.update(lastAction=action, lastActionSuccess=success, errorMessage=error,
                              actionReturn=action_return)
        self._last = event
        return event

    def _free(self, x: float, z: float) -> bool:
        for box in self.boxes:
            if box.lo[0] - 0.2 <= x <= box.hi[0] + 0.2 and box.lo[2] - 0.2 <= z <= box.hi[2] + 0.2:
                return False
        return True

    def reset(self, scene: str | None = None, initial_state: dict | None = None, **options) -> Event:
        self.scene = scene or self.scene
        self.position, self.yaw, self.horizon = [0.0, AGENT_Y, 0.0], 0.0, 0.0
        return self._render("Initialize")

    def step(self, action=None, **args) -> Event:
        action, args = normalise_step_args(action, args)
        if action == "GetReachablePositions":
            xs = np.arange(self.room_lo[0] + 0.5, self.room_hi[0] - 0.5 + 1e-9, self.grid)
            zs = np.arange(self.room_lo[2] + 0.5, self.room_hi[2] - 0.5 + 1e-9, self.grid)
            free = [{"x": float(x), "y": AGENT_Y, "z": float(z)} for x in xs for z in zs if self._free(x, z)]
            return self._render(action, action_return=free)
        if action == "TeleportFull":
            if not self._free(float(args["x"]), float(args["z"])):
                return self._render(action, success=False, error="position is blocked")
            self.position = [float(args["x"]), float(args["y"]), float(args["z"])]
            self.yaw, self.horizon = float(args["rotation"]["y"]) % 360.0, float(args["horizon"])
        elif action in ("RotateRight", "RotateLeft"):
            self.yaw = (self.yaw + (1 if action == "RotateRight" else -1) * float(args.get("degrees", 90))) % 360.0
        elif action in ("LookUp", "LookDown"):
            horizon = self.horizon + (-1 if action == "LookUp" else 1) * float(args.get("degrees", 30))
            if not -30.0 <= horizon <= 60.0:
                return self._render(action, success=False, error="horizon out of range")
            self.horizon = horizon
        elif action != "Pass":
            raise ValueError(f"BoxWorldEnv does not implement action {action!r}")
        return self._render(action)

    def export_state(self) -> dict:
        return {"agents": [], "objects": [b.metadata() for b in self.boxes], "custom_object_metadata": {}}

    @property
    def last_event(self) -> Event:
        if self._last is None:
            raise RuntimeError("BoxWorldEnv: call reset() first")
        return self._last
