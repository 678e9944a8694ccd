"""perception.evaluate_memory: one-to-one matching by distance to the object's box, recall / precision counting, and
one short gt look-around end to end."""

import json

import numpy as np

from perception import evaluate_memory as em


def obj(object_id, object_type, centre, half=0.05, pixels=100):
    centre = np.asarray(centre, dtype=float)
    return em.TrueObject(object_id, object_type, centre - half, centre + half, pixels)


def test_box_distance_and_greedy_one_to_one_matching():
    box = obj("Mug|1", "Mug", (0, 0, 0))
    assert em.box_distance(np.zeros(3), box.box_min, box.box_max) == 0.0
    assert abs(em.box_distance(np.array([0.35, 0, 0]), box.box_min, box.box_max) - 0.3) < 1e-9
    objects = [obj("Mug|1", "Mug", (0, 0, 0)), obj("Mug|2", "Mug", (1, 0, 0))]
    # Two instances near Mug|1 (one closer): only the closer one pairs with it; nothing reaches Mug|2.
    pairs = em.greedy_match(objects, [np.array([0.2, 0, 0]), np.array([0.1, 0, 0])], radius=0.5)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]
    assert em.greedy_match(objects, [np.array([3.0, 0, 0])], radius=0.5) == []


def test_scene_scores_count_seen_confident_and_any_confidence():
    objects = [obj("Mug|1", "Mug", (0, 0, 0)), obj("Mug|2", "Mug", (2, 0, 0)),
               obj("Mug|3", "Mug", (4, 0, 0), pixels=5),  # glimpsed under min_pixels: not "seen"
               obj("Apple|1", "Apple", (0, 0, 2))]
    instances = [("Mug", np.array([0.1, 0, 0]), 0.9),   # right: Mug|1
                 ("Mug", np.array([2.1, 0, 0]), 0.1),   # right but not confident: Mug|2 (any-confidence recall only)
                 ("Mug", np.array([4.0, 0, 0]), 0.8),   # the glimpsed Mug|3: correct, yet no recall credit
                 ("Mug", np.array([9.0, 0, 0]), 0.8),   # nothing there: a false positive
                 ("Mug", np.array([0.0, 0.2, 0]), 0.5),  # a second instance on Mug|1: a duplicate
                 ("Tomato", np.array([0, 0, 2]), 0.9),  # the Apple under another type: false positive, Apple missed
                 ("Floor", np.array([0, 0, 0]), 0.9)]   # structure is left out
    counts = em.score_scene(objects, instances, min_pixels=20, radius=0.5, min_confidence=0.3)
    assert "Floor" not in counts
    mug = counts["Mug"].summary()
    assert (mug["seen"], mug["recalled"], mug["confident_instances"], mug["correct"]) == (2, 1, 4, 2)
    assert mug["recall"] == 0.5 and mug["recall_any_confidence"] == 1.0 and mug["precision"] == 0.5
    assert mug["duplicates"] == 1
    assert counts["Apple"].summary()["recall"] == 0.0 and counts["Tomato"].summary()["precision"] == 0.0
    rows = dict(em.pooled_rows(counts, min_type_count=2))
    assert list(rows) == ["Mug", "small task objects", "all"]
    assert rows["all"]["seen"] == 3 and rows["all"]["correct"] == 2 and rows["all"]["confident_instances"] == 5


def test_gt_look_around_end_to_end(tmp_path):
    assert em.main(["--provider", "gt", "--scenes", "1", "--spots", "1", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "memory_eval_gt.json").read_text())
    assert report["scenes"] == ["FloorPlan10"] and report["views"] == 4
    everything = report["rows"][-1]
    assert everything["objects"] == "all" and everything["seen"] > 5
    assert everything["recall"] == 1.0 and everything["precision"] == 1.0  # ground truth is the ceiling
    assert (tmp_path / "memory_eval_gt.md").read_text().count("| **all** |") == 1
    assert em.main(["--provider", "gt", "--splits", "nowhere", "--out", str(tmp_path)]) == 2
    # a label with dots (a threshold sweep: gt_ms0.4, gt_ms0.5) keeps them: two labels, two reports
    for label in ("gt_ms0.4", "gt_ms0.5"):
        assert em.main(["--provider", "gt", "--scenes", "1", "--spots", "1", "--out", str(tmp_path),
                        "--label", label]) == 0
    assert {p.name for p in tmp_path.glob("memory_eval_gt_ms*")} == {
        "memory_eval_gt_ms0.4.json", "memory_eval_gt_ms0.4.md", "memory_eval_gt_ms0.5.json", "memory_eval_gt_ms0.5.md"}


def test_odin_options_are_refused_for_gt_by_name(tmp_path, capsys):
    from perception.evaluate_memory import main

    assert main(["--provider", "gt", "--zoom-tiles", "2", "--min-score", "0.2", "--out", str(tmp_path)]) == 2
    assert "--min-score, --zoom-tiles: options of the odin providers, not gt" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # refused before any work
