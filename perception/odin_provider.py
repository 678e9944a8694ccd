"""``odin`` and ``odin-2d`` perception providers: the ODIN model as the agent's per-step detector.

``odin`` runs the current view together with a bounded window of recent context views through ODIN's 3D path (views
posed by ``envs.camera.event_camera_to_world``, points from the depth frame), as HELPER + ODIN runs ODIN on the last N
egocentric views (``Gabesarch/HELPER`` at 51f1698); ``odin-2d`` runs the current frame alone through the 2D path of the
same weights. ODIN runs incrementally: each view's per-view backbone features (stem, res2, res3 before fusion;
:meth:`perception.odin.Odin.encode_views`) are computed once, when the view arrives, and cached with the view; every
step re-runs the cross-view part over the cached window. Both return the current view's instances at the event's
resolution; the memory update is the base class's.

The default checkpoint is the shipped ``perception/checkpoints/small.safetensors`` (safetensors: loading runs no
code; a missing, corrupt or mismatched file raises :class:`perception.odin.CheckpointError` naming it).
"""

from __future__ import annotations

import warnings
from collections import deque
from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np
import torch

from envs.camera import event_camera_to_world, unproject_depth
from envs.ontology import load_ontology

from .dataset.vocabulary import class_vocabulary
from .detections import Detections
from .memory import MemoryConfig, SemanticMemory
from .odin import ViewFeatures, load_checkpoint
from .odin.checkpoint import MIN_RESOLUTION, training_settings
from .providers import PerceptionProvider, register_provider

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "small.safetensors"
DEFAULT_RESOLUTION = 128


def trained_resolution(checkpoint: Path) -> int:
    """The input size the checkpoint was trained at (its recipe beside it, checked, naming the file when it is
    bad), else the default, with a warning: a checkpoint copied without its recipe would otherwise run at the wrong
    size unnoticed (a 192 px model at 128 px loses a third of its 3D AP50)."""
    settings = training_settings(checkpoint)
    if "resolution" not in settings:
        warnings.warn(f"no recipe beside {checkpoint} ({Path(checkpoint).stem}.train.json or train_config.json) names "
                      f"its input size: running at {DEFAULT_RESOLUTION} px; if it was trained at another, give it "
                      f"(provider: resolution=, perception.evaluate: --resolution)", stacklevel=2)
        return DEFAULT_RESOLUTION
    return int(settings["resolution"])


def suppress_duplicates(masks: np.ndarray, scores: np.ndarray, max_overlap: float) -> list[int]:
    """Indices to keep, best score first, dropping a mask whose IoU with a kept one exceeds ``max_overlap`` (the
    top-k (query, class) pairs of ODIN's inference repeat a query's mask under several classes)."""
    kept: list[int] = []
    flat = masks.reshape(len(masks), -1)
    areas = flat.sum(1)
    for index in np.argsort(-scores, kind="stable"):
        if areas[index] == 0:
            continue
        duplicate = False
        for other in kept:
            intersection = np.count_nonzero(flat[index] & flat[other])
            if intersection / (areas[index] + areas[other] - intersection) > max_overlap:
                duplicate = True
                break
        if not duplicate:
            kept.append(int(index))
    return kept


def pickupable_types() -> frozenset:
    """The object types an agent can pick up (``envs.ontology``): the small things the zoom is for."""
    ontology = load_ontology()
    return frozenset(name for name in ontology.names if ontology[name].can("pickupable"))


def zoom_tile_boxes(height: int, width: int, tiles: int, fraction: float) -> list[tuple[int, int, int, int]]:
    """An n x n grid of overlapping crops (y0, y1, x0, x1), each ``fraction`` of the frame's side, the first and last
    at the frame's edges and the rest evenly between (slicing-aided inference: Akyon et al., "Slicing Aided Hyper
    Inference and Fine-tuning for Small Object Detection", ICIP 2022)."""
    boxes = []
    tile_h, tile_w = max(1, round(height * fraction)), max(1, round(width * fraction))
    for row in range(tiles):
        y0 = round(row * (height - tile_h) / (tiles - 1))
        for col in range(tiles):
            x0 = round(col * (width - tile_w) / (tiles - 1))
            boxes.append((y0, y0 + tile_h, x0, x0 + tile_w))
    return boxes


