"""Dataset export: ScanNet-like sequences and COCO files round-trip to the simulator's ground truth."""

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

import envs
from envs.camera import event_camera_to_world, unproject_depth
from perception import make_dataset
from perception.dataset.coco import build_coco, write_coco
from perception.dataset.scannet import load_sequence
from perception.dataset.splits import resolve_scenes
from perception.dataset.synthetic import Box, BoxWorldEnv, render_box_world
from perception.dataset.trajectory import TrajectoryError, look_around, object_fraction
from perception.dataset.vocabulary import class_vocabulary
from perception.dataset.writer import SequenceWriter, depth_to_png, sequence_is_complete

BOXES = [
    Box("DiningTable|1", "DiningTable", (-0.6, 0.0, 0.8), (0.9, 0.8, 1.6)),
    Box("Mug|1", "Mug", (0.0, 0.8, 1.0), (0.12, 0.92, 1.12)),
    Box("Fridge|2", "Fridge", (1.5, 0.0, -1.0), (2.2, 1.8, -0.3)),
]
W, H = 48, 40


def synthetic_events():
    return [render_box_world(BOXES, (0.1 * k, 0.9, -0.5), yaw, horizon, width=W, height=H)
            for k, (yaw, horizon) in enumerate([(0, 30), (20, 0), (60, 30), (100, 15)])]


@pytest.fixture
def written(tmp_path):
    events = synthetic_events()
    writer = SequenceWriter(tmp_path / "train" / "FloorPlan1", W, H, 90.0)
    for event in events:
        writer.add(event)
    writer.close({"scene": "FloorPlan1", "split": "train", "seed": 0})
    return tmp_path, events


def test_depth_pose_and_intrinsics_unproject_to_the_recorded_points(written):
    root, events = written
    sequence = load_sequence(root / "train" / "FloorPlan1")
    assert len(sequence) == len(events) and sequence.color.shape == (len(events), H, W, 3)
    for i, event in enumerate(events):
        truth = unproject_depth(event.depth_frame, 90.0, event_camera_to_world(event.metadata, frame="zup"))
        valid = sequence.depth[i] > 0
        assert valid.mean() > 0.99
        error = np.linalg.norm(sequence.world_points(i)[valid] - truth[valid], axis=-1)
        assert error.max() < 0.01
        assert np.allclose(sequence.poses[i], event_camera_to_world(event.metadata, frame="zup"), atol=1e-6)


def test_instance_png_and_table_give_back_the_masks(written):
    root, events = written
    sequence = load_sequence(root / "train" / "FloorPlan1", load_color=False)
    by_object = {e["objectId"]: (k, e) for k, e in sequence.instances.items()}
    assert set(by_object) == {b.object_id for b in BOXES}  # structure (walls, floor) has no index
    vocabulary = class_vocabulary()
    for i, event in enumerate(events):
        masks = sequence.masks(i)
        for object_id, truth in event.instance_masks.items():
            if object_id not in by_object:
                continue
            index, entry = by_object[object_id]
            assert np.array_equal(masks[index], truth)
            assert vocabulary[entry["class_id"] - 1] == entry["objectType"] == event.get_object(object_id)["objectType"]
        structure = sum(m for k, m in event.instance_masks.items() if k not in by_object)
        assert np.all(sequence.instance[i][structure.astype(bool)] == 0)
        semantic = sequence.semantic(i)
        mug_index = by_object["Mug|1"][0]
        assert np.all(semantic[sequence.instance[i] == mug_index] == vocabulary.index("Mug") + 1)


