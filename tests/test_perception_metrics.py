"""perception.metrics computes 3D instance AP as ScanNet's evaluator does (issue 13): one hand-made case for each
difference the issue lists, with the numbers quoted there, and randomized scenes against a straightforward reference
written from the rules of ScanNet/ScanNet ``BenchmarkScripts/3d_evaluation/evaluate_semantic_instance.py``
(commit a3c66b48)."""

import math

import numpy as np
import pytest

from perception.metrics import (AP25_THRESHOLD, AP_THRESHOLDS, SceneInstances, average_precision, class_ap,
                                instance_ap)

from .test_perception_eval import scene

NAMES = ["Mug", "Apple", "Cabinet", "Bowl", "Wall"]


# ------------------------------------------------------------------------------ 1. precision-recall curve -> AP
def test_false_positive_above_the_hit_and_tied_scores():
    # One object, a false positive at 0.9 above the hit at 0.8: points (0, 0) and (1, 1/2) after (0, 1) -> 0.25.
    assert average_precision(np.array([0.9, 0.8]), np.array([False, True]), 1) == pytest.approx(0.25)
    # The same through matching: the false positive lies on an object of another class (on void it would be ignored).
    gt, classes = [1] * 10 + [2] * 10, {1: 0, 2: 1}
    above = scene(gt, classes, [(range(0, 10), 0, 0.8), (range(10, 20), 0, 0.9)])
    assert class_ap([above], 0.5)[0] == pytest.approx(0.25)
    # Tied scores are one point (recall 1, precision 1/2), whatever their order: (1 + 1/2) / 2 = 0.75.
    assert average_precision(np.array([0.8, 0.8]), np.array([True, False]), 1) == pytest.approx(0.75)
    assert average_precision(np.array([0.8, 0.8]), np.array([False, True]), 1) == pytest.approx(0.75)
    for preds in ([(range(0, 10), 0, 0.8), (range(10, 20), 0, 0.8)], [(range(10, 20), 0, 0.8), (range(0, 10), 0, 0.8)]):
        assert class_ap([scene(gt, classes, preds)], 0.5)[0] == pytest.approx(0.75)


def test_no_monotone_envelope_and_nothing_past_the_last_recall():
    # Two false positives between two hits: points (1/2, 1), (1/2, 1/2), (1/2, 1/3), (1, 1/2); the last trapezoid
    # joins precision 1/3 and 1/2 (a monotone envelope would lift 1/3 to 1/2 and give 0.75).
    assert average_precision(np.array([0.9, 0.8, 0.7, 0.6]), np.array([True, False, False, True]), 2) == \
        pytest.approx(0.5 + 0.5 * (1 / 3 + 1 / 2) / 2)
    # A false positive below the last hit costs nothing; an object never found caps the recall.
    assert average_precision(np.array([0.9, 0.5]), np.array([True, False]), 1) == pytest.approx(1.0)
    assert average_precision(np.array([0.9]), np.array([True]), 2) == pytest.approx(0.5)
    assert average_precision(np.array([0.9]), np.array([False]), 1) == 0.0
    assert average_precision(np.zeros(0), np.zeros(0, bool), 3) == 0.0
    assert math.isnan(average_precision(np.array([0.5]), np.array([False]), 0))
    with pytest.raises(ValueError, match="num_ground_truth"):
        average_precision(np.array([0.5, 0.4]), np.array([True, True]), 1)
    with pytest.raises(ValueError, match="true_positive"):
        average_precision(np.array([0.5, 0.4]), np.array([True]), 1)


