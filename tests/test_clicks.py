"""TEACh's click resolution (envs.clicks) on hand-made Events."""

import numpy as np
import pytest

from envs import clicks
from envs.event import Event


def make_event(labels: np.ndarray, objects: list[dict], depth: np.ndarray | None = None, agent: dict | None = None):
    """Event whose segmentation paints objects[i] wherever labels == i (-1 = no object)."""
    height, width = labels.shape
    colours = {o["objectId"]: (10 + 20 * i, 200 - 10 * i, 7 * i) for i, o in enumerate(objects)}
    seg = np.zeros((height, width, 3), dtype=np.uint8)
    for i, o in enumerate(objects):
        seg[labels == i] = colours[o["objectId"]]
    metadata = {"objects": objects, "fov": 90.0, "lastActionSuccess": True,
                "agent": agent or {"position": {"x": 0.0, "y": 0.9, "z": 0.0}, "rotation": {"x": 0, "y": 0, "z": 0},
                                   "cameraHorizon": 0.0, "isStanding": True}}
    return Event(metadata, np.zeros((height, width, 3), np.uint8), depth, seg, colours)


def apple(oid="Apple|1", **kw):
    return {"objectId": oid, "objectType": "Apple", "pickupable": True, "isPickedUp": False, "receptacle": False, **kw}


def counter(oid="CounterTop|1"):
    return {"objectId": oid, "objectType": "CounterTop", "pickupable": False, "receptacle": True}


def test_exact_pixel_with_affordance_wins_even_if_small():
    labels = np.full((100, 100), 1)
    labels[50, 50] = 0  # one apple pixel under the click, counter around it
    event = make_event(labels, [apple(), counter()])
    assert clicks.resolve_click(event, 0.5, 0.5, "PickupObject") == "Apple|1"
    assert clicks.resolve_click(event, 0.5, 0.5, "PutObject") == "CounterTop|1"


def test_x_is_column_and_y_is_row_on_a_non_square_frame():
    labels = np.full((40, 80), -1)
    labels[10, 60] = 0  # row 10 = 0.25 * 40, col 60 = 0.75 * 80
    labels[30, 20] = 1
    event = make_event(labels, [apple("Apple|a"), apple("Apple|b")])
    assert clicks.resolve_click(event, 0.75, 0.25, "PickupObject") == "Apple|a"
    assert clicks.resolve_click(event, 0.25, 0.75, "PickupObject") == "Apple|b"


def test_fallback_ranks_by_fraction_of_whole_mask_not_pixel_count():
    labels = np.full((100, 100), -1)
    labels[40:60, 0:100] = 0  # big apple: 20x20 = 400 px inside the window, 2000 px in total (0.2)
    labels[45:50, 45:50] = 1  # small apple fully inside the window (1.0) but only 25 px
    labels[50, 50] = 2  # the exact pixel is the counter: no Pickup affordance
    event = make_event(labels, [apple("Apple|big"), apple("Apple|small"), counter()])
    assert clicks.resolve_click(event, 0.5, 0.5, "PickupObject") == "Apple|small"


def test_fallback_window_is_half_open_plus_minus_ten():
    labels = np.full((100, 100), -1)
    labels[50, 60] = 0  # col + 10: outside [40, 60)
    event = make_event(labels, [apple("Apple|right")])
    assert clicks.resolve_click(event, 0.5, 0.5, "PickupObject") is None
    labels[50, 60] = -1
    labels[50, 40] = 0  # col - 10: inside
    event = make_event(labels, [apple("Apple|left")])
    assert clicks.resolve_click(event, 0.5, 0.5, "PickupObject") == "Apple|left"


def test_affordance_filters_exclude_state_mismatch_and_pour_accepts_sinks():
    labels = np.full((50, 50), -1)
    labels[20:30, 20:30] = 0
    held = apple(isPickedUp=True)
    event = make_event(labels, [held])
    assert clicks.resolve_click(event, 0.5, 0.5, "PickupObject") is None

    sink = {"objectId": "Sink|1|SinkBasin", "objectType": "SinkBasin", "canFillWithLiquid": False}
    full_mug = {"objectId": "Mug|1", "objectType": "Mug", "canFillWithLiquid": True, "isFilledWithLiquid": True}
    labels2 = np.full((50, 50), 1)
    labels2[:, 25:] = 0
    event = make_event(labels2, [sink, full_mug])
    assert clicks.resolve_click(event, 0.9, 0.5, "Pour") == "Sink|1|SinkBasin"
    assert clicks.resolve_click(event, 0.1, 0.5, "Pour") is None  # a full mug, and the window misses the sink


