"""Object-centric views: a small object from about a metre, near the frame's centre, appended to exported sequences."""

import json
import math

import numpy as np
import pytest

import envs
from perception import make_dataset
from perception.dataset.synthetic import Box, BoxWorldEnv
from perception.dataset.trajectory import (HORIZON_LIMITS, OBJECT_VIEW_DISTANCE, facing_pose, look_around,
                                           object_pixel_counts, object_view_candidates, object_view_targets,
                                           object_views)
from perception.dataset.writer import sequence_is_complete

SIZE = 128
MIN_PIXELS = 20  # a 128 x 128 frame is 0.18 of a 300 x 300 one: about a 110-pixel object at export resolution


def _embedded(width=SIZE, height=SIZE):
    try:
        from envs.embedded import EmbeddedEnv  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"embedded simulator not importable: {exc}")
    return envs.make_env(backend="embedded", width=width, height=height, fov=90, seed=0)


@pytest.fixture(scope="module")
def kitchen_views():
    """FloorPlan1 after a short look-around, then 6 object views (seed 4), and the same again from a fresh env."""
    runs = []
    for _ in range(2):
        with _embedded() as env:
            list(look_around(env, "FloorPlan1", 4, seed=4))
            objects = {o["objectId"]: o for o in env.last_event.metadata["objects"]}
            runs.append((object_view_targets(env, 6, seed=4, min_pixels=MIN_PIXELS), objects))
    return runs


def test_object_views_show_their_small_object_near_the_centre_from_about_a_metre(kitchen_views):
    targets, objects = kitchen_views[0]
    assert len(targets) == 6
    for object_id, event in targets:
        target = objects[object_id]
        size = target["axisAlignedBoundingBox"]["size"]
        assert target["pickupable"] or max(size.values()) <= 0.3, object_id
        labels_pixels = object_pixel_counts(event)
        assert labels_pixels.get(object_id, 0) >= MIN_PIXELS, object_id
        mask = event.instance_masks[object_id]
        rows, cols = np.nonzero(mask)
        assert abs(cols.mean() / SIZE - 0.5) <= 0.25 and abs(rows.mean() / SIZE - 0.5) <= 0.25, object_id
        agent = event.metadata["agent"]
        centre = target["axisAlignedBoundingBox"]["center"]
        gap = math.hypot(centre["x"] - agent["position"]["x"], centre["z"] - agent["position"]["z"])
        assert OBJECT_VIEW_DISTANCE[0] <= gap <= OBJECT_VIEW_DISTANCE[1], (object_id, gap)
        horizon = agent["cameraHorizon"]
        assert horizon % 15 == 0 and HORIZON_LIMITS[0] <= horizon <= HORIZON_LIMITS[1]
    assert len({object_id.split("|")[0] for object_id, _ in targets}) >= 3  # rarity weighting spreads the types


def test_object_views_are_reproducible_for_a_seed(kitchen_views):
    (first, _), (second, _) = kitchen_views
    assert [oid for oid, _ in first] == [oid for oid, _ in second]
    assert [e.metadata["agent"] for _, e in first] == [e.metadata["agent"] for _, e in second]
    assert all(np.array_equal(a.frame, b.frame) for (_, a), (_, b) in zip(first, second))
    with _embedded() as env:
        env.reset(scene="FloorPlan1")
        other = [e.metadata["agent"] for _, e in object_view_targets(env, 6, seed=5, min_pixels=MIN_PIXELS)]
    assert other != [e.metadata["agent"] for _, e in first]


def test_types_the_sequence_showed_least_are_chosen_first(kitchen_views):
    targets, objects = kitchen_views[0]
    favoured = objects[targets[0][0]]["objectType"]
    common = {o["objectType"]: 10**6 for o in objects.values() if o["objectType"] != favoured}
    with _embedded() as env:
        env.reset(scene="FloorPlan1")
        chosen = object_view_targets(env, 2, seed=9, seen=common, min_pixels=MIN_PIXELS)
    assert [objects[oid]["objectType"] for oid, _ in chosen] == [favoured, favoured]


def test_an_occluded_object_gets_no_view_and_a_visible_one_does():
    mug = Box("Mug|1", "Mug", (0.0, 0.8, 1.0), (0.12, 0.92, 1.12), {"pickupable": True})
    table = Box("DiningTable|1", "DiningTable", (-0.4, 0.0, 0.7), (0.5, 0.8, 1.4))
    crate = Box("Crate|1", "Box", (-0.3, 0.7, 0.8), (0.42, 1.3, 1.32))  # closes over the mug on every side
    visible = object_view_targets(BoxWorldEnv([table, mug], width=96, height=96), 2, seed=0, min_pixels=16)
    assert [oid for oid, _ in visible] == ["Mug|1", "Mug|1"]
    assert visible[0][1].metadata["agent"] != visible[1][1].metadata["agent"]  # a second view from another spot
    assert object_view_targets(BoxWorldEnv([table, mug, crate], width=96, height=96), 2, seed=0, min_pixels=1) == []


