"""3D instance-segmentation AP by the ScanNet benchmark protocol, written from its description.

Protocol (ScanNet ``evaluate_semantic_instance.py`` as ODIN uses it; ``reference/odin/odin.md`` section 9):

* Points are the evaluation units (here: the voxels of a sequence's fused point cloud). Each ground-truth instance and
  each predicted instance is a set of points with one class; predictions carry a confidence.
* IoU thresholds 0.50, 0.55, ..., 0.95 (AP is their mean) and 0.25 (AP25); AP50 is the 0.5 column.
* Ground-truth instances smaller than ``min_region_size`` points are ignored (neither found nor missed), and so are
  predictions that small.
* Per class and threshold, predictions of all scenes are taken in order of confidence; each is matched to the unmatched
  ground truth of its class with the highest IoU if that IoU reaches the threshold (true positive). An unmatched
  prediction is a false positive unless more than the threshold fraction of it lies on void points (no ground-truth
  object) or on ignored small instances of its class.
* AP of one class = area under the precision-recall curve with precision made monotone (the precision at recall r is
  the best precision at any recall >= r), integrated over the recall steps. A class with ground truth but no
  predictions scores 0; a class without ground truth is NaN and skipped by the mean (``nanmean``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

AP_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.951, 0.05), 2).tolist())
"""IoU thresholds averaged into AP (0.50:0.05:0.95)."""
AP25_THRESHOLD = 0.25


@dataclass
class SceneInstances:
    """Ground truth and predictions of one scene over its P evaluation points.

    ``gt_ids`` (P,) int: instance id per point, 0 = void (no object). ``gt_classes`` {instance id: class index}.
    ``pred_masks`` (K, P) bool, ``pred_classes`` (K,) class indices, ``pred_scores`` (K,) confidences.
    """

    gt_ids: np.ndarray
    gt_classes: dict[int, int]
    pred_masks: np.ndarray
    pred_classes: np.ndarray
    pred_scores: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        self.gt_ids = np.asarray(self.gt_ids).reshape(-1)
        points = self.gt_ids.shape[0]
        self.pred_masks = np.asarray(self.pred_masks, dtype=bool).reshape(-1, points) if points else \
            np.zeros((len(self.pred_scores), 0), dtype=bool)
        self.pred_classes = np.asarray(self.pred_classes, dtype=np.int64).reshape(-1)
        self.pred_scores = np.asarray(self.pred_scores, dtype=np.float64).reshape(-1)
        if not len(self.pred_masks) == len(self.pred_classes) == len(self.pred_scores):
            raise ValueError(f"SceneInstances {self.name!r}: pred_masks, pred_classes and pred_scores differ in length "
                             f"({len(self.pred_masks)}, {len(self.pred_classes)}, {len(self.pred_scores)})")
        missing = set(np.unique(self.gt_ids[self.gt_ids > 0]).tolist()) - set(self.gt_classes)
        if missing:
            raise ValueError(f"SceneInstances {self.name!r}: gt_ids {sorted(missing)[:5]} have no entry in gt_classes")


def average_precision(scores: np.ndarray, true_positive: np.ndarray, num_ground_truth: int) -> float:
    """Area under the monotone precision-recall curve of detections (scores, TP flags) against ``num_ground_truth``."""
    if num_ground_truth == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    hits = np.asarray(true_positive, dtype=np.float64)[order]
    cumulative_tp = np.cumsum(hits)
    precision = cumulative_tp / np.arange(1, len(hits) + 1)
    recall = cumulative_tp / num_ground_truth
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    recall_steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(envelope * recall_steps))


@dataclass
class _ClassTally:
    scores: list = field(default_factory=list)
    hits: list = field(default_factory=list)
    num_gt: int = 0


def _match_scene(scene: SceneInstances, threshold: float, min_region_size: int, tallies: dict[int, _ClassTally]):
    gt_ids, gt_sizes = np.unique(scene.gt_ids[scene.gt_ids > 0], return_counts=True)
    size_of = dict(zip(gt_ids.tolist(), gt_sizes.tolist()))
    void = scene.gt_ids == 0
    pred_sizes = scene.pred_masks.sum(1)
    classes = set(scene.gt_classes[i] for i in size_of) | set(scene.pred_classes.tolist())
    for cls in classes:
        tally = tallies.setdefault(cls, _ClassTally())
        counted = [i for i in size_of if scene.gt_classes[i] == cls and size_of[i] >= min_region_size]
        small = [i for i in size_of if scene.gt_classes[i] == cls and size_of[i] < min_region_size]
        tally.num_gt += len(counted)
        predictions = np.nonzero((scene.pred_classes == cls) & (pred_sizes >= min_region_size))[0]
        predictions = predictions[np.argsort(-scene.pred_scores[predictions], kind="stable")]
        matched: set[int] = set()
        ignorable = void | np.isin(scene.gt_ids, small)
        for k in predictions:
            mask = scene.pred_masks[k]
            best_iou, best_gt = 0.0, None
            for gt in counted:
                if gt in matched:
                    continue
                gt_mask = scene.gt_ids == gt
                intersection = np.count_nonzero(mask & gt_mask)
                if intersection == 0:
                    continue
                iou = intersection / (pred_sizes[k] + size_of[gt] - intersection)
                if iou > best_iou:
                    best_iou, best_gt = iou, gt
            if best_gt is not None and best_iou >= threshold:
                matched.add(best_gt)
                tally.scores.append(scene.pred_scores[k])
                tally.hits.append(True)
            elif np.count_nonzero(mask & ignorable) / pred_sizes[k] <= threshold:
                tally.scores.append(scene.pred_scores[k])
                tally.hits.append(False)


def class_ap(scenes: list[SceneInstances], threshold: float, min_region_size: int = 1) -> dict[int, float]:
    """{class index: AP at one IoU threshold} over all ``scenes`` (NaN for classes without ground truth)."""
    tallies: dict[int, _ClassTally] = {}
    for scene in scenes:
        _match_scene(scene, threshold, min_region_size, tallies)
    return {cls: average_precision(np.array(t.scores), np.array(t.hits, dtype=bool), t.num_gt)
            for cls, t in sorted(tallies.items())}


def instance_ap(scenes: list[SceneInstances], class_names: list[str] | None = None,
                min_region_size: int = 1, skip_classes: tuple[str, ...] = ()) -> dict:
    """ScanNet-style AP, AP50, AP25 overall (mean over classes with ground truth) and per class.

    ``skip_classes`` (names) are left out of the table and the mean, as ODIN skips Wall and Floor on AI2-THOR.

    Returns ``{"AP", "AP50", "AP25", "per_class": {name: {"AP", "AP50", "AP25"}}}`` with values in [0, 1].
    """
    per_threshold = {t: class_ap(scenes, t, min_region_size) for t in AP_THRESHOLDS + (AP25_THRESHOLD,)}
    classes = sorted(set().union(*(d.keys() for d in per_threshold.values())))
    per_class = {}
    for cls in classes:
        values = [per_threshold[t].get(cls, float("nan")) for t in AP_THRESHOLDS]
        name = class_names[cls] if class_names is not None else str(cls)
        if name in skip_classes:
            continue
        per_class[name] = {"AP": float(np.mean(values)), "AP50": per_threshold[0.5].get(cls, float("nan")),
                           "AP25": per_threshold[AP25_THRESHOLD].get(cls, float("nan"))}

    def mean_of(key):
        values = np.array([v[key] for v in per_class.values()], dtype=np.float64)
        values = values[~np.isnan(values)]
        return float(values.mean()) if len(values) else float("nan")

    return {"AP": mean_of("AP"), "AP50": mean_of("AP50"), "AP25": mean_of("AP25"), "per_class": per_class}