def test_coco_file_loads_and_its_rle_decodes_to_the_masks(written):
    root, events = written
    path = write_coco(root / "coco_train.json",
                      build_coco(root, [root / "train" / "FloorPlan1"], list(class_vocabulary())))
    coco = COCO(str(path))
    assert len(coco.getImgIds()) == len(events)
    assert coco.loadCats(coco.getCatIds(catNms=["Mug"]))[0]["name"] == "Mug"
    for image in coco.loadImgs(coco.getImgIds()):
        assert (root / image["file_name"]).is_file()
        event = events[image["frame"]]
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
        assert {a["object_id"] for a in annotations} == {k for k in event.instance_masks if event.get_object(k)}
        for annotation in annotations:
            truth = event.instance_masks[annotation["object_id"]]
            assert np.array_equal(coco.annToMask(annotation).astype(bool), truth)
            assert annotation["area"] == truth.sum() and annotation["iscrowd"] == 0
            rows, cols = np.nonzero(truth)
            width, height = cols.max() - cols.min() + 1, rows.max() - rows.min() + 1
            assert annotation["bbox"] == [cols.min(), rows.min(), width, height]
            category = coco.loadCats(annotation["category_id"])[0]["name"]
            assert category == event.get_object(annotation["object_id"])["objectType"]
    assert mask_utils.decode(annotations[0]["segmentation"]).shape == (H, W)


def test_depth_png_is_millimetres_with_zero_for_missing():
    depth = np.array([[1.2344, np.nan], [-1.0, 70.0]], dtype=np.float32)
    assert depth_to_png(depth).tolist() == [[1234, 0], [0, 0]]


def test_writer_refuses_missing_images_and_wrong_sizes(tmp_path):
    writer = SequenceWriter(tmp_path / "seq", W, H, 90.0)
    event = synthetic_events()[0]
    event.depth_frame = None
    with pytest.raises(ValueError, match="depth_frame"):
        writer.add(event)
    small = render_box_world(BOXES, (0, 0.9, 0), 0, 0, width=W + 2, height=H)
    with pytest.raises(ValueError, match="frame"):
        writer.add(small)


def test_look_around_visits_headings_and_horizons_with_thor_actions():
    env = BoxWorldEnv(BOXES, width=24, height=24)
    views = list(look_around(env, "FloorPlan1", 11, seed=3, min_object_fraction=0.0))
    assert len(views) == 11
    poses = [(v.metadata["agent"]["position"]["x"], v.metadata["agent"]["position"]["z"]) for v in views]
    assert len(set(poses[:8])) == 1 and poses[8] != poses[0]
    assert [v.metadata["agent"]["cameraHorizon"] for v in views[:4]] == [30.0, 0.0, 30.0, 0.0]
    yaws = [v.metadata["agent"]["rotation"]["y"] for v in views[:8:2]]
    assert sorted((y - yaws[0]) % 360 for y in yaws) == [0, 90, 180, 270]
    again = [v.metadata["agent"] for v in look_around(env, "FloorPlan1", 11, seed=3, min_object_fraction=0.0)]
    assert again == [v.metadata["agent"] for v in views]


def test_look_around_skips_views_without_objects():
    env = BoxWorldEnv(BOXES, width=24, height=24)
    everything = list(look_around(env, "FloorPlan1", 16, seed=3, min_object_fraction=0.0))
    assert min(object_fraction(v) for v in everything) < 0.05  # some views face bare walls
    kept = list(look_around(env, "FloorPlan1", 16, seed=3, min_object_fraction=0.05))
    assert len(kept) == 16 and min(object_fraction(v) for v in kept) >= 0.05
    with pytest.raises(TrajectoryError, match="no usable view"):
        list(look_around(BoxWorldEnv([], width=24, height=24), "FloorPlan1", 4, seed=0))


def test_resolve_scenes_files_scenes_by_split_and_refuses_overlaps():
    assert resolve_scenes(["FloorPlan1", "FloorPlan10"]) == {"train": ["FloorPlan1"], "valid_unseen": ["FloorPlan10"]}
    assert resolve_scenes(["FloorPlan1"], variants=2) == {"train": ["FloorPlan1", "FloorPlan1_v1", "FloorPlan1_v2"]}
    assert resolve_scenes(["FloorPlan10"], variants=2) == {"valid_unseen": ["FloorPlan10"]}
    both = resolve_scenes(["train", "valid_unseen", "test_unseen"])
    assert sum(len(v) for v in both.values()) == 120
    with pytest.raises(ValueError, match="must not share floorplans"):
        resolve_scenes(["train", "valid_seen"])
    with pytest.raises(ValueError, match="--scenes"):
        resolve_scenes(["Kitchen7"])


