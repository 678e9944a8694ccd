"""Grid navigation over AI2-THOR's discrete action space, from metadata alone (works on both backends).

The agent lives on the ``GetReachablePositions`` grid (0.25 m) with yaw in multiples of 90 degrees and camera horizon
in multiples of 30 degrees within [-30, 60], as TEACh's agents do. :func:`interaction_poses` lists poses from which an
object is in view and within reach; :func:`shortest_path` plans the fewest MoveAhead/Rotate*/Look* actions to any of
them by breadth-first search (TEACh's own navigation builds the same 4-orientation graph from reachable positions).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .camera import camera_position, camera_to_world_thor, project_points

HORIZONS = (-30.0, 0.0, 30.0, 60.0)
YAWS = (0.0, 90.0, 180.0, 270.0)


@dataclass(frozen=True)
class Pose:
    x: float
    z: float
    yaw: float
    horizon: float

    def key(self, grid: float = 0.25) -> tuple:
        return (round(self.x / grid), round(self.z / grid), int(round(self.yaw)) % 360, int(round(self.horizon)))


def pose_of(metadata: dict) -> Pose:
    agent = metadata["agent"]
    return Pose(float(agent["position"]["x"]), float(agent["position"]["z"]),
                float(agent["rotation"]["y"]) % 360.0, float(agent["cameraHorizon"]))


def _box(obj: dict) -> tuple[np.ndarray, np.ndarray]:
    corners = np.asarray(obj["axisAlignedBoundingBox"]["cornerPoints"], dtype=float)
    return corners.min(axis=0), corners.max(axis=0)


def interaction_poses(obj: dict, reachable: list[dict], width: int = 300, height: int = 300, fov: float = 90.0,
                      max_distance: float = 1.3, agent_y: float = 0.9009992) -> list[Pose]:
    """Grid poses from which ``obj``'s box centre projects well inside the image and its box is within
    ``max_distance`` (horizontally) of the agent; nearest first."""
    lo, hi = _box(obj)
    centre = (lo + hi) / 2
    # Aim at the top of low, flat things (a plate on a counter) and the centre of the rest.
    target = centre.copy()
    target[1] = min(hi[1], centre[1] + 0.5 * (hi[1] - lo[1]))
    poses = []
    for p in reachable:
        x, z = float(p["x"]), float(p["z"])
        dx = max(lo[0] - x, 0.0, x - hi[0])
        dz = max(lo[2] - z, 0.0, z - hi[2])
        horizontal = math.hypot(dx, dz)
        if horizontal > max_distance or horizontal < 1e-6 and lo[1] < agent_y < hi[1]:
            continue
        heading = math.degrees(math.atan2(centre[0] - x, centre[2] - z)) % 360.0
        yaw = min(YAWS, key=lambda a: abs((a - heading + 180.0) % 360.0 - 180.0))
        if abs((yaw - heading + 180.0) % 360.0 - 180.0) > 40.0:
            continue
        cam = camera_position({"x": x, "y": agent_y, "z": z})
        best = None
        for horizon in HORIZONS:
            pixel, depth = project_points(target[None], width, height, fov, camera_to_world_thor(cam, yaw, horizon))
            if depth[0] <= 0.1:
                continue
            u, v = pixel[0]
            margin = 0.12
            if margin * width <= u <= (1 - margin) * width and margin * height <= v <= (1 - margin) * height:
                offset = abs(v - height / 2)
                if best is None or offset < best[0]:
                    best = (offset, horizon)
        if best is not None:
            poses.append((horizontal, Pose(x, z, yaw, best[1])))
    poses.sort(key=lambda t: (t[0], t[1].yaw, t[1].x, t[1].z))
    return [p for _, p in poses]


def shortest_path(reachable: list[dict], start: Pose, goals: list[Pose], grid: float = 0.25) -> list[str] | None:
    """Fewest discrete actions (MoveAhead, RotateLeft/Right, LookUp/Down) from ``start`` to any goal pose, or None."""
    free = {(round(float(p["x"]) / grid), round(float(p["z"]) / grid)) for p in reachable}
    goal_keys = {g.key(grid) for g in goals}
    if not goal_keys:
        return None
    s = start.key(grid)
    # Snap the start's yaw/horizon onto the discrete sets so the search space is closed.
    s = (s[0], s[1], int(min(YAWS, key=lambda a: abs((a - s[2] + 180) % 360 - 180))),
         int(min(HORIZONS, key=lambda h: abs(h - s[3]))))
    parents: dict[tuple, tuple | None] = {s: None}
    queue = deque([s])
    while queue:
        state = queue.popleft()
        if state in goal_keys:
            actions = []
            while parents[state] is not None:
                state, action = parents[state]
                actions.append(action)
            return actions[::-1]
        i, j, yaw, horizon = state
        step = {0: (0, 1), 90: (1, 0), 180: (0, -1), 270: (-1, 0)}[yaw]
        moves = [((i + step[0], j + step[1], yaw, horizon), "MoveAhead"),
                 ((i, j, (yaw + 90) % 360, horizon), "RotateRight"),
                 ((i, j, (yaw - 90) % 360, horizon), "RotateLeft"),
                 ((i, j, yaw, horizon - 30), "LookUp"),
                 ((i, j, yaw, horizon + 30), "LookDown")]
        for nxt, action in moves:
            if nxt in parents or (nxt[0], nxt[1]) not in free or not HORIZONS[0] <= nxt[3] <= HORIZONS[-1]:
                continue
            parents[nxt] = (state, action)
            queue.append(nxt)
    return None


def navigate_to(env, object_id: str, reachable: list[dict] | None = None, max_tries: int = 6) -> list[str] | None:
    """Walk ``env`` (any backend) to a pose from which ``object_id`` is visible, trying the nearest viewpoints first
    and skipping those from which it turns out occluded. Returns the actions taken, or None if no viewpoint works."""
    if reachable is None:
        reachable = env.step(action="GetReachablePositions").metadata["actionReturn"]
    taken: list[str] = []
    tried: set = set()
    for _ in range(max_tries):
        event = env.last_event
        obj = event.get_object(object_id)
        if obj is None:
            return None
        if obj["visible"]:
            return taken
        goals = [p for p in interaction_poses(obj, reachable, env.width, env.height, env.fov) if p.key() not in tried]
        if not goals:
            return None
        path = shortest_path(reachable, pose_of(event.metadata), goals)
        if path is None:
            return None
        for action in path:
            event = env.step(action=action)
            taken.append(action)
            if not event.metadata["lastActionSuccess"]:
                break
        tried.add(pose_of(env.last_event.metadata).key())
    obj = env.last_event.get_object(object_id)
    return taken if obj is not None and obj["visible"] else None
