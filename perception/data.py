"""Training and evaluation data for ODIN: exported sequences at model resolution, 3D view chunks and single 2D frames.

A dataset directory is what :mod:`perception.make_dataset` writes (``OUT/dataset.json``, ``OUT/<split>/<scene>/``).
Each sequence is loaded once with :func:`perception.dataset.scannet.load_sequence` and resized to the training
resolution: colour by area averaging, world points (zup, from depth and pose through ``envs.camera``, kept as depth
and computed when a batch reads them: :class:`DepthPoints`) and instance ids by nearest neighbour, so every
low-resolution pixel carries the exact surface point of the full-resolution pixel it samples. Mask targets are not
taken from those nearest samples: each object's share of every cell of the stride-4 grid of ``pred_masks`` is
measured on the full-resolution instance image (area resampling), so an object of 15 x 15 pixels in a 300 px frame,
which nearest sampling to a 32 x 32 grid would keep as one or two cells or drop, is a soft target of the right size
and place. This plays the part of Mask2Former's point-sampled mask loss, which reads the
ground truth at full resolution at each sampled point (Cheng et al., CVPR 2022, section 3.3 / ``point_sample``).

Samples follow ODIN's recipe (``ayushjain1144/odin`` at 9c67a0b, ``dataset_mapper_scannet.py``): a 3D sample is V
consecutive frames of one scene from a random start with a random stride (wrapping around), with p=0.5 a random subset
of them kept ("camera drop"); a 2D sample is one frame. Ground-truth masks live on the stride-4 grid of ``pred_masks``.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from envs.camera import pixel_rays
from envs.jsonfile import read_json

from .dataset.scannet import load_sequence
from .dataset.writer import DEPTH_SCALE
from .odin.config import MASK_STRIDE
MIN_TARGET_PIXELS = 16  # an object needs this many full-resolution pixels in a frame to be a target there


class DepthPoints:
    """(T, h, w, 3) float32 zup world points of a resized sequence, computed when indexed from its depth (uint16
    millimetres, as exported), each pixel's full-resolution ray and each frame's pose: 74 KB a 192 px frame where the
    points themselves take 442 KB, so a training set of 15,000 frames holds 5 GB instead of 11 (two runs fit a
    24 GiB machine). Indexing along frames gives exactly what ``unproject_depth`` of the nearest-resized frame gives;
    ``np.asarray`` gives every frame."""

    def __init__(self, depth_mm: np.ndarray, rays: np.ndarray, poses: np.ndarray):
        self.depth_mm, self.rays, self.poses = depth_mm, rays, poses
        self.shape = depth_mm.shape + (3,)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return len(self.depth_mm)

    def __getitem__(self, frames) -> np.ndarray:
        depth = self.depth_mm[frames].astype(np.float32) / DEPTH_SCALE
        poses = self.poses[frames]
        cam = self.rays * depth[..., None]
        if depth.ndim == 2:
            return (cam @ poses[:3, :3].T + poses[:3, 3]).astype(np.float32)
        return (np.einsum("thwj,tij->thwi", cam, poses[:, :3, :3]) + poses[:, None, None, :3, 3]).astype(np.float32)

    def __array__(self, dtype=None, copy=None):
        points = self[:]
        return points if dtype is None else points.astype(dtype)

    def reshape(self, *shape) -> np.ndarray:
        return np.asarray(self).reshape(*shape)


@dataclass
class SceneArrays:
    """One sequence at model resolution. ``instance`` ids index ``class_of_instance`` (0 = no object)."""

    name: str
    color: np.ndarray  # (T, h, w, 3) uint8
    xyz: np.ndarray | DepthPoints | None  # (T, h, w, 3) float32 zup metres; None for a zoom crop (2D only)
    valid: np.ndarray  # (T, h, w) bool: depth present
    instance: np.ndarray  # (T, h, w) uint16 or int32
    class_of_instance: np.ndarray  # (max id + 1,) int64: 0-based index into the vocabulary, -1 = none
    # per frame: (ids (K,) int32, coverage (K, g, g) uint8, 255 = the cell is all that object), g = ceil(h / 4);
    # None: targets fall back to the nearest samples of ``instance``
    coverage: list[tuple[np.ndarray, np.ndarray]] | None = None
    source: Path | None = None  # the exported sequence directory (full-resolution frames for zoom crops)

    def __len__(self) -> int:
        return len(self.color)


def dataset_splits(data_dir: str | Path) -> dict[str, list[str]]:
    """{split: [scene, ...]} of a dataset directory, read from its ``dataset.json``."""
    path, plan = _dataset_plan(data_dir)
    if not isinstance(plan.get("splits"), dict):
        raise ValueError(f"{path}: missing field 'splits'")
    return plan["splits"]


def _dataset_plan(data_dir: str | Path) -> tuple[Path, dict]:
    path = Path(data_dir) / "dataset.json"
    return path, read_json(path, hint="; make the data with python -m perception.make_dataset")


def dataset_vocabulary(data_dir: str | Path) -> list[str]:
    path, plan = _dataset_plan(data_dir)
    if not plan.get("vocabulary"):
        raise ValueError(f"{path}: missing field 'vocabulary'")
    return list(plan["vocabulary"])


def sequence_dirs(data_dir: str | Path, splits: list[str]) -> list[Path]:
    """Finished sequence directories of ``splits`` (unfinished ones, without a complete meta.json, are skipped)."""
    known = dataset_splits(data_dir)
    directories = []
    for split in splits:
        if split not in known:
            raise ValueError(f"{Path(data_dir) / 'dataset.json'} has no split {split!r}; it has {sorted(known)}")
        for scene in known[split]:
            meta = Path(data_dir) / split / scene / "meta.json"
            if meta.is_file() and read_json(meta).get("complete"):
                directories.append(meta.parent)
    if not directories:
        raise ValueError(f"{data_dir}: no finished sequences in splits {splits}")
    return directories


def resize_sequence(directory: str | Path, size: int) -> SceneArrays:
    """Load a sequence and bring it to ``size`` x ``size`` (see the module docstring for the resampling)."""
    sequence = load_sequence(directory)
    frames = range(len(sequence))
    shape = (size, size)
    color = np.stack([cv2.resize(sequence.color[i], shape, interpolation=cv2.INTER_AREA) for i in frames])
    depth = np.stack([cv2.resize(sequence.depth[i], shape, interpolation=cv2.INTER_NEAREST) for i in frames])
    full_height, full_width = sequence.depth.shape[1:]
    # The full-resolution pixel each nearest sample reads (cv2's own map, so points, depth and ids agree).
    rows, cols = np.indices((full_height, full_width), dtype=np.float32)
    rows, cols = (cv2.resize(a, shape, interpolation=cv2.INTER_NEAREST).astype(np.int64) for a in (rows, cols))
    rays = pixel_rays(full_width, full_height, sequence.fov)[rows, cols]
    xyz = DepthPoints(np.round(depth * DEPTH_SCALE).astype(np.uint16), rays, np.asarray(sequence.poses, np.float64))
    instance = np.stack([cv2.resize(sequence.instance[i].astype(np.uint16), shape, interpolation=cv2.INTER_NEAREST)
                         for i in frames])
    classes = np.full(int(sequence.instance.max(initial=0)) + 1, -1, dtype=np.int64)
    for index, entry in sequence.instances.items():
        if index < len(classes):
            classes[index] = int(entry["class_id"]) - 1
    grid = math.ceil(size / MASK_STRIDE)
    coverage = [cell_coverage(sequence.instance[i], classes, grid) for i in frames]
    return SceneArrays(Path(directory).name, color, xyz, depth > 0, instance, classes, coverage, Path(directory))


def cell_coverage(instance: np.ndarray, class_of_instance: np.ndarray, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution instance ids (H, W) -> (ids (K,), coverage (K, grid, grid) uint8): each labelled object's
    share of every cell of a ``grid`` x ``grid`` lattice over the frame, for objects with >= ``MIN_TARGET_PIXELS``."""
    ids, counts = np.unique(instance, return_counts=True)
    keep = [(int(i), int(c)) for i, c in zip(ids, counts)
            if 0 < i < len(class_of_instance) and class_of_instance[i] >= 0 and c >= MIN_TARGET_PIXELS]
    if not keep:
        return np.zeros(0, dtype=np.int32), np.zeros((0, grid, grid), dtype=np.uint8)
    shares = [cv2.resize((instance == i).astype(np.float32), (grid, grid), interpolation=cv2.INTER_AREA)
              for i, _ in keep]
    return (np.array([i for i, _ in keep], dtype=np.int32),
            np.round(np.stack(shares) * 255.0).astype(np.uint8))