def test_cli_exports_resumes_and_refuses_overlap_with_an_existing_dataset(tmp_path, monkeypatch, capsys):
    made = []

    def fake_make_env(backend="embedded", width=300, height=300, fov=90, seed=0, **options):
        made.append(backend)
        return BoxWorldEnv(BOXES, width=width, height=height, fov=fov)

    monkeypatch.setattr(envs, "make_env", fake_make_env)
    out = tmp_path / "data"
    argv = ["--scenes", "FloorPlan1", "FloorPlan10", "--views", "5", "--width", "32", "--height", "24",
            "--out", str(out)]
    assert make_dataset.main(argv) == 0
    assert made == ["embedded"]
    for split, scene in (("train", "FloorPlan1"), ("valid_unseen", "FloorPlan10")):
        assert sequence_is_complete(out / split / scene)
        meta = json.loads((out / split / scene / "meta.json").read_text())
        assert meta["scene"] == scene and meta["split"] == split and meta["n_frames"] == 5
        assert "--views 5" in meta["command"]
        assert len(COCO(str(out / f"coco_{split}.json")).getImgIds()) == 5
    stamp = (out / "train" / "FloorPlan1" / "depth" / "0.png").stat().st_mtime_ns
    assert make_dataset.main(argv) == 0
    assert made == ["embedded"]  # nothing left to record: no environment built
    assert (out / "train" / "FloorPlan1" / "depth" / "0.png").stat().st_mtime_ns == stamp

    assert make_dataset.main(["--scenes", "FloorPlan1", "--views", "5", "--out", str(out)]) == 2
    assert "other settings" in capsys.readouterr().err
    clash = ["--scenes", "valid_seen", "--views", "5", "--width", "32", "--height", "24", "--out", str(out)]
    assert make_dataset.main(clash) == 2
    assert "must not share floorplans" in capsys.readouterr().err


def _embedded_env():
    try:
        from envs.embedded import EmbeddedEnv  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"embedded simulator not importable: {exc}")
    return envs.make_env(backend="embedded", width=64, height=64, fov=90, seed=0)


def test_real_export_of_an_embedded_scene_agrees_with_its_object_boxes(tmp_path):
    from envs.camera import thor_to_zup

    with _embedded_env() as env:
        events = []
        for event in look_around(env, "FloorPlan1", 8, seed=1):
            events.append(event)
        writer = SequenceWriter(tmp_path / "FloorPlan1", env.width, env.height, env.fov)
        for event in events:
            writer.add(event)
        writer.close({"scene": "FloorPlan1"})
    sequence = load_sequence(tmp_path / "FloorPlan1")
    checked = 0
    for i, event in enumerate(events):
        objects = {o["objectId"]: o for o in event.metadata["objects"]}
        points = sequence.world_points(i)
        for index, mask in sequence.masks(i).items():
            if mask.sum() < 50:
                continue  # a few-pixel sliver is all edge
            box = objects[sequence.instances[index]["objectId"]]["axisAlignedBoundingBox"]
            centre = np.array([box["center"][k] for k in "xyz"])
            size = np.array([box["size"][k] for k in "xyz"])
            lo, hi = thor_to_zup(centre - size / 2) - 0.03, thor_to_zup(centre + size / 2) + 0.03
            inside = np.all((points[mask] >= lo) & (points[mask] <= hi), axis=1)
            assert inside.mean() > 0.9, (i, sequence.instances[index])
            checked += 1
    assert checked >= 5
