"""3D instance-segmentation AP / AP50 / AP25 computed as ScanNet's benchmark evaluator computes them.

The rules below are those of ``BenchmarkScripts/3d_evaluation/evaluate_semantic_instance.py`` in ScanNet/ScanNet (commit
a3c66b48f6c6c8d64e8b2b25b4f0ae2ffc75252d, the script's last change; functions ``evaluate_matches``, ``compute_averages``
and ``assign_instances_for_scan``), the evaluator behind ODIN's ScanNet and AI2-THOR figures (``ayushjain1144/odin`` at
9c67a0b ships it as ``odin/data_video/segmentation_benchmark/``). The code here is our own, written from those rules;
the tests hold it against hand-made cases and against a separate reference written from the same rules.

* **Points and classes.** Points are the evaluation units (here: the voxels of a sequence's fused cloud). A class is
  *evaluated* unless it is named in ``skip_classes``. Every point whose ground truth is no object, or an object of a
  class that is not evaluated, is *void* (ScanNet: every vertex whose label is not in ``VALID_CLASS_IDS``), so
  predictions lying on skipped classes such as Wall and Floor are ignored rather than false positives. Predictions of
  a class that is not evaluated are dropped.
* **Sizes.** Ground-truth instances with fewer than ``min_region_size`` points are not counted (neither found nor
  missed); predictions that small are dropped, and so are empty predictions whatever ``min_region_size`` (0 means 1).
* **IoU thresholds** ``np.arange(0.5, 0.95, 0.05)``: nine values, 0.50 to 0.90 (the arange stops before 0.95), with
  their exact floating-point values; AP is their mean, AP50 the first, AP25 the separate threshold 0.25. A match
  needs IoU strictly greater than the threshold.
* **Matching, object by object** (per scene, class and threshold). Ground-truth instances are taken in order of
  instance id (ScanNet: ``np.unique`` of the vertex ids); for each, the predictions of its class are taken in input
  order (ScanNet: the order of the prediction file), skipping those already taken by an earlier object. The first
  with IoU above the threshold takes the object; every further one is a duplicate: a false positive with the lower of
  the two scores, the object keeping the higher. A duplicate is not "taken", so it may still take a later object: one
  prediction can count as a false positive for one object and as the hit for another. An object nothing takes is a
  missed object (a false negative).
* **Other predictions.** A prediction whose IoU with no object of its class (counted or too small) exceeds the
  threshold is a false positive unless the share of its points on void or on too-small objects of its class exceeds
  the threshold (then it is ignored). Duplicates are never excused this way.
* **AP of one class** at one threshold pools the outcomes of all scenes. For each distinct score s (tied scores form
  one point), precision and recall of the predictions scoring >= s; the points are joined, from an added point
  (recall 0, precision 1), by the trapezoid rule in order of score. Precision is *not* made monotone, and nothing is
  added beyond the lowest score's recall. A class without counted ground truth is NaN; with ground truth but no
  predictions, 0.
* **Averages.** A class's AP is the mean over the nine thresholds; AP / AP50 / AP25 overall are means over classes,
  NaN classes left out (``nanmean``).

One departure: when a class has ground truth and predictions but every prediction is ignored (void, too-small
objects), ScanNet's script reads an element of an empty array and stops with IndexError; we score that class 0, as
the class with no predictions at all. Everything else agrees with the script to floating-point rounding.

Order matters only where it matters to ScanNet: which of two overlapping predictions takes an object depends on the
input order of the predictions. (The script was written for Python 2, whose dicts do not keep the file's order;
read under Python 3, as its ports are, it is the file order, and that is the order used here.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCANNET_EVALUATOR = ("ScanNet/ScanNet BenchmarkScripts/3d_evaluation/evaluate_semantic_instance.py "
                     "@ a3c66b48f6c6c8d64e8b2b25b4f0ae2ffc75252d (rules re-implemented in perception/metrics.py)")
"""Which evaluator's rules ``instance_ap`` follows; recorded in its result."""