# ------------------------------------------------------------------------------ 2. thresholds, 3. IoU > threshold
def test_nine_thresholds_from_050_to_090():
    assert len(AP_THRESHOLDS) == 9 and AP_THRESHOLDS == tuple(np.arange(0.5, 0.95, 0.05).tolist())
    assert AP_THRESHOLDS[0] == 0.5 and AP_THRESHOLDS[-1] == pytest.approx(0.9) and AP25_THRESHOLD == 0.25
    # IoU 23/25 = 0.92 clears all nine thresholds: AP 1.0 (0.9 when 0.95 was a tenth threshold).
    close = scene([1] * 25 + [0] * 5, {1: 0}, [(range(0, 23), 0, 0.9)])
    assert instance_ap([close])["AP"] == pytest.approx(1.0)
    result = instance_ap([close])
    assert result["iou_thresholds"] == [*AP_THRESHOLDS, 0.25] and "evaluate_semantic_instance.py" in result["evaluator"]


def test_iou_exactly_at_the_threshold_is_not_a_hit():
    # IoU exactly 0.5 (10 of a 20-point object): no hit at AP50, so the prediction is a false positive; a hit at AP25.
    half = scene([1] * 20 + [0] * 10, {1: 0}, [(range(0, 10), 0, 0.9)])
    result = instance_ap([half])
    assert result["AP50"] == 0.0 and result["AP25"] == 1.0 and result["AP"] == 0.0
    # IoU exactly 0.25 is no hit at AP25 either.
    quarter = scene([1] * 20 + [0] * 10, {1: 0}, [(range(0, 5), 0, 0.9)])
    assert instance_ap([quarter])["AP25"] == 0.0
    # A prediction with exactly the threshold's share on void is a false positive (ignored only above it): 5 of its
    # 10 points are void, IoU 5/25 with the object. At 0.5 it ranks above the hit (0.25); at 0.25 it is ignored.
    gt = [1] * 20 + [2] * 10 + [0] * 10
    preds = [(list(range(0, 5)) + list(range(30, 35)), 0, 0.9), (range(0, 20), 0, 0.5)]
    result = instance_ap([scene(gt, {1: 0, 2: 1}, preds)], NAMES)["per_class"]["Mug"]
    assert result["AP50"] == pytest.approx(0.25) and result["AP25"] == pytest.approx(1.0)


# ------------------------------------------------------------------------------ 4. object-by-object matching
def test_duplicates_are_false_positives_and_never_excused_by_void():
    # Objects 1 and 2 of class 0; object 1 found twice (the second copy reaches 12 void points: IoU 10/22, void share
    # 12/22 > 0.25), object 2 found at 0.5. The duplicate is a false positive at 0.8, above object 2's hit.
    gt = [1] * 10 + [2] * 10 + [0] * 20
    preds = [(range(0, 10), 0, 0.9), (list(range(0, 10)) + list(range(20, 32)), 0, 0.8), (range(10, 20), 0, 0.5)]
    ap25 = class_ap([scene(gt, {1: 0, 2: 0}, preds)], AP25_THRESHOLD)[0]
    assert ap25 == pytest.approx(0.5 + 0.5 * (0.5 + 2 / 3) / 2)
    # The duplicate's lower score is the false positive whichever comes first; the object keeps the higher one.
    swapped = [(preds[1][0], 0, 0.95), preds[0], preds[2]]
    assert class_ap([scene(gt, {1: 0, 2: 0}, swapped)], AP25_THRESHOLD)[0] == pytest.approx(ap25)


def test_one_prediction_can_hit_two_objects_and_input_order_decides():
    # Objects 1 and 2 (10 points each); A = object 1 exactly (0.9), AB = both objects (0.8): IoU 0.5 with each.
    gt = [1] * 10 + [2] * 10 + [0] * 10
    a, ab = (range(0, 10), 0, 0.9), (range(0, 20), 0, 0.8)
    # A first: A takes object 1, AB is its duplicate (false positive at 0.8), and AB then takes object 2 as well:
    # outcomes hit 0.9, hit 0.8, false positive 0.8 -> 0.5 + 0.5 * (1 + 2/3) / 2.
    result = instance_ap([scene(gt, {1: 0, 2: 0}, [a, ab])])
    assert result["AP25"] == pytest.approx(0.5 + 0.5 * (1 + 2 / 3) / 2)
    # AB first: AB takes object 1, A is the duplicate (0.9 kept by the object, 0.8 a false positive) and AB, taken,
    # cannot take object 2: recall stops at 1/2 -> 0.5.
    assert instance_ap([scene(gt, {1: 0, 2: 0}, [ab, a])])["AP25"] == pytest.approx(0.5)
    # At 0.5 AB's IoU (exactly 0.5) hits nothing: a false positive below A's hit, object 2 missed.
    assert result["AP50"] == pytest.approx(0.5)


