"""Detections helpers, the ground-truth provider and the provider registry."""

import numpy as np
import pytest

from perception.dataset.synthetic import Box, render_box_world
from perception.detections import Detections
from envs.event import Event
from perception.providers import (PROVIDERS, GroundTruthProvider, PerceptionProvider, make_provider, register_provider,
                                  segmentation_index_image)

TABLE = Box("DiningTable|1", "DiningTable", (-0.6, 0.0, 0.8), (0.9, 0.8, 1.6))
FRIDGE = Box("Fridge|1", "Fridge", (1.0, 0.0, 1.0), (1.8, 1.8, 1.6), {"isOpen": True, "openable": True})
MUG = Box("Mug|1", "Mug", (0.0, 0.8, 1.0), (0.12, 0.92, 1.12), {"isDirty": True, "isFilledWithLiquid": False})


def scene_event(**kwargs):
    return render_box_world([TABLE, FRIDGE, MUG], (0.0, 0.9, -0.3), 10.0, 30.0, width=80, height=60, **kwargs)


def test_gt_detections_follow_the_segmentation_and_skip_structure():
    event = scene_event()
    detections = GroundTruthProvider(update_memory=False).observe(event)
    assert sorted(detections.instance_ids) == ["DiningTable|1", "Fridge|1", "Mug|1"]
    assert "Floor|room" in event.instance_masks and "Wall|room" in event.instance_masks
    for mask, object_id, class_name in zip(detections.masks, detections.instance_ids, detections.class_names):
        assert np.array_equal(mask, event.instance_masks[object_id])
        assert class_name == event.get_object(object_id)["objectType"]
    assert np.all(detections.scores == 1.0)
    states = dict(zip(detections.instance_ids, detections.states))
    assert states["Fridge|1"]["isOpen"] is True and states["Mug|1"]["isDirty"] is True
    assert detections.masks.shape == (3, 60, 80)


def test_gt_min_pixels_and_held_objects_are_left_out():
    event = scene_event()
    mug_pixels = int(event.instance_masks["Mug|1"].sum())
    kept = GroundTruthProvider(min_pixels=mug_pixels + 1, update_memory=False).detect(event)
    assert "Mug|1" not in kept.instance_ids and "Fridge|1" in kept.instance_ids
    event.metadata["inventoryObjects"] = [{"objectId": "Mug|1", "objectType": "Mug"}]
    assert "Mug|1" not in GroundTruthProvider().detect(event).instance_ids
    assert "Mug|1" in GroundTruthProvider(include_held=True).detect(event).instance_ids
    with pytest.raises(ValueError, match="min_pixels"):
        GroundTruthProvider(min_pixels=0)


def test_gt_provider_without_segmentation_colours_uses_instance_masks():
    event = scene_event()
    expected = GroundTruthProvider().detect(event)
    masks = {k: event.instance_masks[k] for k in event.instance_masks}
    event.instance_segmentation_frame = None
    event._masks = masks  # an Event whose backend only hands out masks
    got = GroundTruthProvider().detect(event)
    assert got.instance_ids == expected.instance_ids and np.array_equal(got.masks, expected.masks)


def test_gt_provider_reads_an_events_index_image_like_its_colours():
    event = scene_event()
    labels, names = segmentation_index_image(event)
    assert sorted(names) == sorted(event.instance_masks)
    indexed = Event(event.metadata, event.frame, event.depth_frame, instance_index=labels, instance_index_names=names)
    by_colour, by_index = GroundTruthProvider().detect(event), GroundTruthProvider().detect(indexed)
    assert by_index.instance_ids == by_colour.instance_ids and np.array_equal(by_index.masks, by_colour.masks)


def test_observe_updates_the_memory_and_reset_clears_it():
    provider = make_provider("gt")
    provider.observe(scene_event())
    assert {i.class_name for i in provider.memory.instances()} == {"DiningTable", "Fridge", "Mug"}
    assert provider.memory.find("Fridge")[0].state["isOpen"] is True
    provider.reset(episode=None)
    assert provider.memory.instances() == [] and provider.steps == 0


