"""Memory recall and precision of a perception provider after a fixed look-around on unseen floorplans.

    python -m perception.evaluate_memory --provider gt
    python -m perception.evaluate_memory --provider odin --scenes 6 --spots 3 --threads 1
    python -m perception.evaluate_memory --provider odin-2d --checkpoint runs/x/last.safetensors --label x_2d

The figure that matters to the agent: after looking around, does its 3D memory (``provider.memory``, what the
executor searches with ``memory.find(type)``) hold the objects it saw, of the right type, near where they are, and are
the instances it would act on real? AP (``perception.evaluate``) scores the model; this scores the provider + memory
as the agent uses them.

Protocol (every number below is an option; the defaults are the documented protocol):

* **Scenes**: the floorplans of ``--splits`` (default ``valid_unseen`` then ``test_unseen``: 12 floorplans whose
  layouts no training sequence shows), in that order, the first ``--scenes`` of them; 300x300 frames, FOV 90,
  ``envs.make_env`` (embedded backend).
* **Look-around**: per scene, ``--spots`` (4) positions from ``GetReachablePositions``, spread over the room by
  farthest-point sampling from a seeded random start and visited as a nearest-neighbour tour
  (:func:`perception.dataset.trajectory.spread_positions`, seed ``scene_seed(--seed, scene)``). At each spot the
  agent faces a seeded start heading and turns a full circle in four 90 degree steps, one view per heading at each
  ``--horizons`` (default 30, looking down; ``--horizons 30 0`` adds level views). Poses are set with ``TeleportFull``
  (the poses ``RotateRight`` / ``LookUp`` would reach). Every event goes to ``provider.observe(event)`` in order; the
  provider is reset per scene, so each scene starts from an empty memory.
* **Truth**: the scene's objects (``metadata["objects"]``; nothing moves during a look-around). An object is *seen* if
  it covers at least ``--min-pixels`` (20) pixels of the instance segmentation in at least one view. Floor and Wall
  are left out, as in ODIN's AI2-THOR evaluation.
* **Memory**: after the last view, the memory's instances (class name, centroid in the thor frame, confidence).
  Instances with confidence >= ``--min-confidence`` (0.3, the agent's ``ExecutorConfig.min_confidence``) are the ones
  the agent acts on: *confident* instances.
* **Matching**: per scene and type, confident instances and true objects (all of them, seen or not, so that mapping an
  object glimpsed under ``--min-pixels`` is no false positive) are paired one-to-one, greedily by increasing distance,
  when the distance is at most ``--radius`` (0.5 m). The distance is from the instance's centroid to the object's
  axis-aligned bounding box (0 inside it): for small objects this is the distance to the object, for a counter top or
  a bed any centroid on it counts.
* **Figures**, per type and pooled over *small task objects* (:data:`SMALL_TASK_OBJECTS`) and over all types:
  recall = seen objects paired with a confident instance / seen objects; precision = confident instances paired with
  an object / confident instances (of the row's types); *duplicates* = unpaired confident instances within
  ``--radius`` of an object of their type that another instance already took (a fragmented or doubled object, as
  opposed to one where nothing of that type is). ``recall (any conf.)`` repeats the recall with every instance
  regardless of confidence (what a lower threshold could buy). The table lists the types with at least
  ``--min-type-count`` (3) seen objects; the JSON has every type and every scene.

Output: ``OUT/memory_eval_<label>.json`` (settings, command, rows, per type, per scene) and ``.md`` (the table).

**Memory ablations without the model**: ``--memory FIELD=VALUE`` sets a :class:`perception.memory.MemoryConfig` field
of the provider's memory. ``--save-views DIR`` also records every view (depth, the pose and inventory the memory reads,
the provider's detections with their class candidates) and the truth to ``DIR/<scene>.npz``; ``--replay DIR`` then
scores those detections with a fresh memory, in seconds instead of the provider's minutes, e.g.::

    python -m perception.evaluate_memory --provider odin --min-score 0.15 --save-views runs/views_odin
    python -m perception.evaluate_memory --replay runs/views_odin --min-score 0.3 --memory misses_to_remove=2

A replay keeps the recording's look-around (other ``--spots`` etc. are refused) but may change the scoring options;
its ``--min-score`` drops recorded detections under it, which equals the provider's own threshold (the provider
suppresses overlapping masks in score order, so a lower recording threshold only adds lower-scored masks).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from envs.cli import ArgumentParser

from .cli import DEFAULT_EVAL_OUT, command_line, refuse_to_overwrite
from .dataset.trajectory import TrajectoryError, reachable_positions, spread_positions
from .detections import Detections
from .memory import parse_memory_options
from .providers import segmentation_index_image

DEFAULT_SPLITS = ("valid_unseen", "test_unseen")
DEFAULT_OUT = DEFAULT_EVAL_OUT  # a git-ignored run folder; the shipped figures live in perception/checkpoints
SKIP_CLASSES = ("Floor", "Wall")
"""Left out on both sides, as ``perception.evaluate.SKIP_CLASSES`` (ODIN's AI2-THOR evaluation)."""
HEADINGS = (0.0, 90.0, 180.0, 270.0)

SMALL_TASK_OBJECTS = (
    # kitchen: tableware, cookware, cutlery, food (and its slices)
    "Mug", "Cup", "Bowl", "Plate", "Pot", "Pan", "Kettle", "Knife", "ButterKnife", "Spoon", "Fork", "Spatula", "Ladle",
    "Bread", "BreadSliced", "Apple", "AppleSliced", "Tomato", "TomatoSliced", "Potato", "PotatoSliced", "Egg",
    "EggCracked", "Lettuce", "LettuceSliced", "SaltShaker", "PepperShaker", "DishSponge", "SoapBottle", "Bottle",
    "WineBottle", "PaperTowelRoll", "AluminumFoil",
    # bathroom
    "SoapBar", "ToiletPaper", "SprayBottle", "Cloth", "HandTowel", "ScrubBrush", "Candle", "TissueBox",
    # living room / bedroom
    "CellPhone", "KeyChain", "CreditCard", "RemoteControl", "Pen", "Pencil", "Watch", "Book", "Newspaper", "CD",
    "AlarmClock", "Vase", "Statue",
)
"""Pickupable AI2-THOR types that fit in one hand: what TEACh tasks send the agent to find, and what a look-around
glimpses in a few pixels. Left out of the pickupables: BaseballBat, BasketBall, Boots, Box, Dumbbell, Laptop, Pillow,
Plunger, TableTopDecor, TeddyBear, TennisRacket, Towel, WateringCan."""


@dataclass(frozen=True)
class MemoryEvalConfig:
    splits: tuple[str, ...] = DEFAULT_SPLITS
    scenes: int | None = None
    spots: int = 4
    horizons: tuple[float, ...] = (30.0,)
    seed: int = 0
    min_pixels: int = 20
    radius: float = 0.5
    min_confidence: float = 0.3
    min_type_count: int = 3
    size: int = 300

    def __post_init__(self) -> None:
        if self.spots < 1:
            raise ValueError(f"--spots must be >= 1, got {self.spots}")
        if self.scenes is not None and self.scenes < 1:
            raise ValueError(f"--scenes must be >= 1, got {self.scenes}")
        if self.min_pixels < 1:
            raise ValueError(f"--min-pixels must be >= 1, got {self.min_pixels}")
        if self.radius <= 0:
            raise ValueError(f"--radius must be positive, got {self.radius}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"--min-confidence must be in [0, 1], got {self.min_confidence}")
        if not self.horizons:
            raise ValueError("--horizons needs at least one value")


def scene_seed(seed: int, scene: str) -> int:
    """A per-scene seed independent of the other scenes in the run (as ``perception.make_dataset``)."""
    return (seed * 1_000_003 + zlib.crc32(scene.encode())) % (2**32)


def evaluation_scenes(splits: Sequence[str], count: int | None = None) -> list[str]:
    from envs.scenes import floorplans

    scenes = [scene for split in splits for scene in floorplans(split)]
    return scenes[:count] if count else scenes


# ------------------------------------------------------------------------------------------------- look-around
def look_around(env, scene: str, spots: int, seed: int, horizons: Sequence[float] = (30.0,)) -> Iterator:
    """Reset ``env`` to ``scene`` and yield the look-around's events (see the module docstring)."""
    rng = np.random.default_rng(seed)
    env.reset(scene=scene)
    positions = reachable_positions(env)
    grid = np.array([[float(p["x"]), float(p["z"])] for p in positions])
    produced = 0
    for index in spread_positions(grid, spots, rng):
        place = positions[index]
        start = float(rng.choice(HEADINGS))
        for turn in range(len(HEADINGS)):
            for horizon in horizons:
                event = env.step(action="TeleportFull", x=float(place["x"]), y=float(place["y"]),
                                 z=float(place["z"]), rotation=dict(x=0.0, y=(start + 90.0 * turn) % 360.0, z=0.0),
                                 horizon=float(horizon), standing=True)
                if event.metadata.get("lastActionSuccess"):
                    produced += 1
                    yield event
    if produced == 0:
        raise TrajectoryError(f"{scene}: every TeleportFull of the look-around failed")


def visible_pixels(event) -> dict[str, int]:
    """objectId -> pixel count in the event's instance segmentation."""
    labels, names = segmentation_index_image(event)
    counts = np.bincount(labels[labels >= 0].ravel(), minlength=len(names))
    return {name: int(c) for name, c in zip(names, counts) if c > 0}


# ---------------------------------------------------------------------------------------------------- matching
@dataclass
class TrueObject:
    object_id: str
    object_type: str
    box_min: np.ndarray
    box_max: np.ndarray
    max_pixels: int = 0


def true_objects(metadata: dict) -> list[TrueObject]:
    objects = []
    for o in metadata.get("objects", []):
        if o["objectType"] in SKIP_CLASSES:
            continue
        box = o.get("axisAlignedBoundingBox") or {}
        corners = np.asarray(box.get("cornerPoints") or [], dtype=float).reshape(-1, 3)
        if len(corners) == 0:
            p = o["position"]
            corners = np.array([[p["x"], p["y"], p["z"]]], dtype=float)
        objects.append(TrueObject(o["objectId"], o["objectType"], corners.min(0), corners.max(0)))
    return objects


def box_distance(point: np.ndarray, box_min: np.ndarray, box_max: np.ndarray) -> float:
    """Euclidean distance from ``point`` to an axis-aligned box (0 inside it)."""
    return float(np.linalg.norm(np.maximum(0.0, np.maximum(box_min - point, point - box_max))))


def greedy_match(objects: Sequence[TrueObject], centroids: Sequence[np.ndarray],
                 radius: float) -> list[tuple[int, int, float]]:
    """One-to-one (object index, instance index, distance) pairs, shortest distance first, up to ``radius``."""
    candidates = sorted((box_distance(c, o.box_min, o.box_max), i, j)
                        for i, o in enumerate(objects) for j, c in enumerate(centroids))
    used_objects, used_instances, pairs = set(), set(), []
    for distance, i, j in candidates:
        if distance > radius:
            break
        if i in used_objects or j in used_instances:
            continue
        used_objects.add(i)
        used_instances.add(j)
        pairs.append((i, j, distance))
    return pairs


@dataclass
class TypeCounts:
    seen: int = 0
    seen_recalled: int = 0
    seen_recalled_any: int = 0
    confident: int = 0
    confident_correct: int = 0
    confident_duplicates: int = 0
    distances: list[float] = field(default_factory=list)

    def add(self, other: "TypeCounts") -> None:
        self.seen += other.seen
        self.seen_recalled += other.seen_recalled
        self.seen_recalled_any += other.seen_recalled_any
        self.confident += other.confident
        self.confident_correct += other.confident_correct
        self.confident_duplicates += other.confident_duplicates
        self.distances += other.distances

    def summary(self) -> dict:
        return {"seen": self.seen, "recalled": self.seen_recalled,
                "recall": self.seen_recalled / self.seen if self.seen else None,
                "recall_any_confidence": self.seen_recalled_any / self.seen if self.seen else None,
                "confident_instances": self.confident, "correct": self.confident_correct,
                "precision": self.confident_correct / self.confident if self.confident else None,
                "duplicates": self.confident_duplicates,
                "median_match_distance": float(np.median(self.distances)) if self.distances else None}


def score_scene(objects: Sequence[TrueObject], instances: Sequence[tuple[str, np.ndarray, float]], min_pixels: int,
                radius: float, min_confidence: float) -> dict[str, TypeCounts]:
    """Per-type counts of one scene: ``instances`` are (class name, thor centroid, confidence)."""
    counts: dict[str, TypeCounts] = {}
    types = {o.object_type for o in objects} | {name for name, _, _ in instances if name not in SKIP_CLASSES}
    for object_type in sorted(types):
        typed = [o for o in objects if o.object_type == object_type]
        seen = {i for i, o in enumerate(typed) if o.max_pixels >= min_pixels}
        every = [(c, conf) for name, c, conf in instances if name == object_type]
        confident = [c for c, conf in every if conf >= min_confidence]
        pairs = greedy_match(typed, confident, radius)
        pairs_any = greedy_match(typed, [c for c, _ in every], radius)
        paired = {j for _, j, _ in pairs}
        duplicates = sum(1 for j, c in enumerate(confident) if j not in paired
                         and any(box_distance(c, o.box_min, o.box_max) <= radius for o in typed))
        counts[object_type] = TypeCounts(
            seen=len(seen), seen_recalled=sum(1 for i, _, _ in pairs if i in seen),
            seen_recalled_any=sum(1 for i, _, _ in pairs_any if i in seen), confident=len(confident),
            confident_correct=len(pairs), confident_duplicates=duplicates, distances=[d for _, _, d in pairs])
    return counts


def memory_instances(memory) -> list[tuple[str, np.ndarray, float]]:
    return [(inst.class_name, np.asarray(inst.centroid, dtype=float), float(inst.confidence))
            for inst in memory.instances()]


def pooled_rows(per_type: dict[str, TypeCounts], min_type_count: int) -> list[tuple[str, dict]]:
    """Table rows: each type with at least ``min_type_count`` seen objects, then small objects and all."""
    rows = [(name, counts.summary()) for name, counts in sorted(per_type.items())
            if counts.seen >= min_type_count]
    small, everything = TypeCounts(), TypeCounts()
    for name, counts in per_type.items():
        everything.add(counts)
        if name in SMALL_TASK_OBJECTS:
            small.add(counts)
    return rows + [("small task objects", small.summary()), ("all", everything.summary())]


def format_table(rows: list[tuple[str, dict]], min_confidence: float) -> str:
    def pct(value):
        return "-" if value is None else f"{100 * value:.0f}"

    lines = [f"| objects | seen | recalled | recall % | instances (conf >= {min_confidence:g}) | correct | "
             f"precision % | duplicates | recall %, any conf. |", "|---|---|---|---|---|---|---|---|---|"]
    for name, row in rows:
        label = f"**{name}**" if name in ("small task objects", "all") else name
        lines.append(f"| {label} | {row['seen']} | {row['recalled']} | {pct(row['recall'])} | "
                     f"{row['confident_instances']} | {row['correct']} | {pct(row['precision'])} | "
                     f"{row['duplicates']} | {pct(row['recall_any_confidence'])} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- record and replay
VIEWS_FORMAT = 1
REPLAY_METADATA_KEYS = ("agent", "cameraPosition", "fov", "inventoryObjects", "lastActionSuccess")
"""What the memory reads from an event's metadata (pose, FOV, inventory): all a replay keeps of it."""


class ReplayEvent:
    """A recorded view, enough for ``SemanticMemory.update``: ``metadata`` (pose, FOV, inventory) and ``depth_frame``."""

    def __init__(self, metadata: dict, depth_frame: np.ndarray):
        self.metadata = metadata
        self.depth_frame = depth_frame


class ViewRecorder:
    """Writes each scene's views (depth, the metadata the memory reads, the provider's detections) and its truth
    (objects with their most visible pixel counts) to ``DIR/<scene>.npz``, so that memory settings can be compared by
    replaying one provider run (``--replay DIR``) without the simulator or the model."""

    def __init__(self, directory: Path, provider_name: str, config: MemoryEvalConfig, command: str | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        header = {"format": VIEWS_FORMAT, "provider": provider_name, "settings": asdict(config), "command": command}
        (self.directory / "views.json").write_text(json.dumps(header, indent=1) + "\n")
        self._clear()

    def _clear(self) -> None:
        self._depth, self._meta, self._masks, self._det_view, self._scores, self._dets = [], [], [], [], [], []

    def add(self, event, detections) -> None:
        view = len(self._depth)
        self._depth.append(np.asarray(event.depth_frame, dtype=np.float32))
        self._meta.append({k: event.metadata[k] for k in REPLAY_METADATA_KEYS if k in event.metadata})
        for k in range(len(detections)):
            self._masks.append(np.packbits(detections.masks[k].reshape(-1)))
            self._det_view.append(view)
            self._scores.append(float(detections.scores[k]))
            self._dets.append({
                "class_name": detections.class_names[k],
                "instance_id": detections.instance_ids[k] if detections.instance_ids is not None else None,
                "state": detections.states[k] if detections.states is not None else None,
                "class_scores": detections.class_scores[k] if detections.class_scores is not None else None})

    def finish_scene(self, scene: str, objects: Sequence[TrueObject]) -> None:
        truth = [{"object_id": o.object_id, "object_type": o.object_type, "box_min": o.box_min.tolist(),
                  "box_max": o.box_max.tolist(), "max_pixels": int(o.max_pixels)} for o in objects]
        shape = self._depth[0].shape
        masks = np.stack(self._masks) if self._masks else np.zeros((0, (shape[0] * shape[1] + 7) // 8), np.uint8)
        info = {"views": self._meta, "detections": self._dets, "objects": truth, "shape": list(shape)}
        np.savez_compressed(self.directory / f"{scene}.npz", depth=np.stack(self._depth), masks=masks,
                            det_view=np.asarray(self._det_view, dtype=np.int32),
                            scores=np.asarray(self._scores, dtype=np.float32),
                            info=np.frombuffer(json.dumps(info).encode(), dtype=np.uint8))
        self._clear()


def read_views_header(directory: Path) -> dict:
    path = Path(directory) / "views.json"
    if not path.is_file():
        raise FileNotFoundError(f"--replay {directory}: no views.json (record one with --save-views DIR)")
    header = json.loads(path.read_text())
    if header.get("format") != VIEWS_FORMAT:
        raise ValueError(f"{path}: format {header.get('format')!r}, this code reads format {VIEWS_FORMAT}")
    return header


def replay_scene(path: Path) -> tuple[list[tuple[ReplayEvent, Detections]], list[TrueObject]]:
    """A recorded scene's (event, detections) pairs in order and its true objects."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: recorded scene missing (was --save-views run over these scenes?)")
    with np.load(path) as data:
        depth, masks, det_view, scores = data["depth"], data["masks"], data["det_view"], data["scores"]
        info = json.loads(data["info"].tobytes().decode())
    height, width = info["shape"]
    dets = info["detections"]
    views = []
    for view, metadata in enumerate(info["views"]):
        chosen = np.flatnonzero(det_view == view)
        if len(chosen) == 0:
            detections = Detections.empty(height, width)
        else:
            unpacked = np.unpackbits(masks[chosen], axis=1, count=height * width).astype(bool)
            picked = [dets[k] for k in chosen]
            detections = Detections(
                masks=unpacked.reshape(len(chosen), height, width), class_names=[d["class_name"] for d in picked],
                scores=scores[chosen],
                instance_ids=[d["instance_id"] for d in picked] if picked[0]["instance_id"] is not None else None,
                states=[d["state"] for d in picked] if picked[0]["state"] is not None else None,
                class_scores=[d["class_scores"] for d in picked] if picked[0]["class_scores"] is not None else None)
        views.append((ReplayEvent(metadata, depth[view]), detections))
    objects = [TrueObject(o["object_id"], o["object_type"], np.asarray(o["box_min"]), np.asarray(o["box_max"]),
                          o["max_pixels"]) for o in info["objects"]]
    return views, objects


LOOK_AROUND_OPTIONS = ("splits", "scenes", "spots", "horizons", "seed", "size")


def replayed_config(directory: Path, look: dict | None = None, scoring: dict | None = None) -> MemoryEvalConfig:
    """The recording's settings with ``scoring`` changes; ``look`` (look-around settings) must match the recording."""
    header = read_views_header(directory)
    recorded = MemoryEvalConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in header["settings"].items()})
    changed = [k for k, v in (look or {}).items() if v != getattr(recorded, k)]
    if changed:
        raise ValueError(f"--replay {directory} was recorded with other look-around settings: "
                         f"{', '.join(f'--{k} {getattr(recorded, k)}' for k in changed)}")
    return MemoryEvalConfig(**{**asdict(recorded), **(scoring or {})})


def replay_memory(directory: Path, memory_options: dict | None = None, min_score: float | None = None,
                  config: MemoryEvalConfig | None = None, progress: bool = True) -> dict:
    """The report of a recorded run with a fresh memory built from ``memory_options`` (``MemoryConfig`` fields),
    detections under ``min_score`` dropped. The look-around settings are the recording's; ``config`` may change only
    the scoring (``--radius``, ``--min-confidence``, ``--min-pixels``, ``--min-type-count``)."""
    from tqdm import tqdm

    from .memory import memory_from_options

    header = read_views_header(directory)
    config = config or replayed_config(directory)
    scenes = evaluation_scenes(config.splits, config.scenes)
    per_type: dict[str, TypeCounts] = {}
    per_scene = []
    seconds, steps = 0.0, 0
    for scene in tqdm(scenes, desc=f"memory replay {header['provider']}", unit="scene", disable=not progress):
        memory = memory_from_options(memory_options)
        views, objects = replay_scene(Path(directory) / f"{scene}.npz")
        for event, detections in views:
            if min_score is not None:
                detections = detections.filter_by_score(min_score)
            tic = time.perf_counter()
            memory.update(event, detections)
            seconds += time.perf_counter() - tic
        steps += len(views)
        per_scene.append(_score_into(per_type, scene, len(views), objects, memory_instances(memory), config))
    return {"provider": header["provider"], "settings": asdict(config), "scenes": scenes, "views": steps,
            "provider_seconds_per_view": None, "memory_seconds_per_view": seconds / steps if steps else None,
            "replay": {"directory": str(directory), "memory": dict(memory_options or {}), "min_score": min_score,
                       "recorded_by": header.get("command")},
            **_pooled_report(per_type, per_scene, config)}


def _pooled_report(per_type: dict[str, TypeCounts], per_scene: list, config: MemoryEvalConfig) -> dict:
    """The report's figures, shared by a live run and a replay: table rows, every type, every scene."""
    rows = pooled_rows(per_type, config.min_type_count)
    return {"rows": [{"objects": name, **row} for name, row in rows],
            "per_type": {name: counts.summary() for name, counts in sorted(per_type.items())},
            "per_scene": per_scene, "small_task_objects": list(SMALL_TASK_OBJECTS)}


def _score_into(per_type: dict[str, TypeCounts], scene: str, views: int, objects: Sequence[TrueObject],
                instances: list, config: MemoryEvalConfig) -> dict:
    """Score one scene, add its counts to ``per_type``; returns its per-scene record."""
    counts = score_scene(objects, instances, config.min_pixels, config.radius, config.min_confidence)
    for name, c in counts.items():
        per_type.setdefault(name, TypeCounts()).add(c)
    scene_rows = dict(pooled_rows(counts, min_type_count=10**9))
    return {"scene": scene, "views": views, "objects": len(objects),
            "seen": sum(1 for o in objects if o.max_pixels >= config.min_pixels),
            "memory_instances": len(instances),
            "confident_instances": sum(1 for _, _, conf in instances if conf >= config.min_confidence),
            "small task objects": scene_rows["small task objects"], "all": scene_rows["all"]}


# ------------------------------------------------------------------------------------------------------ runner
def evaluate_memory(provider, config: MemoryEvalConfig, env=None, progress: bool = True,
                    recorder: ViewRecorder | None = None) -> dict:
    """Run the protocol with ``provider`` (reset per scene); returns the report (see ``main`` for its files).
    A ``recorder`` keeps every view and detection for :func:`replay_memory`."""
    from tqdm import tqdm

    scenes = evaluation_scenes(config.splits, config.scenes)
    own_env = env is None
    if own_env:
        from envs import make_env

        env = make_env(width=config.size, height=config.size, seed=config.seed)
    per_type: dict[str, TypeCounts] = {}
    per_scene = []
    provider_seconds, steps = 0.0, 0
    try:
        bar = tqdm(scenes, desc=f"memory eval {getattr(provider, 'name', 'provider')}", unit="scene",
                   disable=not progress)
        for scene in bar:
            provider.reset()
            pixels: dict[str, int] = {}
            last = None
            scene_steps = 0
            for event in look_around(env, scene, config.spots, scene_seed(config.seed, scene), config.horizons):
                for object_id, count in visible_pixels(event).items():
                    pixels[object_id] = max(pixels.get(object_id, 0), count)
                tic = time.perf_counter()
                detections = provider.observe(event)
                provider_seconds += time.perf_counter() - tic
                if recorder is not None:
                    recorder.add(event, detections)
                scene_steps += 1
                last = event
            steps += scene_steps
            objects = true_objects(last.metadata)
            for o in objects:
                o.max_pixels = pixels.get(o.object_id, 0)
            if recorder is not None:
                recorder.finish_scene(scene, objects)
            per_scene.append(_score_into(per_type, scene, scene_steps, objects, memory_instances(provider.memory),
                                         config))
    finally:
        if own_env:
            env.close()
    return {"provider": getattr(provider, "name", type(provider).__name__), "settings": asdict(config),
            "scenes": scenes, "views": steps,
            "provider_seconds_per_view": provider_seconds / steps if steps else None,
            **_pooled_report(per_type, per_scene, config)}


ODIN_OPTIONS = ("checkpoint", "context_views", "resolution", "class_votes", "min_score", "zoom_tiles", "zoom_fraction",
                "zoom_max_area", "zoom_min_score")
"""Command-line options passed to the odin / odin-2d providers under the same names (refused for gt)."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(prog="python -m perception.evaluate_memory", description=__doc__.split("\n")[0])
    parser.add_argument("--provider", default="gt", help="perception provider: gt, odin, odin-2d (make_provider)")
    parser.add_argument("--checkpoint", type=Path, default=None, help="ODIN .safetensors for odin / odin-2d "
                                                                      "(default: the shipped small)")
    parser.add_argument("--context-views", type=int, default=None, help="odin's window (default: the provider's)")
    parser.add_argument("--resolution", type=int, default=None,
                        help="odin's model input size in pixels (default: the checkpoint's training resolution)")
    parser.add_argument("--class-votes", type=int, default=None,
                        help="odin's classes per mask that the memory fuses (default: the provider's)")
    parser.add_argument("--min-score", type=float, default=None,
                        help="odin's detection threshold (default: the provider's)")
    parser.add_argument("--zoom-tiles", type=int, default=None,
                        help="odin's zoom: also run the 2D path on an n x n grid of crops (0: off; default: the "
                             "provider's)")
    parser.add_argument("--zoom-fraction", type=float, default=None,
                        help="odin's zoom crop side as a fraction of the frame's (default: the provider's)")
    parser.add_argument("--zoom-max-area", type=float, default=None,
                        help="odin's zoom keeps crop instances covering at most this fraction of the frame "
                             "(default: the provider's)")
    parser.add_argument("--zoom-min-score", type=float, default=None,
                        help="odin's zoom detection threshold for crop instances (default: the provider's)")
    parser.add_argument("--memory", action="append", default=[], metavar="FIELD=VALUE",
                        help="a MemoryConfig field of the provider's memory, e.g. --memory unseen_penalty=0.3 "
                             "(repeatable; perception.memory)")
    parser.add_argument("--save-views", type=Path, default=None, metavar="DIR",
                        help="also record every view (depth, pose, the provider's detections) and the truth to "
                             "DIR/<scene>.npz for --replay")
    parser.add_argument("--replay", type=Path, default=None, metavar="DIR",
                        help="score a recorded run (--save-views DIR) with a fresh memory (--memory ...) instead of "
                             "running the simulator and the provider; --min-score then drops recorded detections "
                             "under it")
    parser.add_argument("--splits", nargs="+", default=None,
                        help=f"floorplan splits (envs.scenes; default: {' '.join(DEFAULT_SPLITS)})")
    parser.add_argument("--scenes", type=int, default=None, help="only the first N floorplans (default: all)")
    parser.add_argument("--spots", type=int, default=None, help="look-around positions per scene (default: 4)")
    parser.add_argument("--horizons", type=float, nargs="+", default=None,
                        help="camera horizons per heading (30 = looking down 30 degrees; 0 = level)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the look-around spots and start headings (default: 0)")
    parser.add_argument("--min-pixels", type=int, default=20, help="pixels in one view for an object to count as seen")
    parser.add_argument("--radius", type=float, default=0.5, help="metres from an instance centroid to the object")
    parser.add_argument("--min-confidence", type=float, default=0.3,
                        help="instances below this confidence are not acted on (agent's ExecutorConfig)")
    parser.add_argument("--min-type-count", type=int, default=3, help="table rows for types with this many seen")
    parser.add_argument("--size", type=int, default=None, help="frame width and height (default: 300)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (odin / odin-2d)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for memory_eval_<label>.json/.md")
    parser.add_argument("--label", default=None, help="file label (default: the provider name)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace memory_eval_<label>.* even when another command wrote them (without it such "
                             "files are refused before any work)")
    args = parser.parse_args(argv)
    if args.min_score is not None and not 0 <= args.min_score <= 1:
        parser.error(f"--min-score must be in [0, 1], got {args.min_score}")
    for name in ("scenes", "spots", "min_pixels", "min_type_count", "size", "threads", "context_views",
                 "class_votes"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.resolution is not None and (args.resolution < 32 or args.resolution % 32):
        parser.error(f"--resolution must be a multiple of 32 and >= 32, got {args.resolution}")
    if not args.radius > 0 or not 0 <= args.min_confidence <= 1:
        parser.error("--radius must be > 0 and --min-confidence in [0, 1]")
    if args.label is not None and (not args.label or "/" in args.label or args.label in (".", "..")):
        parser.error(f"--label must be a plain file-name part, got {args.label!r}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} exists and is not a directory")
    try:
        args.memory = parse_memory_options(args.memory)
    except ValueError as error:
        parser.error(f"--memory {error}")
    if args.replay is not None:
        refused = [name for name in (*ODIN_OPTIONS, "threads", "save_views")
                   if name != "min_score" and getattr(args, name) is not None]
        if refused:
            parser.error(f"--replay scores recorded detections; {', '.join('--' + n.replace('_', '-') for n in refused)}"
                         f" would change the provider run, which is not repeated")
    return args


def report_paths(out: Path, label: str) -> tuple[Path, Path]:
    """OUT/memory_eval_<label>.json and .md; a label may hold dots (``odin_ms0.4``): it is never taken for a suffix."""
    return out / f"memory_eval_{label}.json", out / f"memory_eval_{label}.md"


def main(argv=None) -> int:
    args = parse_args(argv)
    command = command_line("perception.evaluate_memory", argv)
    try:
        if args.replay is not None and args.label is None:
            args.label = f"{read_views_header(args.replay)['provider']}_replay"
        paths = report_paths(args.out, args.label or args.provider)
        refuse_to_overwrite(list(paths), command, args.overwrite)
        look = {name: getattr(args, name) for name in LOOK_AROUND_OPTIONS if getattr(args, name) is not None}
        look = {k: tuple(v) if isinstance(v, list) else v for k, v in look.items()}
        scoring = dict(min_pixels=args.min_pixels, radius=args.radius, min_confidence=args.min_confidence,
                       min_type_count=args.min_type_count)
        if args.replay is not None:
            config = replayed_config(args.replay, look, scoring)
            report = replay_memory(args.replay, args.memory or None, args.min_score, config)
        else:
            config = MemoryEvalConfig(**look, **scoring)
            evaluation_scenes(config.splits)  # a bad split name fails before anything starts
            report = _run_provider(args, config, command)
    except (FileNotFoundError, ValueError, TrajectoryError) as error:
        print(f"perception.evaluate_memory: {error}", file=sys.stderr)
        return 2
    return _write_report(args, config, command, report)


def _run_provider(args, config: MemoryEvalConfig, command: str) -> dict:
    from .providers import make_provider

    given = {name: getattr(args, name) for name in ODIN_OPTIONS if getattr(args, name) is not None}
    if args.provider == "gt" and given:
        raise ValueError(f"{', '.join('--' + n.replace('_', '-') for n in given)}: options of the odin providers, "
                         f"not gt")
    options = dict(given)
    if args.provider != "gt" and args.threads:
        options["threads"] = args.threads
    if args.memory:
        options["memory"] = dict(args.memory)
    provider = make_provider(args.provider, **options)
    recorder = None
    if args.save_views is not None:
        recorder = ViewRecorder(args.save_views, getattr(provider, "name", args.provider), config, command)
    report = evaluate_memory(provider, config, recorder=recorder)
    if args.memory:
        report["memory"] = dict(args.memory)
    return report


def _write_report(args, config: MemoryEvalConfig, command: str, report: dict) -> int:
    report["command"] = command
    if args.checkpoint is not None:
        report["checkpoint"] = str(args.checkpoint)
    rows = [(row["objects"], row) for row in report["rows"]]
    table = format_table(rows, config.min_confidence)
    print(table)
    label = args.label or args.provider
    args.out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = report_paths(args.out, label)
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    seconds = report["provider_seconds_per_view"]
    if "replay" in report:
        timing = (f"replay of {report['replay']['directory']} (recorded with provider {report['provider']}), memory "
                  f"{1e3 * (report['memory_seconds_per_view'] or 0):.0f} ms per view")
    else:
        timing = f"provider {report['provider']}, {1e3 * (seconds or 0):.0f} ms per view (observe: detect + memory)"
    memory = report.get("memory") or (report.get("replay") or {}).get("memory")
    if memory:
        timing += "; memory " + ", ".join(f"{k}={v}" for k, v in memory.items())
    md_path.write_text(
        f"`{command}`\n\n{len(report['scenes'])} scenes ({', '.join(report['scenes'])}), {report['views']} views, "
        f"{timing}\n\n{table}\n")
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