def test_objects_too_small_are_neither_found_nor_missed_nor_false_positives():
    # Object 1 has 3 points (below min_region_size 4). Predictions over it (IoU 3/4 and 3/5) are ignored, not false
    # positives: only object 2, found at 0.5, counts.
    gt = [1] * 3 + [2] * 10 + [0] * 7
    preds = [([0, 1, 2, 13], 0, 0.9), (range(3, 13), 0, 0.5), (range(0, 5), 0, 0.95)]
    assert instance_ap([scene(gt, {1: 0, 2: 0}, preds)], min_region_size=4)["AP50"] == pytest.approx(1.0)
    # Counted at min_region_size 1: the first prediction takes object 1, the second over it is its duplicate (the
    # object keeps 0.95, 0.9 is a false positive), then object 2 at 0.5.
    result = instance_ap([scene(gt, {1: 0, 2: 0}, preds)], min_region_size=1)
    assert result["AP50"] == pytest.approx(0.5 + 0.5 * (1 / 2 + 2 / 3) / 2)


# ------------------------------------------------------------------------------ 5. void = classes not evaluated
def test_predictions_on_skipped_classes_are_ignored_and_skipped_predictions_dropped():
    # Mug (points 0-9), Wall (10-29). A Mug prediction on the wall at 0.9, the Mug found at 0.5, the wall found.
    gt = [1] * 10 + [2] * 20 + [0] * 5
    preds = [(range(10, 30), 0, 0.9), (range(0, 10), 0, 0.5), (range(10, 30), 4, 0.7)]
    skipped = instance_ap([scene(gt, {1: 0, 2: 4}, preds)], NAMES, skip_classes=("Wall", "Floor"))
    assert skipped["AP50"] == pytest.approx(1.0) and set(skipped["per_class"]) == {"Mug"}
    evaluated = instance_ap([scene(gt, {1: 0, 2: 4}, preds)], NAMES)
    assert evaluated["per_class"]["Mug"]["AP50"] == pytest.approx(0.25)
    assert evaluated["per_class"]["Wall"]["AP50"] == pytest.approx(1.0)


def test_class_whose_predictions_are_all_ignored_scores_zero():
    # The one departure from ScanNet's script (it raises IndexError here): ground truth and predictions of the Mug
    # class, every prediction on void -> 0, as a class with no predictions at all.
    gt = [1] * 10 + [2] * 10 + [0] * 10
    preds = [(range(20, 30), 0, 0.9), (range(10, 20), 1, 0.8)]
    result = instance_ap([scene(gt, {1: 0, 2: 1}, preds)], NAMES)
    assert result["per_class"]["Mug"] == {"AP": 0.0, "AP50": 0.0, "AP25": 0.0}
    assert result["per_class"]["Apple"]["AP"] == pytest.approx(1.0) and result["AP"] == pytest.approx(0.5)


