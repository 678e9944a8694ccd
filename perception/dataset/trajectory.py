"""Look-around trajectories through a room, driven only by AI2-THOR actions on an ``envs`` environment.

From the reachable grid (``GetReachablePositions``, positions in ``metadata["actionReturn"]``) we pick positions spread
over the room (farthest-point sampling from a seeded start), visit them in a greedy nearest-neighbour tour with
``TeleportFull``, and at each one turn a full circle in 90 degree steps (``RotateRight``), capturing every heading
looking down 30 degrees and level (``LookUp``/``LookDown``): up to 8 views per position (views of bare walls or floor
are skipped). ODIN's AI2-THOR data teleports to random positions with random yaw (``ayushjain1144/odin`` at 9c67a0b:
``data_preparation/ai2thor/ai2thor_datagen.py``); the tour adds overlap between consecutive views.

Object-centric views (:func:`object_views`) add what a look-around rarely gives and an agent sees all the time: a small
object from about a metre, near the middle of the frame. They pick pickupable (or small) objects, favouring types the
sequence has shown least, teleport to a reachable spot 0.6-1.5 m away facing the object, with the camera horizon that
centres it (in 15 degree steps within AI2-THOR's -30..60), and keep the view only if the instance segmentation shows
the object there with enough pixels (an occluded object, or one shut in a cabinet, is skipped).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterator, Mapping

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
    return nearest_neighbour_tour(positions, chosen)


def nearest_neighbour_tour(points: np.ndarray, members: list[int]) -> list[int]:
    """``members`` (indices into ``points`` (N, D)) reordered as a greedy nearest-neighbour tour from the first."""
    tour, remaining = [members[0]], set(members[1:])
    while remaining:
        here = points[tour[-1]]
        nxt = min(remaining, key=lambda i: (float(np.linalg.norm(points[i] - here)), i))
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


OBJECT_VIEW_DISTANCE = (0.6, 1.5)
"""Horizontal distance (m) from the agent to the object's box centre: about where an agent stands to pick it up
(TEACh's reach is 1.5 m)."""
HORIZON_STEP = 15.0
HORIZON_LIMITS = (-30.0, 60.0)
SMALL_OBJECT_SIZE = 0.3
"""Largest box side (m) under which an object that is not pickupable (a StoveKnob, a LightSwitch) counts as small."""
TARGET_PIXELS = 16
"""Pixels an object needs in a frame to count as seen there (perception.data.MIN_TARGET_PIXELS, the training rule)."""
OBJECT_VIEW_STREAM = 0x0B1EC7
"""Mixed into the scene seed so object views draw from a stream of their own, apart from the look-around's."""


def default_min_pixels(width: int, height: int) -> int:
    """Pixels an object must show for its object view to be kept: 40 in a 300 x 300 frame, scaled with the frame's
    area, never under :data:`TARGET_PIXELS` (a mug at 1.5 m covers about 100 pixels of a 300 x 300 frame)."""
    return max(TARGET_PIXELS, round(40 * width * height / (300 * 300)))


def object_pixel_counts(event) -> dict[str, int]:
    """objectId -> pixels it covers in ``event``'s instance segmentation (objects that show at all)."""
    labels, names = segmentation_index_image(event)
    counts = np.bincount(labels.reshape(-1) + 1, minlength=len(names) + 1)[1:]
    return {name: int(count) for name, count in zip(names, counts.tolist()) if count}


def target_types(event, min_pixels: int = TARGET_PIXELS) -> set[str]:
    """Object types with at least one object of ``min_pixels`` pixels in ``event`` (what training counts as a target
    there); structure (floor, walls: ids not among the metadata's objects) is left out."""
    types = {o["objectId"]: o["objectType"] for o in event.metadata.get("objects", [])}
    return {types[oid] for oid, count in object_pixel_counts(event).items() if count >= min_pixels and oid in types}


def _largest_side(obj: dict) -> float:
    size = (obj.get("axisAlignedBoundingBox") or {}).get("size") or {}
    return max((float(size.get(k, 0.0)) for k in "xyz"), default=0.0)


def object_view_candidates(objects: list[dict], small_size: float = SMALL_OBJECT_SIZE) -> list[dict]:
    """Objects worth an object-centric view: pickupable ones and any other whose box is under ``small_size`` m,
    leaving out held objects and those inside a closed openable receptacle (a mug in a shut cabinet cannot show)."""
    by_id = {o["objectId"]: o for o in objects}
    chosen = []
    for obj in objects:
        if obj.get("objectType") in BACKGROUND_TYPES or obj.get("isPickedUp"):
            continue
        if not (obj.get("pickupable") or 0.0 < _largest_side(obj) <= small_size):
            continue
        parents = [by_id.get(p) for p in obj.get("parentReceptacles") or []]
        if any(p is not None and p.get("openable") and not p.get("isOpen") for p in parents):
            continue
        chosen.append(obj)
    return chosen


def _object_centre(obj: dict) -> np.ndarray:
    centre = (obj.get("axisAlignedBoundingBox") or {}).get("center") or obj["position"]
    return np.array([float(centre["x"]), float(centre["y"]), float(centre["z"])])


def facing_pose(place: Mapping, target: np.ndarray, horizon_step: float = HORIZON_STEP) -> tuple[float, float]:
    """(yaw, horizon) in degrees that point the standing agent's camera at ``place`` to thor point ``target``: yaw
    exactly (0 faces +z, 90 faces +x), horizon (positive looks down) rounded to ``horizon_step`` within -30..60."""
    from envs.camera import camera_position

    camera = camera_position(place, standing=True)
    dx, dz = float(target[0] - camera[0]), float(target[2] - camera[2])
    yaw = math.degrees(math.atan2(dx, dz)) % 360.0
    pitch = math.degrees(math.atan2(float(camera[1] - target[1]), math.hypot(dx, dz)))
    horizon = min(max(round(pitch / horizon_step) * horizon_step, HORIZON_LIMITS[0]), HORIZON_LIMITS[1])
    return yaw, float(horizon)


def object_in_view(event, object_id: str, min_pixels: int, centre_tolerance: float) -> bool:
    """True if ``object_id`` shows on at least ``min_pixels`` pixels with its mask's centroid within
    ``centre_tolerance`` of the frame's width and height from the centre."""
    labels, names = segmentation_index_image(event)
    if object_id not in names:
        return False
    rows, cols = np.nonzero(labels == names.index(object_id))
    if len(rows) < min_pixels:
        return False
    height, width = labels.shape
    return (abs((cols.mean() + 0.5) / width - 0.5) <= centre_tolerance
            and abs((rows.mean() + 0.5) / height - 0.5) <= centre_tolerance)


def object_views(env, n_views: int, seed: int, seen: Mapping[str, int] | None = None, **options) -> Iterator:
    """The Events of :func:`object_view_targets` (same arguments), without their objectIds."""
    for _, event in object_view_targets(env, n_views, seed, seen, **options):
        yield event


def object_view_targets(env, n_views: int, seed: int, seen: Mapping[str, int] | None = None, *,
                        min_pixels: int | None = None, distance: tuple[float, float] = OBJECT_VIEW_DISTANCE,
                        horizon_step: float = HORIZON_STEP, yaw_jitter: float = 8.0, centre_tolerance: float = 0.25,
                        tries_per_object: int = 6, spot_shuffle: float = 0.5,
                        small_size: float = SMALL_OBJECT_SIZE) -> list[tuple[str, object]]:
    """Up to ``n_views`` (objectId, Event) pairs, each a look at one small object from ``distance`` metres
    (deterministic for a seed and the env's state; the env must hold its scene, e.g. after ``reset`` or
    :func:`look_around`, and is left wherever the last view tried put the agent).

    Each pick draws a type among those of :func:`object_view_candidates` with weight 1 / (1 + frames the type was a
    target in so far), ``seen`` giving the counts of frames before these (objectType -> frames, e.g. from the
    look-around), then an object of that type with weight 1 / (1 + views of it so far)^2. Up to ``tries_per_object``
    reachable spots at that distance are tried, nearest first with distances shuffled by up to ``spot_shuffle`` m,
    each facing the object (:func:`facing_pose`, yaw then turned by up to +-``yaw_jitter`` degrees so it is not always
    dead centre); the first where :func:`object_in_view` holds is kept, and an object no tried spot shows (occluded,
    in a sink or a bin) is dropped. The views come out in a nearest-neighbour tour over their objects, so consecutive
    views (a 3D training chunk) tend to share a counter. Fewer than ``n_views`` come out only when every candidate
    is dropped or has no spot left. ``min_pixels`` defaults to :func:`default_min_pixels` of the frame size."""
    if n_views < 0:
        raise ValueError(f"object views must be >= 0, got {n_views}")
    lo, hi = distance
    if not 0.0 <= lo < hi:
        raise ValueError(f"distance must be (near, far) with 0 <= near < far metres, got {distance}")
    if not 0.0 < centre_tolerance <= 0.5:
        raise ValueError(f"centre_tolerance must be in (0, 0.5] of the frame, got {centre_tolerance}")
    if n_views == 0:
        return []
    rng = np.random.default_rng([int(seed), OBJECT_VIEW_STREAM])
    places = reachable_positions(env)
    event = env.last_event
    grid = np.array([[float(p["x"]), float(p["z"])] for p in places])
    if min_pixels is None:
        frame = np.asarray(event.frame)
        min_pixels = default_min_pixels(frame.shape[1], frame.shape[0])
    candidates = object_view_candidates(event.metadata.get("objects", []), small_size)
    centres = {o["objectId"]: _object_centre(o) for o in candidates}
    type_of = {o["objectId"]: o["objectType"] for o in event.metadata.get("objects", [])}
    type_frames = Counter(dict(seen or {}))
    views_of: Counter = Counter()
    tried: set[tuple[str, int]] = set()
    dropped: set[str] = set()
    kept: list[tuple[str, object]] = []
    while len(kept) < n_views:
        pool = [o["objectId"] for o in candidates if o["objectId"] not in dropped]
        if not pool:
            break
        types = sorted({type_of[oid] for oid in pool})
        type_weights = np.array([1.0 / (1 + type_frames[t]) for t in types])
        chosen_type = types[int(rng.choice(len(types), p=type_weights / type_weights.sum()))]
        same_type = [oid for oid in pool if type_of[oid] == chosen_type]
        weights = np.array([1.0 / (1 + views_of[oid]) ** 2 for oid in same_type])
        object_id = same_type[int(rng.choice(len(same_type), p=weights / weights.sum()))]
        centre = centres[object_id]
        gaps = np.linalg.norm(grid - centre[[0, 2]], axis=1)
        spots = np.array([i for i in np.flatnonzero((gaps >= lo) & (gaps <= hi)).tolist()
                          if (object_id, i) not in tried], dtype=int)
        # Nearer spots first, shuffled within about half a metre: thin objects (forks, knobs) need to be close.
        order = spots[np.argsort(gaps[spots] + rng.uniform(0.0, spot_shuffle, len(spots)), kind="stable")]
        view = None
        for spot in order[:tries_per_object].tolist():
            tried.add((object_id, spot))
            yaw, horizon = facing_pose(places[spot], centre, horizon_step)
            yaw = round((yaw + float(rng.uniform(-yaw_jitter, yaw_jitter))) % 360.0, 2)
            place = places[spot]
            candidate = env.step(action="TeleportFull", x=float(place["x"]), y=float(place["y"]),
                                 z=float(place["z"]), rotation=dict(x=0.0, y=yaw, z=0.0), horizon=horizon,
                                 standing=True)
            if candidate.metadata.get("lastActionSuccess") and object_in_view(candidate, object_id, min_pixels,
                                                                               centre_tolerance):
                view = candidate
                break
        if view is None:
            dropped.add(object_id)
            continue
        kept.append((object_id, view))
        views_of[object_id] += 1
        type_frames.update(target_types(view))
    if not kept:
        return []
    points = np.stack([centres[object_id] for object_id, _ in kept])
    return [kept[k] for k in nearest_neighbour_tour(points, list(range(len(kept))))]
