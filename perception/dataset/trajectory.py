"""Look-around trajectories through a room, driven only by AI2-THOR actions on an ``envs`` environment.

From the reachable grid (``GetReachablePositions``, positions in ``metadata["actionReturn"]``) we pick positions spread
over the room (farthest-point sampling from a seeded start), visit them in a greedy nearest-neighbour tour with
``TeleportFull``, and at each one turn a full circle in 90 degree steps (``RotateRight``), capturing every heading
looking down 30 degrees and level (``LookUp``/``LookDown``): up to 8 views per position (views of bare walls or floor
are skipped). ODIN's AI2-THOR data teleports to random positions with random yaw (``ayushjain1144/odin`` at 9c67a0b:
``data_preparation/ai2thor/ai2thor_datagen.py``); the tour adds overlap between consecutive views.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from ..providers import segmentation_index_image

BACKGROUND_TYPES = ("Floor", "Wall", "Ceiling")
VIEWS_PER_POSITION = 8
DOWN_HORIZON = 30.0
HEADINGS = (0.0, 90.0, 180.0, 270.0)


class TrajectoryError(RuntimeError):
    """The environment refused what a look-around needs (no reachable positions, every teleport failed, ...)."""


def spread_positions(positions: np.ndarray, count: int, rng: np.random.Generator) -> list[int]:
    """Indices of ``count`` points of ``positions`` (N, 2) spread by farthest-point sampling, then ordered as a greedy
    nearest-neighbour tour from the first."""
    count = min(count, len(positions))
    chosen = [int(rng.integers(len(positions)))]
    distance = np.linalg.norm(positions - positions[chosen[0]], axis=1)
    while len(chosen) < count:
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, np.linalg.norm(positions - positions[nxt], axis=1))
    tour, remaining = [chosen[0]], set(chosen[1:])
    while remaining:
        here = positions[tour[-1]]
        nxt = min(remaining, key=lambda i: (float(np.linalg.norm(positions[i] - here)), i))
        tour.append(nxt)
        remaining.remove(nxt)
    return tour


def reachable_positions(env) -> list[dict]:
    event = env.step(action="GetReachablePositions")
    positions = event.metadata.get("actionReturn") if event.metadata.get("lastActionSuccess") else None
    if not positions:
        reason = event.metadata.get("errorMessage") or "empty"
        raise TrajectoryError(f"GetReachablePositions gave no positions ({reason})")
    return list(positions)


def object_fraction(event) -> float:
    """Fraction of the frame covered by metadata objects other than the floor (walls and ceiling are not objects)."""
    labels, names = segmentation_index_image(event)
    objects = {o["objectId"]: o["objectType"] for o in event.metadata.get("objects", [])}
    wanted = [k for k, name in enumerate(names) if objects.get(name) not in (None, *BACKGROUND_TYPES)]
    return float(np.isin(labels, wanted).mean()) if wanted else 0.0


def look_around(env, scene: str, n_views: int, seed: int, min_object_fraction: float = 0.02) -> Iterator:
    """Reset ``env`` to ``scene`` and yield ``n_views`` Events along a look-around tour (deterministic for a seed).

    Views where objects (not floor, walls or ceiling) cover less than ``min_object_fraction`` of the frame, such as a
    close look at a bare wall, are passed over; further passes over the room (new positions and headings) make up
    the count."""
    if n_views < 1:
        raise ValueError(f"--views must be >= 1, got {n_views}")
    rng = np.random.default_rng(seed)
    env.reset(scene=scene)
    positions = reachable_positions(env)
    grid = np.array([[float(p["x"]), float(p["z"])] for p in positions])
    wanted = math.ceil(n_views / VIEWS_PER_POSITION)
    produced = 0
    while produced < n_views:
        produced_this_pass = 0
        for index in spread_positions(grid, wanted, rng):
            place = positions[index]
            start = float(rng.choice(HEADINGS))
            event = env.step(action="TeleportFull", x=float(place["x"]), y=float(place["y"]), z=float(place["z"]),
                             rotation=dict(x=0.0, y=start, z=0.0), horizon=DOWN_HORIZON, standing=True)
            if not event.metadata.get("lastActionSuccess"):
                continue
            for turn in range(len(HEADINGS)):
                views = [event]
                level = env.step(action="LookUp", degrees=DOWN_HORIZON)
                if level.metadata.get("lastActionSuccess"):
                    views.append(level)
                    env.step(action="LookDown", degrees=DOWN_HORIZON)
                for view in views:
                    if min_object_fraction > 0 and object_fraction(view) < min_object_fraction:
                        continue
                    yield view
                    produced += 1
                    produced_this_pass += 1
                    if produced >= n_views:
                        return
                event = env.step(action="RotateRight", degrees=90)
        if produced_this_pass == 0:
            raise TrajectoryError(f"{scene}: no usable view in a whole pass (every TeleportFull failed, or no view "
                                  f"shows objects on {min_object_fraction:.0%} of the frame)")