def test_bad_input_names_the_argument():
    gt = [1] * 10
    with pytest.raises(ValueError, match="min_region_size"):
        instance_ap([scene(gt, {1: 0}, [])], min_region_size=-1)
    # min_region_size 0 is 1: an empty prediction is dropped, not a false positive.
    empty = scene(gt, {1: 0}, [([], 0, 0.9), (range(0, 10), 0, 0.5)])
    assert instance_ap([empty], min_region_size=0)["AP50"] == 1.0
    with pytest.raises(ValueError, match="class_names"):
        instance_ap([scene(gt, {1: 7}, [])], NAMES)
    with pytest.raises(ValueError, match="pred_scores"):
        scene(gt, {1: 0}, [(range(0, 5), 0, float("nan"))])
    with pytest.raises(ValueError, match="pred_classes"):
        scene(gt, {1: 0}, [(range(0, 5), -1, 0.5)])
    with pytest.raises(ValueError, match="gt_classes"):
        scene(gt, {1: -1}, [])


# ------------------------------------------------------------------------------ randomized, against a reference
def reference_instance_ap(scenes, class_names, min_region_size, skip_classes):
    """The script's rules read plainly: per scene, object and prediction records (its gt2pred / pred2gt); per class
    and threshold, outcomes object by object and then the leftover predictions; the curve point by point."""
    evaluated = [c for c, name in enumerate(class_names) if name not in skip_classes]
    records = []
    for s, sc in enumerate(scenes):
        point_class = np.array([sc.gt_classes[i] if i > 0 else -1 for i in sc.gt_ids.tolist()])
        void = ~np.isin(point_class, evaluated)
        objects = [{"id": i, "cls": sc.gt_classes[i], "size": int(np.sum(sc.gt_ids == i))}
                   for i in sorted(set(sc.gt_ids.tolist()) - {0}) if sc.gt_classes[i] in evaluated]
        preds = []
        for k, (mask, cls, score) in enumerate(zip(sc.pred_masks, sc.pred_classes.tolist(), sc.pred_scores.tolist())):
            if cls not in evaluated or mask.sum() < min_region_size:
                continue
            shared = {o["id"]: int(np.sum(mask & (sc.gt_ids == o["id"]))) for o in objects if o["cls"] == cls}
            preds.append({"key": (s, k), "cls": cls, "score": score, "size": int(mask.sum()),
                          "void": int(np.sum(mask & void)), "shared": {i: n for i, n in shared.items() if n > 0}})
        records.append((objects, preds))

    def iou(obj, pred):
        shared = pred["shared"].get(obj["id"], 0)
        return shared / (obj["size"] + pred["size"] - shared)

    def ap(cls, threshold):
        scores, hits, missed, has_gt, taken = [], [], 0, False, set()
        for objects, preds in records:
            mine = [p for p in preds if p["cls"] == cls]
            of_class = {o["id"]: o for o in objects if o["cls"] == cls}
            for obj in of_class.values():
                if obj["size"] < min_region_size:
                    continue
                has_gt, best = True, None
                for pred in mine:
                    if pred["key"] in taken or pred["shared"].get(obj["id"], 0) == 0 or iou(obj, pred) <= threshold:
                        continue
                    if best is None:
                        best = pred["score"]
                        taken.add(pred["key"])
                    else:
                        scores.append(min(best, pred["score"]))
                        hits.append(False)
                        best = max(best, pred["score"])
                if best is None:
                    missed += 1
                else:
                    scores.append(best)
                    hits.append(True)
            for pred in mine:
                if any(iou(of_class[i], pred) > threshold for i in pred["shared"]):
                    continue
                ignored = pred["void"] + sum(n for i, n in pred["shared"].items()
                                             if of_class[i]["size"] < min_region_size)
                if ignored / pred["size"] <= threshold:
                    scores.append(pred["score"])
                    hits.append(False)
        if not has_gt:
            return float("nan")
        if not scores:
            return 0.0
        objects_counted = sum(hits) + missed
        curve = [(0.0, 1.0)]
        for level in sorted(set(scores), reverse=True):
            kept = [h for sc_, h in zip(scores, hits) if sc_ >= level]
            curve.append((sum(kept) / objects_counted, sum(kept) / len(kept)))
        return sum((r1 - r0) * (p0 + p1) / 2 for (r0, p0), (r1, p1) in zip(curve, curve[1:]))

    present = set()
    for sc in scenes:
        present |= set(sc.gt_classes.values()) | set(sc.pred_classes.tolist())
    table = {}
    for cls in sorted(present & set(evaluated)):
        table[class_names[cls]] = {"AP": float(np.mean([ap(cls, t) for t in np.arange(0.5, 0.95, 0.05)])),
                                   "AP50": ap(cls, 0.5), "AP25": ap(cls, 0.25)}
    return table