def test_candidates_leave_out_objects_shut_in_a_closed_receptacle_and_large_fixed_ones():
    def entry(object_id, **fields):
        box = {"center": {"x": 0.0, "y": 0.0, "z": 0.0}, "size": fields.pop("size", {"x": 0.1, "y": 0.1, "z": 0.1})}
        return {"objectId": object_id, "objectType": object_id.split("|")[0], "axisAlignedBoundingBox": box,
                "pickupable": False, "parentReceptacles": None, **fields}

    objects = [entry("Cabinet|1", openable=True, isOpen=False, size={"x": 0.6, "y": 0.8, "z": 0.5}),
               entry("Drawer|1", openable=True, isOpen=True, size={"x": 0.5, "y": 0.2, "z": 0.5}),
               entry("Mug|1", pickupable=True, parentReceptacles=["Cabinet|1"]),
               entry("Cup|1", pickupable=True, parentReceptacles=["Drawer|1"]),
               entry("Pillow|1", pickupable=True, size={"x": 0.5, "y": 0.2, "z": 0.5}),
               entry("Apple|1", pickupable=True, isPickedUp=True),
               entry("StoveKnob|1")]
    assert [o["objectId"] for o in object_view_candidates(objects)] == ["Cup|1", "Pillow|1", "StoveKnob|1"]


def test_facing_pose_points_the_camera_at_the_object():
    place = {"x": 1.0, "y": 0.9009992, "z": 1.0}
    yaw, horizon = facing_pose(place, np.array([2.0, 0.9, 1.0]))
    assert yaw == pytest.approx(90.0) and horizon == 30.0  # atan(0.676 / 1.0) = 34 degrees -> 30 in 15 steps
    yaw, horizon = facing_pose(place, np.array([1.0, 0.0, 0.5]))
    assert yaw == pytest.approx(180.0) and horizon == 60.0  # 73 degrees down is past the limit
    assert facing_pose(place, np.array([1.0, 2.5, 2.0]))[1] == -30.0


def test_object_views_validate_their_count():
    env = BoxWorldEnv([], width=24, height=24)
    assert list(object_views(env, 0, seed=0)) == []
    with pytest.raises(ValueError, match="object views must be >= 0"):
        object_view_targets(env, -1, seed=0)


def _tree(root, prefix=""):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob(prefix + "*")) if p.is_file()}


def test_export_appends_object_views_and_keeps_the_look_around_files(tmp_path, capsys):
    common = ["--scenes", "FloorPlan1", "--views", "4", "--width", "64", "--height", "64"]
    plain, zero, extra = tmp_path / "plain", tmp_path / "zero", tmp_path / "extra"
    assert make_dataset.main(common + ["--out", str(plain)]) == 0
    assert make_dataset.main(common + ["--object-views", "0", "--out", str(zero)]) == 0
    assert make_dataset.main(common + ["--object-views", "3", "--out", str(extra)]) == 0

    # --object-views 0 writes what an export without the option wrote, bar the command line it records
    def without_commands(root):
        return {k: v.replace(str(root).encode(), b"OUT").replace(b" --object-views 0", b"")
                for k, v in _tree(root).items()}
    assert without_commands(zero) == without_commands(plain)
    assert "object_views" not in json.loads((plain / "dataset.json").read_text())["settings"]
    assert "object_views" not in json.loads((plain / "train" / "FloorPlan1" / "meta.json").read_text())

    sequence = extra / "train" / "FloorPlan1"
    assert sequence_is_complete(sequence)
    meta = json.loads((sequence / "meta.json").read_text())
    assert (meta["n_frames"], meta["look_around_views"], meta["object_views"]) == (7, 4, 3)
    assert "--object-views 3" in meta["command"]
    assert json.loads((extra / "dataset.json").read_text())["settings"]["object_views"] == 3
    before = plain / "train" / "FloorPlan1"
    for folder, suffix in (("color", "jpg"), ("depth", "png"), ("pose", "txt"), ("instance", "png")):
        for i in range(4):  # the look-around frames are the plain export's, byte for byte
            assert (sequence / folder / f"{i}.{suffix}").read_bytes() == (before / folder / f"{i}.{suffix}").read_bytes()
        assert (sequence / folder / f"6.{suffix}").is_file()

    assert make_dataset.main(common + ["--out", str(extra)]) == 2  # a rerun must not mix look-around-only sequences
    assert "object_views: 3 -> 0" in capsys.readouterr().err
    assert make_dataset.main(common + ["--object-views", "2", "--out", str(plain)]) == 2
    assert "object_views: 0 -> 2" in capsys.readouterr().err


def test_cli_refuses_a_negative_or_non_integer_count(capsys):
    for bad, said in (("-1", "--object-views must be >= 0, got -1"), ("two", "--object-views")):
        with pytest.raises(SystemExit) as stopped:
            make_dataset.parse_args(["--object-views", bad])
        assert stopped.value.code == 2 and said in capsys.readouterr().err