def merge_zoomed(found: tuple, zoomed: list[tuple], max_overlap: float, max_area: float = 1.0,
                 classes: frozenset | set | None = None, margin: int = 2) -> tuple:
    """The frame's instances plus the zoom tiles' (:func:`zoom_tile_boxes`), pasted back into the frame.

    A tile's instance that touches one of the tile's inner edges (within ``margin`` pixels of an edge that is not
    the frame's) is dropped: it is an object the crop cut, which the frame itself or a neighbouring tile sees whole;
    so is one that covers more than ``max_area`` of the frame (the zoom is for small things; big ones the frame
    shows well, and a crop sees only parts of them), and, when ``classes`` is given, one of a class not in it. Then
    duplicates (mask IoU above ``max_overlap``) are suppressed over the union, best score first, so an object
    seen whole in the frame and in a tile is kept once."""
    masks, names, scores, candidates = found
    height, width = masks.shape[1:]
    all_masks, all_names, all_scores = list(masks), list(names), list(scores)
    all_candidates = list(candidates) if candidates is not None else None
    for (y0, y1, x0, x1), (tile_masks, tile_names, tile_scores, tile_candidates) in zoomed:
        inner = np.zeros((y1 - y0, x1 - x0), dtype=bool)
        if y0 > 0:
            inner[:margin] = True
        if y1 < height:
            inner[-margin:] = True
        if x0 > 0:
            inner[:, :margin] = True
        if x1 < width:
            inner[:, -margin:] = True
        for k, mask in enumerate(tile_masks):
            if not mask.any() or (mask & inner).any() or mask.sum() > max_area * height * width \
                    or (classes is not None and tile_names[k] not in classes):
                continue
            pasted = np.zeros((height, width), dtype=bool)
            pasted[y0:y1, x0:x1] = mask
            all_masks.append(pasted)
            all_names.append(tile_names[k])
            all_scores.append(tile_scores[k])
            if all_candidates is not None:
                all_candidates.append(tile_candidates[k])
    if not all_names:
        return masks, list(names), scores, candidates
    stacked = np.stack(all_masks)
    score_array = np.asarray(all_scores, dtype=np.float32)
    keep = suppress_duplicates(stacked, score_array, max_overlap)
    return (stacked[keep], [all_names[i] for i in keep], score_array[keep],
            [all_candidates[i] for i in keep] if all_candidates is not None else None)