def random_scene(rng, name):
    """A scene with the cases the issue lists: exact, partial, duplicate, merged, wrong-class and void-heavy
    predictions, false positives, small objects and predictions, a skipped class (Wall = 4), tied scores."""
    points = int(rng.integers(150, 300))
    order = rng.permutation(points)
    gt_ids, gt_classes, start = np.zeros(points, dtype=np.int64), {}, 0
    ids = rng.choice(np.arange(1, 500), size=12, replace=False)
    for i in ids[: int(rng.integers(3, 12))]:
        size = int(rng.choice([2, 4, 8, 12, 20, 30]))
        if start + size > points - 20:
            break
        gt_ids[order[start:start + size]] = i
        gt_classes[int(i)] = int(rng.choice(5, p=[0.3, 0.25, 0.2, 0.1, 0.15]))
        start += size
    members = {i: np.nonzero(gt_ids == i)[0] for i in gt_classes}
    void_points = np.nonzero(gt_ids == 0)[0]
    levels = np.round(np.linspace(0.1, 1.0, 10), 1)

    def score():
        return float(rng.choice(levels)) if rng.random() < 0.7 else float(rng.random())

    preds = []
    for i, cls in gt_classes.items():
        own = members[i]
        for _ in range(int(rng.integers(0, 3))):
            kind = rng.choice(["exact", "partial", "merged", "wrong", "voidish"])
            take = own[rng.random(len(own)) < rng.uniform(0.3, 1.0)] if kind != "exact" else own
            extra = rng.choice(points, size=int(rng.integers(0, 6)), replace=False)
            if kind == "merged":
                same = [j for j, c in gt_classes.items() if c == cls and j != i]
                extra = members[same[0]] if same else extra
            elif kind == "voidish":
                extra = rng.choice(void_points, size=min(len(void_points), 2 * len(own)), replace=False)
            label = int(rng.integers(0, 5)) if kind == "wrong" else cls
            preds.append((np.union1d(take, extra) if kind != "exact" else take, label, score()))
    for _ in range(int(rng.integers(0, 5))):  # false positives, some small, some of the skipped class
        size = int(rng.choice([1, 3, 6, 15]))
        preds.append((rng.choice(points, size=size, replace=False), int(rng.integers(0, 5)), score()))
    preds = [preds[k] for k in rng.permutation(len(preds))]
    instances = scene(gt_ids, gt_classes, preds)
    instances.name = name
    return instances


@pytest.mark.parametrize("seed", range(12))
def test_random_scenes_match_the_reference(seed):
    rng = np.random.default_rng(seed)
    scenes = [random_scene(rng, f"s{k}") for k in range(int(rng.integers(1, 5)))]
    min_region_size = int(rng.choice([1, 5, 10]))
    skip = ("Wall",) if seed % 3 else ()
    expected = reference_instance_ap(scenes, NAMES, min_region_size, skip)
    result = instance_ap(scenes, NAMES, min_region_size, skip)
    assert set(result["per_class"]) == set(expected)
    for name, row in expected.items():
        for key, value in row.items():
            got = result["per_class"][name][key]
            assert (math.isnan(got) and math.isnan(value)) or got == pytest.approx(value, abs=1e-12), (name, key)
    for key in ("AP", "AP50", "AP25"):
        values = [row[key] for row in expected.values() if not math.isnan(row[key])]
        assert result[key] == pytest.approx(np.mean(values) if values else float("nan"), abs=1e-12, nan_ok=True)
