"""Depth, segmentation and camera pose of the embedded renderer agree across views.

What ODIN's 3D fusion and the dataset export rely on: a surface point seen from two poses unprojects (depth + pose) to
the same place, and carries the same instance label in both views. A renderer change that draws the depth pass and
the segmentation pass from different geometry, or a pose that drifts from the drawn camera, breaks this.
"""

import numpy as np
import pytest

import envs
from envs.camera import event_camera_to_world, project_points, unproject_depth

SIZE = 128


@pytest.fixture(scope="module")
def views():
    """Three views of a kitchen: one, another from a reachable spot 0.25 m away turned by 30 degrees, and the first
    spot looking level instead of down."""
    with envs.make_env(width=SIZE, height=SIZE) as env:
        env.reset(scene="FloorPlan1")
        reachable = env.step(action="GetReachablePositions").metadata["actionReturn"]
        spots = {(round(p["x"] / 0.25), round(p["z"] / 0.25)): p for p in reachable}
        for (i, j), p in sorted(spots.items()):
            q = spots.get((i + 1, j))
            if q is None:
                continue
            first = env.step(action="Teleport", position=p, rotation=dict(x=0, y=90, z=0), horizon=30)
            if np.median(first.depth_frame) < 1.5:
                continue  # facing a wall close by: little to see twice
            moved = env.step(action="Teleport", position=q, rotation=dict(x=0, y=60, z=0), horizon=30)
            level = env.step(action="Teleport", position=p, rotation=dict(x=0, y=90, z=0), horizon=0)
            assert moved.metadata["lastActionSuccess"] and level.metadata["lastActionSuccess"]
            return first, moved, level
    pytest.fail("no pair of neighbouring reachable spots with an open view in FloorPlan1")


def _labels(event) -> np.ndarray:
    """Per-pixel instance label as one integer per colour (the segmentation frame's colours are per instance)."""
    seg = event.instance_segmentation_frame.astype(np.int64)
    return seg[..., 0] + (seg[..., 1] << 8) + (seg[..., 2] << 16)


def _cross_check(a, b):
    """Pixels of view ``a`` that view ``b`` sees unoccluded: (depth agreement in metres, label agreement)."""
    pose_a, pose_b = event_camera_to_world(a.metadata, "zup"), event_camera_to_world(b.metadata, "zup")
    valid = a.depth_frame > 0
    points = unproject_depth(a.depth_frame, a.metadata["fov"], pose_a)[valid]
    uv, z = project_points(points, SIZE, SIZE, b.metadata["fov"], pose_b)
    col, row = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
    inside = (z > 0.1) & (col >= 0) & (col < SIZE) & (row >= 0) & (row < SIZE)
    points, col, row, z = points[inside], col[inside], row[inside], z[inside]
    # Same surface point, not an occluder in b: b's own unprojection of that pixel lies within about a pixel's
    # footprint (plus 1 cm) of the point.
    points_b = unproject_depth(b.depth_frame, b.metadata["fov"], pose_b)[row, col]
    footprint = 2.0 * np.tan(np.radians(b.metadata["fov"]) / 2.0) * z / SIZE
    seen = (b.depth_frame[row, col] > 0) & (np.linalg.norm(points_b - points, axis=1) < 0.01 + 1.5 * footprint)
    labels_a = _labels(a)[valid][inside][seen]
    labels_b = _labels(b)[row[seen], col[seen]]
    return seen.mean(), np.mean(labels_a == labels_b)


@pytest.mark.parametrize("pair", [(0, 1), (1, 0), (0, 2)], ids=["moved-and-turned", "back", "look-level"])
def test_points_seen_twice_land_on_the_same_surface_with_the_same_label(views, pair):
    a, b = views[pair[0]], views[pair[1]]
    seen, same_label = _cross_check(a, b)
    assert seen > 0.9, f"only {seen:.0%} of the shared view's points land on the other view's depth"
    assert same_label > 0.97, f"only {same_label:.1%} of points seen twice keep their instance label"


@pytest.mark.parametrize("error", ["height 5 cm", "yaw 2 degrees"])
def test_a_wrong_pose_is_caught(views, error):
    """The check is sharp: a recorded pose 5 cm too high or turned by 2 degrees breaks the agreement."""
    a, b = views[0], views[1]
    wrong = {**b.metadata, "cameraPosition": dict(b.metadata["cameraPosition"]), "agent": dict(b.metadata["agent"])}
    if error.startswith("height"):
        wrong["cameraPosition"]["y"] += 0.05
    else:
        wrong["agent"]["rotation"] = {"x": 0.0, "y": b.metadata["agent"]["rotation"]["y"] + 2.0, "z": 0.0}

    class WrongPose:
        metadata = wrong
        depth_frame = b.depth_frame
        instance_segmentation_frame = b.instance_segmentation_frame

    seen, _ = _cross_check(a, WrongPose)
    assert seen < 0.85
