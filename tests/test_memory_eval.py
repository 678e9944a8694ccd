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


def test_recorded_views_replay_to_the_same_report_and_refuse_other_look_arounds(tmp_path, capsys):
    views = tmp_path / "views"
    assert em.main(["--provider", "gt", "--scenes", "1", "--spots", "1", "--out", str(tmp_path),
                    "--save-views", str(views)]) == 0
    live = json.loads((tmp_path / "memory_eval_gt.json").read_text())
    assert em.main(["--replay", str(views), "--out", str(tmp_path)]) == 0
    replayed = json.loads((tmp_path / "memory_eval_gt_replay.json").read_text())
    assert replayed["per_type"] == live["per_type"] and replayed["scenes"] == live["scenes"]
    assert replayed["views"] == 4 and replayed["replay"]["memory"] == {}
    # a memory setting changes what the same detections make: masks under 2,000 pixels are no longer mapped
    assert em.main(["--replay", str(views), "--out", str(tmp_path), "--label", "coarse",
                    "--memory", "min_mask_pixels=2000", "--memory", "voxel_size=0.1"]) == 0
    coarse = json.loads((tmp_path / "memory_eval_coarse.json").read_text())
    assert coarse["replay"]["memory"] == {"min_mask_pixels": 2000, "voxel_size": 0.1}
    small = [row for row in coarse["rows"] if row["objects"] == "small task objects"][0]
    assert small["seen"] == 10 and small["recall"] < 0.5
    assert "min_mask_pixels=2000" in (tmp_path / "memory_eval_coarse.md").read_text()
    # scoring options may change; the look-around cannot (the views were not taken)
    assert em.main(["--replay", str(views), "--out", str(tmp_path), "--label", "far", "--radius", "2"]) == 0
    capsys.readouterr()
    assert em.main(["--replay", str(views), "--out", str(tmp_path), "--label", "x", "--spots", "3"]) == 2
    assert "--spots 1" in capsys.readouterr().err
    assert em.main(["--replay", str(tmp_path / "nothing"), "--out", str(tmp_path), "--label", "y"]) == 2
    assert "no views.json" in capsys.readouterr().err


def test_recorder_keeps_masks_scores_and_class_candidates_and_min_score_filters(tmp_path):
    from perception.detections import Detections

    config = em.MemoryEvalConfig(scenes=1)
    recorder = em.ViewRecorder(tmp_path, "fake", config)
    depth = np.full((6, 8), 2.0, dtype=np.float32)
    metadata = {"agent": {"position": {"x": 0, "y": 0.9, "z": 0}, "rotation": {"x": 0, "y": 90, "z": 0},
                          "cameraHorizon": 30, "isStanding": True}, "fov": 90, "objects": [{"big": "list"}]}
    masks = np.zeros((2, 6, 8), dtype=bool)
    masks[0, :3, :4] = True
    masks[1, 3:, 5:] = True
    dets = Detections(masks=masks, class_names=["Mug", "Cup"], scores=[0.9, 0.2],
                      class_scores=[{"Mug": 0.9, "Cup": 0.1}, {"Cup": 0.2}])
    recorder.add(em.ReplayEvent(metadata, depth), dets)
    recorder.add(em.ReplayEvent(metadata, depth), Detections.empty(6, 8))
    recorder.finish_scene("FloorPlan10", [obj("Mug|1", "Mug", (0, 0, 0))])
    views, objects = em.replay_scene(tmp_path / "FloorPlan10.npz")
    assert len(views) == 2 and len(views[1][1]) == 0 and objects[0].object_type == "Mug"
    assert objects[0].max_pixels == 100
    event, got = views[0]
    assert "objects" not in event.metadata and event.metadata["fov"] == 90
    assert np.array_equal(got.masks, masks) and got.class_names == ["Mug", "Cup"]
    assert got.class_scores[0] == {"Mug": 0.9, "Cup": 0.1} and np.allclose(got.scores, [0.9, 0.2])
    assert len(got.filter_by_score(0.3)) == 1
    seen = []

    class Spy:
        def update(self, event, detections):
            seen.append(len(detections))

        def instances(self):
            return []

    import perception.memory as memory_module
    original = memory_module.memory_from_options
    memory_module.memory_from_options = lambda options: Spy()
    try:
        report = em.replay_memory(tmp_path, min_score=0.3, progress=False)
    finally:
        memory_module.memory_from_options = original
    assert seen == [1, 0] and report["replay"]["min_score"] == 0.3 and report["provider"] == "fake"


def test_memory_options_are_typed_and_checked_by_name():
    assert em.parse_memory_options(["voxel_size=0.04", "misses_to_remove=2", "fov=none"]) == {
        "voxel_size": 0.04, "misses_to_remove": 2, "fov": None}
    for bad, words in ((["voxel=1"], "no field 'voxel'"), (["voxel_size"], "expected FIELD=VALUE"),
                       (["misses_to_remove=1.5"], "not a valid misses_to_remove"),
                       (["match_overlap=2"], "match_overlap must be in [0, 1]")):
        try:
            em.parse_memory_options(bad)
        except ValueError as error:
            assert words in str(error), (bad, error)
        else:
            raise AssertionError(f"{bad} accepted")