def load_scenes(directories: list[Path], size: int, progress: bool = True, workers: int | None = None) -> list[SceneArrays]:
    """Every sequence at ``size``, in order. ``workers`` threads (default: the machine's cores, at most 16) share the
    work: decoding and resampling run in OpenCV and NumPy, which release the GIL."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    workers = max(1, min(16, os.cpu_count() or 1) if workers is None else workers)
    bar = tqdm(total=len(directories), desc="loading sequences", unit="seq", disable=not progress)
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(resize_sequence, d, size) for d in directories]
        scenes = []
        for future in futures:
            scenes.append(future.result())
            bar.update()
    bar.close()
    return scenes


def pick_views(num_frames: int, num_views: int, rng: random.Random, max_stride: int = 2,
               camera_drop: float = 0.5) -> list[int]:
    """ODIN's frame subsampling: consecutive frames from a random start, stride U{1..max_stride}, wrapping around;
    with probability ``camera_drop`` only a random k in [1, V] of them are kept."""
    views = min(num_views, num_frames)
    stride = rng.randint(1, max(1, min(max_stride, num_frames // views)))  # a stride that would revisit is shortened
    start = rng.randrange(num_frames)
    chosen = [(start + k * stride) % num_frames for k in range(views)]
    if camera_drop and rng.random() < camera_drop:
        keep = rng.randint(1, len(chosen))
        chosen = sorted(rng.sample(chosen, keep), key=chosen.index)
    return chosen


def downsample_mask(masks: np.ndarray) -> np.ndarray:
    """(..., h, w) -> (..., ceil(h/4), ceil(w/4)) by taking every 4th pixel (nearest, as ODIN's GT downsampling)."""
    return masks[..., ::MASK_STRIDE, ::MASK_STRIDE]


def frame_target_ids(scene: SceneArrays, frame: int) -> np.ndarray:
    """The object ids that are training targets in ``frame``: those with full-resolution coverage (soft targets), else
    the labelled objects among the nearest stride-4 samples."""
    if scene.coverage is not None:
        return scene.coverage[frame][0]
    ids = np.unique(downsample_mask(scene.instance[frame]))
    ids = ids[(ids > 0) & (ids < len(scene.class_of_instance))]
    return ids[scene.class_of_instance[ids] >= 0]


def targets_for(scene: SceneArrays, frames: list[int], peak: bool = False) -> dict:
    """Instance labels (N,) and stride-4 masks (N, V, h/4, w/4) of the objects visible in ``frames``: soft (float,
    each cell's share of the object; with ``peak``, divided by the object's largest share in that view) when the
    scene carries full-resolution coverage, else boolean nearest samples."""
    if scene.coverage is not None:
        return _soft_targets(scene, frames, peak)
    instance = downsample_mask(scene.instance[frames])
    ids = sorted(set().union(*(frame_target_ids(scene, f).tolist() for f in frames)))
    masks = np.stack([instance == i for i in ids]) if ids else np.zeros((0,) + instance.shape, dtype=bool)
    return {"labels": torch.as_tensor(scene.class_of_instance[ids] if ids else np.zeros(0), dtype=torch.long),
            "masks": torch.from_numpy(masks)}


def _soft_targets(scene: SceneArrays, frames: list[int], peak: bool = False) -> dict:
    per_frame = [scene.coverage[f] for f in frames]
    ids = sorted(set().union(*(frame_ids.tolist() for frame_ids, _ in per_frame)))
    grid = per_frame[0][1].shape[-1] if per_frame else 0
    masks = np.zeros((len(ids), len(frames), grid, grid), dtype=np.float32)
    row = {object_id: k for k, object_id in enumerate(ids)}
    for v, (frame_ids, shares) in enumerate(per_frame):
        for object_id, share in zip(frame_ids.tolist(), shares):
            masks[row[object_id], v] = share / (max(int(share.max()), 1) if peak else 255.0)
    labels = scene.class_of_instance[ids] if ids else np.zeros(0)
    return {"labels": torch.as_tensor(labels, dtype=torch.long), "masks": torch.from_numpy(masks)}


def class_occurrences(scenes: list[SceneArrays], num_classes: int) -> np.ndarray:
    """(num_classes,) int64: in how many (frame, object) pairs each class is a training target, over ``scenes`` -
    the frequencies that class-balanced loss weights are computed from."""
    counts = np.zeros(num_classes, dtype=np.int64)
    for scene in scenes:
        for frame in range(len(scene)):
            classes = scene.class_of_instance[frame_target_ids(scene, frame)]
            np.add.at(counts, classes[classes < num_classes], 1)
    return counts


def repeat_factors(scenes: list[SceneArrays], num_classes: int,
                   threshold: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Repeat-factor sampling (Gupta, Dollar and Girshick, "LVIS", CVPR 2019, section 5): a class present in a
    fraction ``f_c`` of the frames gets ``r_c = max(1, sqrt(threshold / f_c))``, a frame the largest ``r_c`` of the
    classes it has as training targets (``frame_target_ids``; 1 when it has none). Returns (``r_c`` (num_classes,)
    float64, 1 for classes never present, and per scene the (T,) float64 factors of its frames). ``threshold`` 0
    gives all ones."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"repeat-factor threshold must be in [0, 1], got {threshold}")
    present = []
    for scene in scenes:
        scene_classes = [np.unique(scene.class_of_instance[frame_target_ids(scene, f)]) for f in range(len(scene))]
        present.append([classes[(classes >= 0) & (classes < num_classes)] for classes in scene_classes])
    frames = np.zeros(num_classes, dtype=np.int64)
    for scene_classes in present:
        for classes in scene_classes:
            frames[classes] += 1  # unique classes: one count per frame
    total = max(1, sum(len(scene_classes) for scene_classes in present))
    class_factor = np.ones(num_classes, dtype=np.float64)
    seen = frames > 0
    if threshold > 0.0:
        class_factor[seen] = np.maximum(1.0, np.sqrt(threshold / (frames[seen] / total)))
    frame_factors = []
    for scene_classes in present:
        factors = np.ones(len(scene_classes), dtype=np.float64)
        for f, classes in enumerate(scene_classes):
            if len(classes):
                factors[f] = class_factor[classes].max()
        frame_factors.append(factors)
    return class_factor, frame_factors


def repeated_frame_refs(frame_factors: list[np.ndarray], seed: int) -> list[tuple[int, int]]:
    """(scene, frame) pairs, frame ``f`` of scene ``s`` listed ``floor(r) + Bernoulli(r - floor(r))`` times for its
    factor ``r`` (one seeded draw for the whole run, so a resumed run rebuilds the same list): the 2D sampling pool
    of repeat-factor sampling; all factors 1 give each frame once, in order."""
    rng = np.random.default_rng(seed)
    refs = []
    for s, factors in enumerate(frame_factors):
        extra = rng.random(len(factors))
        for f, r in enumerate(factors):
            copies = int(math.floor(r)) + (1 if extra[f] < r - math.floor(r) else 0)
            refs.extend([(s, f)] * copies)
    return refs


def random_rotation_z(xyz: np.ndarray, rng: random.Random) -> np.ndarray:
    """ODIN's 3D augmentation, shared by all views of a sample: mean-centre, rotate about z by U(-pi, pi), scale each
    axis by U(0.9, 1.1)."""
    centre = xyz.reshape(-1, 3).mean(0)
    angle = rng.uniform(-math.pi, math.pi)
    c, s = math.cos(angle), math.sin(angle)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    scale = np.array([rng.uniform(0.9, 1.1) for _ in range(3)], dtype=np.float32)
    return ((xyz - centre) @ rotation.T * scale).astype(np.float32)


def colour_jitter(images: np.ndarray, rng: random.Random) -> np.ndarray:
    """Brightness / contrast jitter (0.4) with p=0.8, one draw per sample, images float in [0, 1]."""
    if rng.random() >= 0.8:
        return images
    brightness = rng.uniform(0.6, 1.4)
    contrast = rng.uniform(0.6, 1.4)
    mean = images.mean()
    return np.clip((images * brightness - mean) * contrast + mean, 0.0, 1.0)


def make_3d_batch(scenes: list[SceneArrays], scene_ids: list[int], num_views: int, rng: random.Random,
                  augment: bool = True, peak_targets: bool = False) -> dict:
    """A batch of multi-view samples, one per scene id, padded to the same view count by trimming to the smallest
    (``peak_targets``: :func:`targets_for`'s ``peak``; ``zoom_class_factors``: :func:`zoom_crop`'s
    ``class_factors``)."""
    picks = [(scenes[s], pick_views(len(scenes[s]), num_views, rng, camera_drop=0.5 if augment else 0.0))
             for s in scene_ids]
    views = min(len(frames) for _, frames in picks)
    images, xyz, valid, targets = [], [], [], []
    for scene, frames in picks:
        frames = frames[:views]
        colour = scene.color[frames].astype(np.float32) / 255.0
        points = scene.xyz[frames]
        if augment:
            colour = colour_jitter(colour, rng)
            points = random_rotation_z(points, rng)
        images.append(torch.from_numpy(np.ascontiguousarray(colour.transpose(0, 3, 1, 2))))
        xyz.append(torch.from_numpy(points))
        valid.append(torch.from_numpy(scene.valid[frames]))
        targets.append(targets_for(scene, frames, peak_targets))
    return {"images": torch.stack(images), "xyz": torch.stack(xyz), "valid": torch.stack(valid), "targets": targets}


ZOOM_CROP_FRACTION = (0.35, 0.75)  # a zoom crop's side, as a fraction of the frame's shorter side
ZOOM_MAX_AREA = 0.02  # objects covering at most this fraction of the frame are what zoom crops centre on


def zoom_crop(scene: SceneArrays, frame: int, rng: random.Random,
              class_factors: np.ndarray | None = None) -> SceneArrays | None:
    """A square crop of ``frame`` at full resolution around one of its small objects, brought to the scene's
    resolution, as a one-frame 2D scene (no geometry) with coverage targets measured on the crop: the object reaches
    the model 1.3-2.9 times larger than in the whole frame (sides ``ZOOM_CROP_FRACTION`` of the frame's), as it does
    through the provider's zoom tiles (``perception.odin_provider``, crops of 0.6) or from a step closer. Scale
    augmentation in the spirit of Mask2Former's large-scale jitter (Cheng et al., CVPR 2022; Ghiasi et al., CVPR
    2021), aimed at the objects a 192 px frame makes a few cells wide. The object is drawn uniformly among the
    frame's labelled objects of ``MIN_TARGET_PIXELS`` to ``ZOOM_MAX_AREA`` of the frame (given ``class_factors``,
    per-class weights such as :func:`repeat_factors`' ``r_c``: in proportion to its class's weight); the crop's side
    is drawn from ``ZOOM_CROP_FRACTION`` (widened to hold the object) and its place so that the object lies inside.
    None when the scene has no ``source`` directory or the frame no small object."""
    from .dataset.scannet import read_frame

    if scene.source is None:
        return None
    colour, instance = read_frame(scene.source, frame)
    height, width = instance.shape
    ids, counts = np.unique(instance, return_counts=True)
    classes = scene.class_of_instance
    small = [int(i) for i, c in zip(ids, counts) if 0 < i < len(classes) and classes[i] >= 0
             and MIN_TARGET_PIXELS <= c <= ZOOM_MAX_AREA * height * width]
    if not small:
        return None
    if class_factors is None:
        chosen = rng.choice(small)
    else:
        chosen = rng.choices(small, weights=[float(class_factors[classes[i]]) if classes[i] < len(class_factors)
                                             else 1.0 for i in small])[0]
    rows, cols = np.nonzero(instance == chosen)
    shorter = min(height, width)
    side = int(round(rng.uniform(*ZOOM_CROP_FRACTION) * shorter))
    side = min(shorter, max(side, int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1))
    top = rng.randint(max(0, int(rows.max()) + 1 - side), min(int(rows.min()), height - side))
    left = rng.randint(max(0, int(cols.max()) + 1 - side), min(int(cols.min()), width - side))
    colour = colour[top:top + side, left:left + side]
    instance = instance[top:top + side, left:left + side]
    size = scene.color.shape[1]
    shape = (size, size)
    colour = cv2.resize(colour, shape, interpolation=cv2.INTER_LINEAR if side < size else cv2.INTER_AREA)
    nearest = cv2.resize(instance.astype(np.uint16), shape, interpolation=cv2.INTER_NEAREST)
    coverage = cell_coverage(instance, classes, math.ceil(size / MASK_STRIDE))
    return SceneArrays(f"{scene.name}:{frame}:zoom", colour[None], None, np.ones((1,) + shape, dtype=bool),
                       nearest[None], classes, [coverage])


def make_2d_batch(scenes: list[SceneArrays], frame_refs: list[tuple[int, int]], rng: random.Random,
                  augment: bool = True, zoom: float = 0.0, peak_targets: bool = False,
                  zoom_class_factors: np.ndarray | None = None) -> dict:
    """A batch of single frames (B, 1, 3, h, w) with no geometry: the 2D path of the same model. With ``augment``,
    each frame is with probability ``zoom`` replaced by a :func:`zoom_crop` around one of its small objects
    (``peak_targets``: :func:`targets_for`'s ``peak``; ``zoom_class_factors``: :func:`zoom_crop`'s
    ``class_factors``)."""
    images, targets, valid = [], [], []
    for scene_id, frame in frame_refs:
        scene = scenes[scene_id]
        if augment and zoom > 0.0 and rng.random() < zoom:
            crop = zoom_crop(scene, frame, rng, zoom_class_factors)
            if crop is not None:
                scene, frame = crop, 0
        colour = scene.color[[frame]].astype(np.float32) / 255.0
        if augment:
            colour = colour_jitter(colour, rng)
            if rng.random() < 0.5:  # horizontal flip: free in 2D, meaningless for the posed 3D samples
                colour = colour[:, :, ::-1]
                target = targets_for(_flipped(scene, frame), [0], peak_targets)
            else:
                target = targets_for(scene, [frame], peak_targets)
        else:
            target = targets_for(scene, [frame], peak_targets)
        images.append(torch.from_numpy(np.ascontiguousarray(colour.transpose(0, 3, 1, 2))))
        targets.append(target)
    return {"images": torch.stack(images), "xyz": None, "valid": None, "targets": targets}


def _flipped(scene: SceneArrays, frame: int) -> SceneArrays:
    instance = scene.instance[[frame]][:, :, ::-1]
    coverage = None
    if scene.coverage is not None:
        ids, shares = scene.coverage[frame]
        coverage = [(ids, np.ascontiguousarray(shares[:, :, ::-1]))]
    xyz = None if scene.xyz is None else scene.xyz[[frame]]
    return SceneArrays(scene.name, scene.color[[frame]], xyz, scene.valid[[frame]], np.ascontiguousarray(instance),
                       scene.class_of_instance, coverage)
