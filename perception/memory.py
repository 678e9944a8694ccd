"""The 3D semantic memory: per-step 2D detections fused into persistent object instances.

Each detection mask is lifted to 3D with the event's planar depth and camera pose (``envs.camera``, zup frame), thinned
to one point per voxel (voxel hashing, ``voxel_size``) and fused into the map, as in ODIN's 2D->3D lifting (arXiv
2401.02416, sec. 3) and the usual "lift, voxelise, associate" object maps of embodied agents (e.g. CLIP-Fields,
ConceptGraphs). Rules, chosen so a reader can predict the map:

**Lifting**: a mask's pixels with valid depth, minus those on depth silhouettes (a jump to a neighbour of more than
``depth_edge_ratio`` of the depth, where a mask bleeds onto the background), unless that leaves too few.

**Association** (per detection, in score order):

1. If the detection carries a simulator objectId (ground truth), the id decides: it joins the instance with that id,
   or starts a new one.
2. Otherwise ``overlap = |D n I| / min(|D|, |I|)`` over the voxel sets D (detection) and I (instance). The detection
   joins the instance with the largest overlap among instances of a *compatible* class (an earlier detection of the
   instance named the detection's class first; runner-up class candidates vote but do not make classes compatible)
   with ``overlap >= match_overlap``; failing that, the instance of any class with the best voxel IoU
   ``>= relabel_iou`` (the same surfaces under another label, so that class votes can correct a label; IoU, not
   overlap, so a small object lying on a big one is not swallowed by it).
3. Failing that, it joins the nearest compatible instance whose centroid lies within ``merge_radius``.
4. Otherwise it becomes a new instance. When a detection overlaps several compatible instances above
   ``match_overlap`` (two partial views of one object seen together at last), those instances are merged.

**Decay and removal**: every instance not detected in a step whose points project into the frame is checked against the
depth: a point is *free* if the observed depth lies more than ``free_space_margin`` behind it (we see through where it
was), *occluded* if the depth is in front of it, *consistent* otherwise. If at least ``min_checked_points`` points are
free or consistent and at least ``free_fraction`` of them are free, the instance records a miss: its evidence drops by
``miss_penalty`` (so its confidence falls); after ``misses_to_remove`` consecutive misses, or with no evidence left, it
is removed.

**Picked-up objects** (``metadata["inventoryObjects"]``): an instance whose objectId is held is removed at once; without
ids, when a type newly appears in the inventory, the instance of that type nearest the camera within ``pickup_reach`` is
removed. Detections of a held object (its objectId, or its type closer than ``held_object_max_depth``) are not mapped,
so an object in the hand never enters the map; once put down it is seen again and mapped where it lies.

**Frames**: the map is kept in the zup frame of ``envs.camera``; everything handed to callers (``centroid``,
``bbox_min``/``bbox_max``, ``points``, ``position``) is in the **thor frame** (x, y up, z; what AI2-THOR metadata
uses); ``points_zup`` and ``centroid_zup`` give the zup copies for 3D models.

**Class votes**: a detection votes its score for its class; one that carries ``class_scores`` (the classes a model
hesitated between) votes each of them with its own score, so that views agreeing on the second choice can outvote a
wrong first choice (per-view class distributions summed over views, the usual label fusion of semantic maps, e.g.
SemanticFusion, McCormac et al. ICRA 2017, there as a product of probabilities).

**Confidence** = class share (top class votes / all votes) * (1 - exp(-evidence)); evidence is the sum of detection
scores minus miss penalties. One ground-truth sighting gives 0.63, three give 0.95.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

from envs.camera import event_camera_to_world, project_points, thor_to_zup, unproject_depth, zup_to_thor

from .detections import Detections

_KEY_OFFSET = 1 << 20
_KEY_BITS = 21


@dataclass
class MemoryConfig:
    """Tunable constants of :class:`SemanticMemory` (see the module docstring for the rules they steer)."""

    voxel_size: float = 0.05
    max_points_per_instance: int = 2048
    min_mask_pixels: int = 10
    min_valid_points: int = 5
    max_depth: float = 10.0
    depth_edge_ratio: float = 0.05
    """Pixels whose depth differs from a 4-neighbour by more than this fraction of their depth sit on a silhouette
    where a mask may bleed onto the background by a pixel; they are left out (unless that empties the mask).
    0 disables the filter."""
    match_overlap: float = 0.25
    relabel_iou: float = 0.5
    merge_radius: float = 0.05
    free_space_margin: float = 0.1
    free_fraction: float = 0.5
    min_checked_points: int = 8
    free_space_sample: int = 256
    """Points per instance tested against the depth in the free-space check (a strided sample keeps it cheap)."""
    misses_to_remove: int = 3
    miss_penalty: float = 0.25
    unseen_penalty: float = 0.0
    """Evidence an instance loses in a step whose view shows it (enough of its points in the frame at the observed
    depth, within ``unseen_max_distance``) while no detection joins it: a detector's one-off mistake fades when the
    place is seen again without it. 0 (default) disables; only free space then counts against an instance."""
    unseen_max_distance: float = 3.0
    """Metres from the camera beyond which an undetected instance is not expected to be detected (no penalty)."""
    pickup_reach: float = 2.0
    held_object_max_depth: float = 0.8
    fov: float | None = None
    """Fallback vertical FOV (degrees) when an event's metadata has no ``fov``."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.voxel_size <= 0:
            raise ValueError(f"MemoryConfig.voxel_size must be positive, got {self.voxel_size}")
        if self.max_points_per_instance < 1:
            raise ValueError(f"MemoryConfig.max_points_per_instance must be >= 1, got {self.max_points_per_instance}")
        if self.unseen_penalty < 0 or self.unseen_max_distance <= 0:
            raise ValueError(f"MemoryConfig.unseen_penalty must be >= 0 and unseen_max_distance > 0, got "
                             f"{self.unseen_penalty} and {self.unseen_max_distance}")
        for name in ("match_overlap", "relabel_iou", "free_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"MemoryConfig.{name} must be in [0, 1], got {getattr(self, name)}")


def voxel_keys(points: np.ndarray, voxel_size: float) -> np.ndarray:
    """One int64 hash per point: its voxel's integer (i, j, k) packed into 21 bits each (+-52 km at 5 cm)."""
    cells = np.floor(points / voxel_size).astype(np.int64) + _KEY_OFFSET
    return (cells[:, 0] << (2 * _KEY_BITS)) | (cells[:, 1] << _KEY_BITS) | cells[:, 2]


def depth_edges(depth: np.ndarray, ratio: float) -> np.ndarray:
    """(H, W) bool: pixels whose planar depth jumps by more than ``ratio`` * depth to a 4-neighbour (silhouettes)."""
    jump = np.zeros(depth.shape, dtype=np.float32)
    vertical = np.abs(np.diff(depth, axis=0))
    horizontal = np.abs(np.diff(depth, axis=1))
    np.maximum(jump[1:, :], vertical, out=jump[1:, :])
    np.maximum(jump[:-1, :], vertical, out=jump[:-1, :])
    np.maximum(jump[:, 1:], horizontal, out=jump[:, 1:])
    np.maximum(jump[:, :-1], horizontal, out=jump[:, :-1])
    with np.errstate(invalid="ignore"):
        return jump > ratio * depth


def _thin_to_voxels(points: np.ndarray, voxel_size: float) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique voxel keys, first point in each voxel)."""
    keys = voxel_keys(points, voxel_size)
    unique, first = np.unique(keys, return_index=True)
    return unique, points[first]


@dataclass(eq=False)  # identity: two instances are never "equal" by value, and arrays make == ambiguous
class Instance:
    """One object in the map. Geometry is stored in zup; the public properties speak the thor frame."""

    instance_id: int
    points_zup: np.ndarray
    voxel_keys: np.ndarray
    class_votes: dict[str, float]
    first_seen: int
    last_seen: int
    n_observations: int = 1
    evidence: float = 0.0
    misses: int = 0
    consecutive_misses: int = 0
    object_id_votes: dict[str, int] = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    named_as: set[str] = field(default_factory=set)  # classes some detection of it named first (association)

    def __post_init__(self) -> None:
        if not self.named_as:
            self.named_as = set(self.class_votes)
        self._refresh_geometry()

    def _refresh_geometry(self) -> None:
        self.centroid_zup = self.points_zup.mean(axis=0)
        self._min_zup = self.points_zup.min(axis=0)
        self._max_zup = self.points_zup.max(axis=0)

    # --- class and confidence -----------------------------------------------------------------------------------------
    @property
    def class_name(self) -> str:
        return max(self.class_votes.items(), key=lambda kv: (kv[1], kv[0]))[0]

    @property
    def class_confidence(self) -> float:
        total = sum(self.class_votes.values())
        return self.class_votes[self.class_name] / total if total > 0 else 0.0

    @property
    def confidence(self) -> float:
        return self.class_confidence * (1.0 - math.exp(-max(self.evidence, 0.0)))

    @property
    def object_id(self) -> str | None:
        """The simulator objectId most often associated (ground-truth providers only)."""
        if not self.object_id_votes:
            return None
        return max(self.object_id_votes.items(), key=lambda kv: (kv[1], kv[0]))[0]

    # --- geometry, thor frame -----------------------------------------------------------------------------------------
    @property
    def points(self) -> np.ndarray:
        return zup_to_thor(self.points_zup)

    @property
    def centroid(self) -> np.ndarray:
        return zup_to_thor(self.centroid_zup)

    @property
    def position(self) -> dict:
        x, y, z = (float(v) for v in self.centroid)
        return {"x": x, "y": y, "z": z}

    @property
    def bbox_min(self) -> np.ndarray:
        return zup_to_thor(self._min_zup)

    @property
    def bbox_max(self) -> np.ndarray:
        return zup_to_thor(self._max_zup)

    @property
    def bbox_zup(self) -> tuple[np.ndarray, np.ndarray]:
        return self._min_zup, self._max_zup

    def to_json(self) -> dict:
        return {
            "id": self.instance_id,
            "class": self.class_name,
            "confidence": round(self.confidence, 4),
            "class_votes": {k: round(v, 4) for k, v in sorted(self.class_votes.items())},
            "object_id": self.object_id,
            "centroid": [round(float(v), 4) for v in self.centroid],
            "bbox_min": [round(float(v), 4) for v in self.bbox_min],
            "bbox_max": [round(float(v), 4) for v in self.bbox_max],
            "n_points": int(len(self.points_zup)),
            "n_observations": self.n_observations,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "misses": self.misses,
            "state": dict(self.state),
        }


def _as_thor_xyz(position, name: str = "position") -> np.ndarray:
    if isinstance(position, Mapping):
        try:
            return np.array([float(position["x"]), float(position["y"]), float(position["z"])])
        except KeyError as exc:
            raise ValueError(f"{name} dict needs keys x, y, z; missing {exc}") from None
    array = np.asarray(position, dtype=float).reshape(-1)
    if array.shape != (3,):
        raise ValueError(f"{name} must be a dict with x, y, z or a 3-vector, got {position!r}")
    return array


def _surrounds(rec: Instance, obj: Instance, radius: float, depth: float, above: float) -> bool:
    """Whether ``rec`` has a point within ``radius`` of ``obj``'s horizontal extent (zup x, y), from ``depth`` below
    ``obj``'s lowest point to ``above`` above it: the receptacle's own surface under or around the object."""
    obj_min, obj_max = obj.bbox_zup
    reach = radius + 0.5 * float(max(obj_max[0] - obj_min[0], obj_max[1] - obj_min[1]))
    points = rec.points_zup
    c = obj.centroid_zup
    near = np.hypot(points[:, 0] - c[0], points[:, 1] - c[1]) <= reach
    low = (points[:, 2] >= obj_min[2] - depth) & (points[:, 2] <= obj_min[2] + above)
    return bool(np.any(near & low))


class SemanticMemory:
    """Persistent 3D object instances fused from per-step detections (rules in the module docstring)."""

    def __init__(self, config: MemoryConfig | None = None, **options):
        if config is not None and options:
            raise ValueError("give SemanticMemory either a MemoryConfig or keyword options, not both")
        self.config = config or MemoryConfig(**options)
        self.reset()

    def reset(self) -> None:
        self._instances: dict[int, Instance] = {}
        self._next_id = 1
        self.step = 0
        self._held_types: set[str] = set()
        self._rng = np.random.default_rng(self.config.seed)

    # --- queries ------------------------------------------------------------------------------------------------------
    def instances(self) -> list[Instance]:
        return [self._instances[k] for k in sorted(self._instances)]

    def __len__(self) -> int:
        return len(self._instances)

    def get(self, instance_id: int) -> Instance | None:
        return self._instances.get(instance_id)

    def find(self, object_type: str, min_confidence: float = 0.0) -> list[Instance]:
        """Instances whose class is ``object_type``, most confident first."""
        found = [i for i in self._instances.values() if i.class_name == object_type and i.confidence >= min_confidence]
        return sorted(found, key=lambda i: (-i.confidence, i.instance_id))

    def nearest(self, object_type: str, position) -> Instance | None:
        """The instance of ``object_type`` whose centroid is nearest ``position`` (thor frame: a metadata-style dict
        with x, y, z, or a 3-vector), or None."""
        target = thor_to_zup(_as_thor_xyz(position))
        candidates = self.find(object_type)
        if not candidates:
            return None
        distances = [float(np.linalg.norm(i.centroid_zup - target)) for i in candidates]
        return candidates[int(np.argmin(distances))]

    def contents(self, receptacle: Instance | str, footprint_margin: float = 0.05, support_tolerance: float = 0.08,
                 containment_margin: float = 0.05, support_radius: float = 0.1, support_depth: float = 0.3
                 ) -> list[Instance]:
        """What lies in or on ``receptacle`` (an instance, or a type meaning every instance of it).

        An object counts when its centroid is over the receptacle's footprint (horizontal bbox grown by
        ``footprint_margin``) and either rests *on* it (its lowest point within ``support_tolerance`` of the
        receptacle's top) or lies *in* it: its bbox inside the receptacle's bbox grown by ``containment_margin``, and
        some of the receptacle's own surface around or under it (a point within ``support_radius`` of its horizontal
        extent, from ``support_depth`` below its lowest point to ``support_tolerance`` above it: a shelf, a floor, a
        bowl's wall). The box alone is not enough: an open fridge's box holds its door's swing, and so whatever stands
        on the counter beside the door.
        """
        receptacles = self.find(receptacle) if isinstance(receptacle, str) else [receptacle]
        receptacle_ids = {r.instance_id for r in receptacles}
        found: dict[int, Instance] = {}
        for rec in receptacles:
            rec_min, rec_max = rec.bbox_zup
            for obj in self._instances.values():
                if obj.instance_id in receptacle_ids or obj.instance_id in found:
                    continue
                obj_min, obj_max = obj.bbox_zup
                c = obj.centroid_zup
                over = (rec_min[0] - footprint_margin <= c[0] <= rec_max[0] + footprint_margin
                        and rec_min[1] - footprint_margin <= c[1] <= rec_max[1] + footprint_margin)
                if not over:
                    continue
                on_top = abs(obj_min[2] - rec_max[2]) <= support_tolerance
                inside = bool(np.all(obj_min >= rec_min - containment_margin)
                              and np.all(obj_max <= rec_max + containment_margin))
                if on_top or (inside and _surrounds(rec, obj, support_radius, support_depth, support_tolerance)):
                    found[obj.instance_id] = obj
        return sorted(found.values(), key=lambda i: (-i.confidence, i.instance_id))

    def to_json(self) -> dict:
        return {"step": self.step, "config": asdict(self.config),
                "instances": [i.to_json() for i in self.instances()]}

    # --- update -------------------------------------------------------------------------------------------------------
    def insert(self, class_name: str, points, score: float = 1.0, object_id: str | None = None,
               state: Mapping | None = None) -> Instance:
        """Add an instance directly from thor-frame ``points`` (N, 3): priors, hand-made scenes, tests."""
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
            raise ValueError(f"points must be a non-empty (N, 3) array, got shape {points.shape}")
        keys, thinned = _thin_to_voxels(thor_to_zup(points), self.config.voxel_size)
        return self._create(keys, thinned, class_name, float(score), object_id, state)

    def update(self, event, detections: Detections) -> list[int | None]:
        """Fuse one step's detections; returns, per detection, the instance id it went to (None if not mapped)."""
        cfg = self.config
        self.step += 1
        metadata = event.metadata
        depth = event.depth_frame
        if depth is None:
            raise ValueError("event.depth_frame is None: the 3D memory needs depth (renderDepthImage=True)")
        depth = np.asarray(depth, dtype=np.float32)
        if len(detections) and detections.frame_shape != depth.shape:
            raise ValueError(f"detection masks are {detections.frame_shape} but event.depth_frame is {depth.shape}")
        fov = metadata.get("fov") or cfg.fov
        if fov is None:
            raise ValueError("event.metadata has no 'fov' and MemoryConfig.fov is not set")
        pose = event_camera_to_world(metadata, frame="zup")
        camera_zup = pose[:3, 3]

        held_ids, newly_held_types = self._track_inventory(metadata)
        self._remove_picked_up(held_ids, newly_held_types, camera_zup)

        world = unproject_depth(depth, float(fov), pose)
        valid_depth = (depth > 0) & (depth < cfg.max_depth) & np.isfinite(depth)
        interior = valid_depth & ~depth_edges(depth, cfg.depth_edge_ratio) if cfg.depth_edge_ratio > 0 else valid_depth
        held_types = self._held_types
        assigned: list[int | None] = [None] * len(detections)
        touched: set[int] = set()
        for index in np.argsort(-detections.scores, kind="stable"):
            mask = detections.masks[index] & interior
            if mask.sum() < max(cfg.min_mask_pixels, cfg.min_valid_points):
                mask = detections.masks[index] & valid_depth  # small or thin: every pixel is an edge pixel
                if mask.sum() < max(cfg.min_mask_pixels, cfg.min_valid_points):
                    continue
            class_name = detections.class_names[index]
            object_id = detections.instance_ids[index] if detections.instance_ids is not None else None
            if object_id is not None and object_id in held_ids:
                continue
            if class_name in held_types and float(np.median(depth[mask])) < cfg.held_object_max_depth:
                continue
            keys, points = _thin_to_voxels(world[mask], cfg.voxel_size)
            state = detections.states[index] if detections.states is not None else None
            target = self._associate(keys, points, class_name, object_id, touched)
            score = float(detections.scores[index])
            votes = detections.candidates(int(index))
            if target is None:
                target = self._create(keys, points, class_name, score, object_id, state, votes)
            else:
                self._absorb(target, keys, points, class_name, score, object_id, state, votes)
            touched.add(target.instance_id)
            assigned[index] = target.instance_id

        self._decay_unseen(depth, float(fov), pose, touched)
        return assigned

    def _track_inventory(self, metadata: Mapping) -> tuple[set[str], set[str]]:
        inventory = metadata.get("inventoryObjects") or []
        held_ids = {o["objectId"] for o in inventory if o.get("objectId")}
        held_types = {o.get("objectType") or o["objectId"].split("|")[0] for o in inventory if o.get("objectId")}
        newly_held = held_types - self._held_types
        self._held_types = held_types
        return held_ids, newly_held

    def _remove_picked_up(self, held_ids: set[str], newly_held_types: set[str], camera_zup: np.ndarray) -> None:
        removed_types = set()
        for inst in list(self._instances.values()):
            if inst.object_id is not None and inst.object_id in held_ids:
                removed_types.add(inst.class_name)
                del self._instances[inst.instance_id]
        for object_type in newly_held_types - removed_types:
            near = [i for i in self._instances.values() if i.class_name == object_type and i.object_id is None]
            if not near:
                continue
            distances = [float(np.linalg.norm(i.centroid_zup - camera_zup)) for i in near]
            best = int(np.argmin(distances))
            if distances[best] <= self.config.pickup_reach:
                del self._instances[near[best].instance_id]

    def _associate(self, keys: np.ndarray, points: np.ndarray, class_name: str, object_id: str | None,
                   touched: set[int]) -> Instance | None:
        cfg = self.config
        if object_id is not None:
            # Ground truth: the id decides, and an id never seen before is a new object whatever the geometry says.
            for inst in self._instances.values():
                if inst.object_id == object_id:
                    return inst
            return None
        lo = points.min(axis=0) - cfg.voxel_size
        hi = points.max(axis=0) + cfg.voxel_size
        compatible: list[tuple[float, Instance]] = []
        best_other: tuple[float, Instance] | None = None
        everyone = list(self._instances.values())
        if not everyone:
            return None
        mins = np.array([i._min_zup for i in everyone])
        maxs = np.array([i._max_zup for i in everyone])
        boxes_touch = np.all((mins <= hi) & (maxs >= lo), axis=1)
        for inst in (everyone[k] for k in np.flatnonzero(boxes_touch)):
            shared = np.count_nonzero(np.isin(keys, inst.voxel_keys, assume_unique=True))
            if class_name in inst.named_as:
                overlap = shared / min(len(keys), len(inst.voxel_keys))
                if overlap >= cfg.match_overlap:
                    compatible.append((overlap, inst))
                continue
            # Across classes use IoU, so a spoon lying on a counter (all its voxels in the counter's) stays a spoon.
            iou = shared / (len(keys) + len(inst.voxel_keys) - shared)
            if iou >= cfg.relabel_iou and (best_other is None or iou > best_other[0]):
                best_other = (iou, inst)
        if compatible:
            compatible.sort(key=lambda pair: (-pair[0], pair[1].instance_id))
            keep = compatible[0][1]
            for _, other in compatible[1:]:
                if other.instance_id not in touched:
                    self._merge(keep, other)
            return keep
        if best_other is not None:
            return best_other[1]
        centres = np.array([i.centroid_zup for i in everyone])
        distances = np.linalg.norm(centres - points.mean(axis=0), axis=1)
        nearest, nearest_distance = None, cfg.merge_radius
        for k in np.flatnonzero(distances <= cfg.merge_radius):
            if class_name in everyone[k].named_as and distances[k] <= nearest_distance:
                nearest, nearest_distance = everyone[k], float(distances[k])
        return nearest

    def _create(self, keys, points, class_name, score, object_id, state, votes=None) -> Instance:
        inst = Instance(
            instance_id=self._next_id, points_zup=points.astype(np.float32), voxel_keys=keys,
            class_votes=dict(votes) if votes else {class_name: score}, first_seen=self.step, last_seen=self.step,
            evidence=score, object_id_votes={object_id: 1} if object_id else {}, state=dict(state or {}),
            named_as={class_name},
        )
        self._bound(inst)
        self._instances[inst.instance_id] = inst
        self._next_id += 1
        return inst

    def _absorb(self, inst: Instance, keys, points, class_name, score, object_id, state, votes=None) -> None:
        for name, vote in (votes or {class_name: score}).items():
            inst.class_votes[name] = inst.class_votes.get(name, 0.0) + vote
        inst.named_as.add(class_name)
        if object_id:
            inst.object_id_votes[object_id] = inst.object_id_votes.get(object_id, 0) + 1
        if state:
            inst.state.update(state)
        if inst.last_seen != self.step:
            inst.n_observations += 1
        inst.last_seen = self.step
        inst.evidence += score
        inst.consecutive_misses = 0
        self._add_points(inst, keys, points)

    def _merge(self, keep: Instance, other: Instance) -> None:
        for name, votes in other.class_votes.items():
            keep.class_votes[name] = keep.class_votes.get(name, 0.0) + votes
        keep.named_as |= other.named_as
        for oid, votes in other.object_id_votes.items():
            keep.object_id_votes[oid] = keep.object_id_votes.get(oid, 0) + votes
        keep.n_observations += other.n_observations
        keep.evidence += other.evidence
        keep.first_seen = min(keep.first_seen, other.first_seen)
        keep.last_seen = max(keep.last_seen, other.last_seen)
        self._add_points(keep, other.voxel_keys, other.points_zup)
        del self._instances[other.instance_id]

    def _add_points(self, inst: Instance, keys: np.ndarray, points: np.ndarray) -> None:
        all_keys = np.concatenate([inst.voxel_keys, keys])
        all_points = np.concatenate([inst.points_zup, points.astype(np.float32)])
        inst.voxel_keys, first = np.unique(all_keys, return_index=True)  # earlier (older) points win their voxel
        inst.points_zup = all_points[first]
        self._bound(inst)
        inst._refresh_geometry()

    def _bound(self, inst: Instance) -> None:
        limit = self.config.max_points_per_instance
        if len(inst.voxel_keys) > limit:
            keep = np.sort(self._rng.choice(len(inst.voxel_keys), size=limit, replace=False))
            inst.voxel_keys = inst.voxel_keys[keep]
            inst.points_zup = inst.points_zup[keep]
            inst._refresh_geometry()

    def _decay_unseen(self, depth: np.ndarray, fov: float, pose: np.ndarray, touched: set[int]) -> None:
        cfg = self.config
        height, width = depth.shape
        candidates = [i for i in self._instances.values() if i.instance_id not in touched]
        if not candidates:
            return
        samples = [i.points_zup[::max(1, -(-len(i.points_zup) // cfg.free_space_sample))] for i in candidates]
        lengths = [len(p) for p in samples]
        pixels, z = project_points(np.concatenate(samples), width, height, fov, pose)
        with np.errstate(invalid="ignore"):
            in_view = (z > 0.05) & (pixels[:, 0] >= 0) & (pixels[:, 0] < width) & (pixels[:, 1] >= 0) \
                & (pixels[:, 1] < height)
        observed = np.full(len(z), np.nan)
        cols = np.floor(pixels[in_view, 0]).astype(int)
        rows = np.floor(pixels[in_view, 1]).astype(int)
        observed[in_view] = depth[rows, cols]
        with np.errstate(invalid="ignore"):
            usable = in_view & (observed > 0) & np.isfinite(observed)
            free = usable & (observed > z + cfg.free_space_margin)
            consistent = usable & (np.abs(observed - z) <= cfg.free_space_margin)
        start = 0
        for inst, count in zip(candidates, lengths):
            n_free = int(free[start:start + count].sum())
            n_checked = n_free + int(consistent[start:start + count].sum())
            start += count
            if n_checked < cfg.min_checked_points:
                continue
            if n_free < cfg.free_fraction * n_checked:
                # We see its surface where it was, but no detection joined it: unconfirmed, not contradicted.
                if cfg.unseen_penalty > 0 and n_checked - n_free >= cfg.free_fraction * n_checked and \
                        float(np.linalg.norm(inst.centroid_zup - pose[:3, 3])) <= cfg.unseen_max_distance:
                    inst.evidence = max(0.0, inst.evidence - cfg.unseen_penalty)  # kept: a later detection revives it
                continue
            inst.misses += 1
            inst.consecutive_misses += 1
            inst.evidence -= cfg.miss_penalty
            if inst.consecutive_misses >= cfg.misses_to_remove or inst.evidence <= 0:
                del self._instances[inst.instance_id]


def memory_from_options(options: Mapping | MemoryConfig | None) -> SemanticMemory:
    """A memory from a config, a dict of :class:`MemoryConfig` fields, or None (defaults)."""
    if options is None:
        return SemanticMemory()
    if isinstance(options, MemoryConfig):
        return SemanticMemory(options)
    unknown = set(options) - set(MemoryConfig.__dataclass_fields__)
    if unknown:
        known = sorted(MemoryConfig.__dataclass_fields__)
        raise ValueError(f"unknown memory option(s) {sorted(unknown)}; known: {known}")
    return SemanticMemory(MemoryConfig(**options))


def parse_memory_options(pairs: Sequence[str]) -> dict:
    """``["unseen_penalty=0.3", "voxel_size=0.04"]`` -> typed ``MemoryConfig`` fields (the command-line form of
    ``--memory`` / ``--memory-option``); unknown names, bad values and out-of-range values are refused by name."""
    from dataclasses import fields

    known = {f.name: f for f in fields(MemoryConfig)}
    options = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"{pair!r}: expected FIELD=VALUE")
        if name not in known:
            raise ValueError(f"{pair!r}: MemoryConfig has no field {name!r}; known: {sorted(known)}")
        default = known[name].default
        try:
            if isinstance(default, bool):
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                value = text.lower() in ("true", "1")
            elif isinstance(default, int):
                value = int(text)
            elif text.lower() == "none":
                value = None
            else:
                value = float(text)
        except ValueError:
            raise ValueError(f"{pair!r}: {text!r} is not a valid {name} "
                             f"({type(default).__name__ if default is not None else 'float'})") from None
        options[name] = value
    MemoryConfig(**options)  # range checks name the field
    return options


__all__ = ["Instance", "MemoryConfig", "SemanticMemory", "depth_edges", "memory_from_options", "parse_memory_options",
           "voxel_keys"]