class OdinProvider(PerceptionProvider):
    """ODIN detections for the current view, fused with up to ``context_views - 1`` earlier views (3D path).

    Options: ``checkpoint`` (.safetensors), ``context_views`` (window size including the current view; 1 = the 2D
    path alone), ``fusion`` (False = 2D path), ``min_score``, ``max_overlap`` (duplicate suppression IoU),
    ``class_votes`` (1: each mask is its top class, scored p(class) * mask quality, ODIN's inference; K > 1: each mask
    carries its query's K most likely classes, is scored by their summed probability * mask quality - how sure the
    model is that an object is there, whatever it is - and kept when that reaches ``min_score``, and the memory fuses
    the K class scores over views),
    ``resolution`` (model input size; default as trained), ``zoom_tiles`` (0: off; n >= 2: also run the 2D path on
    an n x n grid of overlapping crops of the frame, each ``zoom_fraction`` of its side, so small objects reach the
    model at the scale of a close look: :func:`zoom_tile_boxes`, :func:`merge_zoomed`; a crop's instances that cover
    more than ``zoom_max_area`` of the frame are dropped, and those of classes not in ``zoom_classes``, by default
    the pickupable types of ``envs.ontology``: a crop shows fixtures in pieces that read as small false ones; and
    a crop's instance needs ``zoom_min_score``, 0.5: below it the crops' instances of the shipped model were right
    less often than the frame's at ``min_score``), ``class_names`` (vocabulary scored; default every AI2-THOR type),
    ``cache_features`` (False: recompute every window view's backbone each step, for comparison),
    ``threads`` (``torch.set_num_threads``), ``device`` and the base class's ``memory`` / ``update_memory``.
    """

    name = "odin"

    def __init__(self, checkpoint: str | Path | None = None, context_views: int = 3, fusion: bool = True,
                 min_score: float = 0.3, max_overlap: float = 0.8, class_votes: int = 1,
                 resolution: int | None = None, zoom_tiles: int = 0, zoom_fraction: float = 0.6,
                 zoom_max_area: float = 0.02, zoom_classes: Sequence[str] | None = None, zoom_min_score: float = 0.5,
                 class_names: Sequence[str] | None = None, cache_features: bool = True, threads: int | None = None,
                 device: str = "cpu", model=None, memory: SemanticMemory | MemoryConfig | Mapping | None = None,
                 update_memory: bool = True):
        super().__init__(memory=memory, update_memory=update_memory)
        if context_views < 1:
            raise ValueError(f"context_views must be >= 1, got {context_views}")
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        if int(class_votes) < 1:
            raise ValueError(f"class_votes must be >= 1, got {class_votes}")
        self.class_votes = int(class_votes)
        if int(zoom_tiles) < 0 or int(zoom_tiles) == 1:
            raise ValueError(f"zoom_tiles must be 0 (off) or >= 2 (an n x n grid), got {zoom_tiles}")
        if not 0.0 < zoom_fraction < 1.0:
            raise ValueError(f"zoom_fraction must be in (0, 1), got {zoom_fraction}")
        if int(zoom_tiles) and zoom_fraction * int(zoom_tiles) < 1.0:
            raise ValueError(f"zoom_tiles={zoom_tiles} crops of zoom_fraction={zoom_fraction} leave parts of the "
                             f"frame uncovered (need zoom_tiles * zoom_fraction >= 1)")
        self.zoom_tiles = int(zoom_tiles)
        self.zoom_fraction = float(zoom_fraction)
        if not 0.0 < zoom_max_area <= 1.0:
            raise ValueError(f"zoom_max_area must be in (0, 1], got {zoom_max_area}")
        self.zoom_max_area = float(zoom_max_area)
        self.zoom_classes = frozenset(zoom_classes) if zoom_classes is not None else pickupable_types()
        if not 0.0 <= zoom_min_score <= 1.0:
            raise ValueError(f"zoom_min_score must be in [0, 1], got {zoom_min_score}")
        self.zoom_min_score = float(zoom_min_score)
        if threads:
            torch.set_num_threads(int(threads))
        checkpoint = Path(checkpoint) if checkpoint is not None else DEFAULT_CHECKPOINT
        self.model = model if model is not None else load_checkpoint(checkpoint, device=device)
        self.model.eval()
        self.device = torch.device(device)
        self.resolution = int(resolution or trained_resolution(checkpoint))
        if self.resolution < MIN_RESOLUTION:
            raise ValueError(f"odin provider: resolution={self.resolution} is below {MIN_RESOLUTION}")
        self.fusion = bool(fusion)
        self.context_views = int(context_views) if self.fusion else 1
        self.min_score = float(min_score)
        self.max_overlap = float(max_overlap)
        self.class_names = list(class_names) if class_names is not None else list(class_vocabulary())
        self.cache_features = bool(cache_features)
        self._views: deque = deque(maxlen=self.context_views)
        self._last_pose: np.ndarray | None = None

    def reset(self, episode=None) -> None:
        super().reset(episode)
        self._views.clear()
        self._last_pose = None

    # ----------------------------------------------------------------------------------------------- inputs
    def _view_inputs(self, event) -> dict:
        """The event at model resolution: image (3, r, r) in [0, 1], zup points (r, r, 3), depth validity (r, r)."""
        if event.frame is None:
            raise ValueError("event.frame is None: the odin provider needs RGB frames")
        size = (self.resolution, self.resolution)
        image = cv2.resize(np.asarray(event.frame), size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        view = {"image": torch.from_numpy(image).permute(2, 0, 1).to(self.device)}
        if self.cache_features:
            view["encoded"] = self.model.encode_views(view["image"][None, None])
        if self.fusion:
            if event.depth_frame is None:
                raise ValueError("event.depth_frame is None: the odin provider's 3D path needs depth "
                                 "(use odin-2d without depth)")
            depth = np.asarray(event.depth_frame, dtype=np.float32)
            pose = event_camera_to_world(event.metadata)
            points = unproject_depth(depth, float(event.metadata.get("fov", 90.0)), pose).astype(np.float32)
            view["xyz"] = torch.from_numpy(cv2.resize(points, size, interpolation=cv2.INTER_NEAREST))
            valid = cv2.resize((depth > 0).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
            view["valid"] = torch.from_numpy(valid & np.isfinite(view["xyz"].numpy()).all(-1))
            view["pose"] = pose
        return view

    def _push(self, view: dict) -> None:
        """Add the view to the context window; a view from the pose of the last one replaces it (the agent did not
        move, so the old view adds nothing but a stale picture)."""
        pose = view.get("pose")
        if pose is not None and self._last_pose is not None and np.allclose(pose, self._last_pose, atol=1e-4) \
                and self._views:
            self._views.pop()
        self._views.append(view)
        self._last_pose = pose

    # ----------------------------------------------------------------------------------------------- detect
    @torch.no_grad()
    def detect(self, event) -> Detections:
        view = self._view_inputs(event)
        self._push(view)
        views = list(self._views)
        images = torch.stack([v["image"] for v in views])[None].to(self.device)
        xyz = valid = None
        if self.fusion:
            xyz = torch.stack([v["xyz"] for v in views])[None].to(self.device)
            valid = torch.stack([v["valid"] for v in views])[None].to(self.device)
        encoded = ViewFeatures.cat([v["encoded"] for v in views]) if self.cache_features else None
        result = self.model.predict(images, self.class_names, xyz, valid, encoded=encoded)[0]
        height, width = np.asarray(event.frame).shape[:2]
        found = self._instances(result, view=-1, size=(height, width))  # the current view is the window's last
        if self.zoom_tiles:
            found = merge_zoomed(found, self._zoomed(np.asarray(event.frame)), self.max_overlap, self.zoom_max_area,
                                 self.zoom_classes)
        masks, names, scores, candidates = found
        if not len(names):
            return Detections.empty(height, width)
        return Detections(masks=masks, class_names=names, scores=scores, class_scores=candidates)

    def _instances(self, result: dict, view: int, size: tuple[int, int], min_score: float | None = None) -> tuple:
        """One predicted sample's instances in ``view`` that reach ``min_score`` (default: the provider's),
        duplicates suppressed, masks resized to ``size`` (height, width): (masks (N, h, w) bool, class names,
        scores, class_scores or None)."""
        candidates = None
        if self.class_votes > 1:
            candidates, scores = self._candidates(result)
        else:
            scores = result["scores"].cpu().numpy()
        masks = result["masks"][:, view].cpu().numpy()
        keep = np.nonzero(scores >= (self.min_score if min_score is None else min_score))[0]
        chosen = keep[suppress_duplicates(masks[keep], scores[keep], self.max_overlap)] if keep.size else keep
        height, width = size
        full = np.stack([cv2.resize(masks[i].astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
                         for i in chosen]).astype(bool) if len(chosen) else np.zeros((0, height, width), dtype=bool)
        if candidates is None:
            return full, [result["class_names"][i] for i in chosen], scores[chosen], None
        picked = [candidates[i] for i in chosen]
        return (full, [max(c.items(), key=lambda kv: kv[1])[0] for c in picked], scores[chosen], picked)

    def _zoomed(self, frame: np.ndarray) -> list[tuple]:
        """The 2D path's instances in each zoom tile (one batch), as (box, instances at the tile's pixel size)."""
        boxes = zoom_tile_boxes(frame.shape[0], frame.shape[1], self.zoom_tiles, self.zoom_fraction)
        size = (self.resolution, self.resolution)
        crops = [cv2.resize(np.ascontiguousarray(frame[y0:y1, x0:x1]), size, interpolation=cv2.INTER_AREA)
                 for y0, y1, x0, x1 in boxes]
        images = torch.from_numpy(np.stack(crops).astype(np.float32) / 255.0).permute(0, 3, 1, 2)[:, None]
        results = self.model.predict(images.to(self.device), self.class_names)
        return [(box, self._instances(result, view=0, size=(box[1] - box[0], box[3] - box[2]),
                                      min_score=self.zoom_min_score))
                for box, result in zip(boxes, results)]

    def _candidates(self, result: dict) -> tuple[list[dict[str, float]], np.ndarray]:
        """Per (query, class) pair: its query's ``class_votes`` most likely classes, each scored p(class) * mask
        quality, and the pair's score, their sum (pairs of one query share masks and scores; duplicate suppression
        keeps one)."""
        probabilities = result["probabilities"].cpu()
        mask_scores = result["mask_scores"].cpu()
        top = probabilities.topk(min(self.class_votes, probabilities.shape[1]), dim=1)
        candidates, scores = [], np.zeros(len(probabilities), dtype=np.float32)
        for k in range(len(probabilities)):
            values = (top.values[k] * mask_scores[k]).tolist()
            candidates.append({self.class_names[c]: float(v) for c, v in zip(top.indices[k].tolist(), values)})
            scores[k] = min(1.0, float(sum(values)))
        return candidates, scores


class Odin2DProvider(OdinProvider):
    """The same ODIN weights on the current frame alone, through the 2D path (no depth needed)."""

    name = "odin-2d"

    def __init__(self, **options):
        options.setdefault("context_views", 1)
        options["fusion"] = False
        super().__init__(**options)


register_provider("odin", OdinProvider, replace=True)
register_provider("odin-2d", Odin2DProvider, replace=True)