def test_registry_builds_by_name_with_options_and_rejects_unknown_names():
    provider = make_provider("gt", min_pixels=7, memory={"voxel_size": 0.1})
    assert isinstance(provider, GroundTruthProvider) and provider.min_pixels == 7
    assert provider.memory.config.voxel_size == 0.1
    with pytest.raises(ValueError, match="unknown perception provider 'nope'"):
        make_provider("nope")
    with pytest.raises(ValueError, match="unknown memory option"):
        make_provider("gt", memory={"voxel": 0.1})

    class Blind(PerceptionProvider):
        name = "blind"

        def detect(self, event):
            return Detections.empty(*event.depth_frame.shape)

    register_provider("blind-test", Blind)
    try:
        assert len(make_provider("blind-test").observe(scene_event())) == 0
        with pytest.raises(ValueError, match="already registered"):
            register_provider("blind-test", GroundTruthProvider)
        register_provider("blind-test", GroundTruthProvider, replace=True)
        assert isinstance(make_provider("blind-test"), GroundTruthProvider)
    finally:
        PROVIDERS.pop("blind-test", None)


def test_detections_label_image_round_trip_and_filters():
    masks = np.zeros((3, 4, 5), bool)
    masks[0, :2, :2] = True
    masks[1, 1:3, 1:4] = True  # overlaps detection 0 at (1, 1); detection 1 has the higher score
    masks[2, 3, 4] = True
    detections = Detections(masks, ["Mug", "Apple", "Cup"], [0.5, 0.9, 0.2], ["a", "b", "c"])
    labels = detections.to_label_image()
    assert labels[1, 1] == 2 and labels[0, 0] == 1 and labels[3, 4] == 3 and labels[3, 0] == 0
    back = Detections.from_label_image(labels, detections.class_names, detections.scores, detections.instance_ids)
    assert np.array_equal(back.masks[1], masks[1]) and np.array_equal(back.masks[2], masks[2])
    assert np.array_equal(back.masks[0], masks[0] & ~masks[1])
    strong = detections.filter_by_score(0.5)
    assert strong.class_names == ["Mug", "Apple"] and strong.instance_ids == ["a", "b"]
    assert detections.of_class("Cup").instance_ids == ["c"]
    with pytest.raises(ValueError, match="scores"):
        Detections(masks, ["Mug", "Apple", "Cup"], [1.0, 1.0])
    with pytest.raises(ValueError, match="class names"):
        Detections.from_label_image(labels, ["Mug"])


def test_detections_carry_class_candidates_through_selection():
    masks = np.ones((2, 3, 3), bool)
    candidates = [{"Mug": 0.5, "Cup": 0.3}, {"Apple": 0.9}]
    detections = Detections(masks, ["Mug", "Apple"], [0.8, 0.9], class_scores=candidates)
    assert detections.select([1]).class_scores == [{"Apple": 0.9}]
    assert detections.filter_by_score(0.85).candidates(0) == {"Apple": 0.9}
    assert Detections(masks, ["Mug", "Apple"], [0.8, 0.9]).candidates(0) == {"Mug": pytest.approx(0.8)}
    with pytest.raises(ValueError, match=r"class_scores\[1\] must include the detection's class 'Apple'"):
        Detections(masks, ["Mug", "Apple"], [0.8, 0.9], class_scores=[{"Mug": 0.5}, {"Pear": 0.9}])
    with pytest.raises(ValueError, match="class_scores has 1 entries"):
        Detections(masks, ["Mug", "Apple"], [0.8, 0.9], class_scores=[{"Mug": 0.5}])


def test_gt_memory_follows_a_pickup_in_the_embedded_world():
    try:
        from envs.embedded import EmbeddedEnv  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"embedded simulator not importable: {exc}")
    from envs import make_env
    from perception.dataset.trajectory import look_around

    provider = make_provider("gt")
    with make_env(backend="embedded", width=96, height=96) as env:
        target = None
        for event in look_around(env, "FloorPlan1", 32, seed=1):
            provider.observe(event)
            reachable = [o for o in event.metadata["objects"]
                         if o["pickupable"] and o["visible"] and o["distance"] < 1.4
                         and o["objectId"] in event.instance_masks and event.instance_masks[o["objectId"]].sum() >= 30]
            if reachable:
                target = reachable[0]
                break
        assert target is not None, "no pickupable object came within reach on the look-around"
        mapped = [i.object_id for i in provider.memory.find(target["objectType"])]
        assert target["objectId"] in mapped
        held = env.step(action="PickupObject", objectId=target["objectId"])
        assert held.metadata["lastActionSuccess"], held.metadata["errorMessage"]
        detections = provider.observe(held)
    assert target["objectId"] not in detections.instance_ids
    assert target["objectId"] not in [i.object_id for i in provider.memory.instances()]
    assert len(provider.memory) > 5