def test_objects_argument_overrides_event_metadata():
    labels = np.full((30, 30), 0)
    event = make_event(labels, [apple()])
    assert clicks.resolve_click(event, 0.5, 0.5, "PickupObject", objects={"Apple|1": apple(isPickedUp=True)}) is None


def test_click_at_one_is_clipped_to_the_last_pixel():
    labels = np.full((40, 60), -1)
    labels[39, 59] = 0
    event = make_event(labels, [apple()])
    assert clicks.click_pixel(1.0, 1.0, 40, 60) == (39, 59)
    assert clicks.resolve_click(event, 1.0, 1.0, "PickupObject") == "Apple|1"


def test_ties_keep_teach_scan_order_columns_outer():
    labels = np.full((100, 100), -1)
    labels[41, 55] = 0  # first by row-major order, but its column comes later
    labels[58, 42] = 1  # first in TEACh's column-outer scan
    event = make_event(labels, [apple("Apple|late_col"), apple("Apple|early_col")])
    assert clicks.resolve_click(event, 0.5, 0.5, "PickupObject") == "Apple|early_col"


def test_bad_inputs_raise_naming_the_argument():
    event = make_event(np.zeros((10, 10), int), [apple()])
    with pytest.raises(ValueError, match="MoveAhead"):
        clicks.resolve_click(event, 0.5, 0.5, "MoveAhead")
    with pytest.raises(ValueError, match="x="):
        clicks.resolve_click(event, 1.2, 0.5, "PickupObject")


def test_click_world_point_and_reach():
    depth = np.full((100, 100), 1.2, dtype=np.float32)
    event = make_event(np.zeros((100, 100), int), [apple()], depth=depth)
    point = clicks.click_world_point(event, 0.5, 0.5)
    camera = np.array([0.0, 0.9 + 0.675, 0.0])
    np.testing.assert_allclose(point, camera + [0.0, 0.0, 1.2], atol=1e-9)  # yaw 0 faces +z
    assert clicks.within_reach(event, 0.5, 0.5)  # distance to the body: sqrt(1.2^2 + 0.675^2) = 1.377
    far = make_event(np.zeros((100, 100), int), [apple()], depth=np.full((100, 100), 1.4, np.float32))
    assert not clicks.within_reach(far, 0.5, 0.5)  # sqrt(1.4^2 + 0.675^2) = 1.554 > 1.5

    # Facing +x (yaw 90) and looking down 30 degrees, the centre ray goes (cos30, -sin30, 0).
    agent = {"position": {"x": 1.0, "y": 0.9, "z": 2.0}, "rotation": {"x": 0, "y": 90, "z": 0},
             "cameraHorizon": 30.0}
    tilted = make_event(np.zeros((100, 100), int), [apple()], depth=depth, agent=agent)
    expected = np.array([1.0, 1.575, 2.0]) + 1.2 * np.array([np.cos(np.pi / 6), -np.sin(np.pi / 6), 0])
    np.testing.assert_allclose(clicks.click_world_point(tilted, 0.5, 0.5), expected, atol=1e-9)

    no_depth = make_event(np.zeros((10, 10), int), [apple()])
    assert clicks.click_world_point(no_depth, 0.5, 0.5) is None


def test_cook_and_use_up_clicks_resolve_too():
    potato = {"objectId": "Potato|1", "objectType": "Potato", "cookable": True, "isCooked": False}
    event = make_event(np.zeros((20, 20), int), [potato])
    assert clicks.resolve_click(event, 0.5, 0.5, "CookObject") == "Potato|1"
    assert clicks.resolve_click(event, 0.5, 0.5, "UseUpObject") is None