AP_THRESHOLDS: tuple[float, ...] = tuple(np.arange(0.5, 0.95, 0.05).tolist())
"""IoU thresholds averaged into AP: ScanNet's ``np.arange(0.5, 0.95, 0.05)``, nine values 0.50 ... 0.90, exact floats."""
AP50_THRESHOLD = AP_THRESHOLDS[0]
AP25_THRESHOLD = 0.25


@dataclass
class SceneInstances:
    """Ground truth and predictions of one scene over its P evaluation points.

    ``gt_ids`` (P,) int: instance id per point, 0 = void (no object). ``gt_classes`` {instance id: class index >= 0}.
    ``pred_masks`` (K, P) bool, ``pred_classes`` (K,) class indices >= 0, ``pred_scores`` (K,) finite confidences.
    The order of the predictions is the order in which they are offered to each object (see the module docstring).
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
        if np.any(self.gt_ids < 0):
            raise ValueError(f"SceneInstances {self.name!r}: gt_ids must be >= 0 (0 = void), got "
                             f"{int(self.gt_ids.min())}")
        negative = sorted(i for i, c in self.gt_classes.items() if c < 0)
        if negative:
            raise ValueError(f"SceneInstances {self.name!r}: gt_classes gives negative classes to ids {negative[:5]}")
        if np.any(self.pred_classes < 0):
            raise ValueError(f"SceneInstances {self.name!r}: pred_classes must be >= 0, got "
                             f"{int(self.pred_classes.min())}")
        if not np.all(np.isfinite(self.pred_scores)):
            raise ValueError(f"SceneInstances {self.name!r}: pred_scores must be finite")


def average_precision(scores: np.ndarray, true_positive: np.ndarray, num_ground_truth: int) -> float:
    """ScanNet's AP of pooled outcomes: ``scores`` and ``true_positive`` flags of the hits and false positives, against
    ``num_ground_truth`` counted objects (hits + missed objects).

    Per distinct score s (ties grouped), precision and recall of the outcomes scoring >= s; the area under these
    points, joined in order of score from an added point (recall 0, precision 1), by the trapezoid rule, without a
    monotone envelope. NaN without ground truth; 0 without outcomes (see the module docstring for the one case where
    ScanNet's script raises instead).
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    hits = np.asarray(true_positive, dtype=bool).reshape(-1)
    if len(scores) != len(hits):
        raise ValueError(f"average_precision: scores ({len(scores)}) and true_positive ({len(hits)}) differ in length")
    if num_ground_truth < hits.sum():
        raise ValueError(f"average_precision: num_ground_truth ({num_ground_truth}) is below the number of true "
                         f"positives ({int(hits.sum())})")
    if num_ground_truth == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    distinct, inverse = np.unique(scores, return_inverse=True)
    # Outcomes and hits per distinct score, then counts at or above each score (highest score first).
    outcomes_at = np.bincount(inverse, minlength=len(distinct))[::-1]
    hits_at = np.bincount(inverse, weights=hits.astype(np.float64), minlength=len(distinct))[::-1]
    kept = np.cumsum(outcomes_at)
    found = np.cumsum(hits_at)
    precision = np.concatenate([[1.0], found / kept])
    recall = np.concatenate([[0.0], found / num_ground_truth])
    return float(np.sum(np.diff(recall) * (precision[1:] + precision[:-1]) / 2.0))


# ------------------------------------------------------------------------------------------------ matching
@dataclass
class _PreparedScene:
    """One scene reduced to what matching needs: its evaluated objects (ascending id) and kept predictions (input
    order), their same-class intersections and each prediction's points on void."""

    object_classes: np.ndarray      # (G,)
    object_sizes: np.ndarray        # (G,)
    pred_classes: np.ndarray        # (K,)
    pred_scores: np.ndarray         # (K,)
    pred_sizes: np.ndarray          # (K,)
    intersection: np.ndarray        # (K, G) points shared with objects of the prediction's class, 0 for other classes
    void_intersection: np.ndarray   # (K,)


def _prepare(scene: SceneInstances, evaluated: set[int], min_region_size: int) -> _PreparedScene:
    object_ids, object_sizes = np.unique(scene.gt_ids[scene.gt_ids > 0], return_counts=True)
    object_classes = np.array([scene.gt_classes[int(i)] for i in object_ids], dtype=np.int64)
    keep_objects = np.isin(object_classes, list(evaluated))
    object_ids, object_sizes, object_classes = \
        object_ids[keep_objects], object_sizes[keep_objects], object_classes[keep_objects]
    # Index of each point's evaluated object, -1 on void (no object, or an object of a class not evaluated).
    object_index = np.full(len(scene.gt_ids), -1, dtype=np.int64)
    if len(object_ids):
        position = np.minimum(np.searchsorted(object_ids, scene.gt_ids), len(object_ids) - 1)
        on_object = object_ids[position] == scene.gt_ids
        object_index[on_object] = position[on_object]
    void = object_index < 0

    pred_sizes = scene.pred_masks.sum(1)
    kept = np.nonzero(np.isin(scene.pred_classes, list(evaluated)) & (pred_sizes >= max(min_region_size, 1)))[0]
    intersection = np.zeros((len(kept), len(object_ids)), dtype=np.int64)
    void_intersection = np.zeros(len(kept), dtype=np.int64)
    for row, k in enumerate(kept):
        mask = scene.pred_masks[k]
        intersection[row] = np.bincount(object_index[mask & ~void], minlength=len(object_ids))
        void_intersection[row] = np.count_nonzero(mask & void)
    intersection[scene.pred_classes[kept][:, None] != object_classes[None, :]] = 0
    return _PreparedScene(object_classes, object_sizes, scene.pred_classes[kept], scene.pred_scores[kept],
                          pred_sizes[kept], intersection, void_intersection)


def _match(scene: _PreparedScene, threshold: float, min_region_size: int):
    """Outcomes of one scene at one threshold: ([(class, score, hit)], {class: missed objects})."""
    union = scene.pred_sizes[:, None] + scene.object_sizes[None, :] - scene.intersection
    above = scene.intersection / np.maximum(union, 1) > threshold
    counted = scene.object_sizes >= min_region_size
    taken = np.zeros(len(scene.pred_scores), dtype=bool)
    outcomes, missed = [], {}
    for g in np.nonzero(counted)[0]:
        cls = int(scene.object_classes[g])
        best = None
        for k in np.nonzero(above[:, g])[0]:
            if taken[k]:
                continue
            score = float(scene.pred_scores[k])
            if best is None:
                best, taken[k] = score, True
            else:  # a duplicate: the lower score is a false positive, the object keeps the higher
                outcomes.append((cls, min(best, score), False))
                best = max(best, score)
        if best is None:
            missed[cls] = missed.get(cls, 0) + 1
        else:
            outcomes.append((cls, best, True))
    small = ~counted
    for k in np.nonzero(~above.any(1))[0]:
        ignored = scene.void_intersection[k] + scene.intersection[k, small].sum()
        if ignored / scene.pred_sizes[k] <= threshold:
            outcomes.append((int(scene.pred_classes[k]), float(scene.pred_scores[k]), False))
    return outcomes, missed


def _evaluated_classes(scenes: list[SceneInstances], class_names: list[str] | None,
                       skip_classes: tuple[str, ...]) -> set[int]:
    present = set()
    for scene in scenes:
        present |= set(scene.gt_classes.values()) | set(scene.pred_classes.tolist())
    if class_names is not None:
        outside = sorted(c for c in present if c >= len(class_names))
        if outside:
            raise ValueError(f"class_names has {len(class_names)} entries but gt_classes / pred_classes use class "
                             f"indices {outside[:5]}")
    return {c for c in present if _class_name(c, class_names) not in skip_classes}


def _class_name(cls: int, class_names: list[str] | None) -> str:
    return class_names[cls] if class_names is not None else str(cls)


def _check_min_region_size(min_region_size: int) -> None:
    if int(min_region_size) != min_region_size or min_region_size < 0:
        raise ValueError(f"min_region_size must be an integer >= 0, got {min_region_size!r}")


def _class_ap_prepared(prepared: list[_PreparedScene], threshold: float, min_region_size: int,
                       evaluated: set[int]) -> dict[int, float]:
    scores: dict[int, list[float]] = {c: [] for c in evaluated}
    hits: dict[int, list[bool]] = {c: [] for c in evaluated}
    num_objects = dict.fromkeys(evaluated, 0)
    for scene in prepared:
        outcomes, missed = _match(scene, threshold, min_region_size)
        for cls, score, hit in outcomes:
            scores[cls].append(score)
            hits[cls].append(hit)
            num_objects[cls] += hit
        for cls, count in missed.items():
            num_objects[cls] += count
    return {c: average_precision(np.array(scores[c]), np.array(hits[c], dtype=bool), num_objects[c])
            for c in sorted(evaluated)}


def class_ap(scenes: list[SceneInstances], threshold: float, min_region_size: int = 1,
             class_names: list[str] | None = None, skip_classes: tuple[str, ...] = ()) -> dict[int, float]:
    """{class index: AP at one IoU threshold} over all ``scenes`` for every evaluated class present in them (NaN for
    classes without counted ground truth)."""
    _check_min_region_size(min_region_size)
    evaluated = _evaluated_classes(scenes, class_names, tuple(skip_classes))
    prepared = [_prepare(scene, evaluated, min_region_size) for scene in scenes]
    return _class_ap_prepared(prepared, threshold, min_region_size, evaluated)


def instance_ap(scenes: list[SceneInstances], class_names: list[str] | None = None,
                min_region_size: int = 1, skip_classes: tuple[str, ...] = ()) -> dict:
    """AP, AP50, AP25 overall (mean over classes with ground truth) and per class, as ScanNet's evaluator computes
    them (module docstring).

    ``skip_classes`` (names; class indices as text without ``class_names``) are not evaluated: their ground truth is
    void and their predictions are dropped, as ODIN skips Wall and Floor on AI2-THOR.

    Returns ``{"AP", "AP50", "AP25", "per_class": {name: {"AP", "AP50", "AP25"}}, "evaluator", "iou_thresholds"}``
    with values in [0, 1]; ``per_class`` lists the evaluated classes present in ground truth or predictions.
    """
    _check_min_region_size(min_region_size)
    evaluated = _evaluated_classes(scenes, class_names, tuple(skip_classes))
    prepared = [_prepare(scene, evaluated, min_region_size) for scene in scenes]
    per_threshold = {t: _class_ap_prepared(prepared, t, min_region_size, evaluated)
                     for t in AP_THRESHOLDS + (AP25_THRESHOLD,)}
    per_class = {}
    for cls in sorted(evaluated):
        values = [per_threshold[t][cls] for t in AP_THRESHOLDS]
        per_class[_class_name(cls, class_names)] = {
            "AP": float(np.mean(values)), "AP50": per_threshold[AP50_THRESHOLD][cls],
            "AP25": per_threshold[AP25_THRESHOLD][cls]}

    def mean_of(key):
        values = np.array([v[key] for v in per_class.values()], dtype=np.float64)
        values = values[~np.isnan(values)]
        return float(values.mean()) if len(values) else float("nan")

    return {"AP": mean_of("AP"), "AP50": mean_of("AP50"), "AP25": mean_of("AP25"), "per_class": per_class,
            "evaluator": SCANNET_EVALUATOR, "iou_thresholds": [*AP_THRESHOLDS, AP25_THRESHOLD]}
