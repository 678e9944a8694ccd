"""The 3D semantic memory on ray-cast box worlds whose geometry is known exactly."""

import numpy as np
import pytest

from perception.dataset.synthetic import Box, render_box_world
from perception.detections import Detections
from perception.memory import MemoryConfig, SemanticMemory

TABLE = Box("DiningTable|1", "DiningTable", (-0.6, 0.0, 0.8), (0.9, 0.8, 1.6))
MUG = Box("Mug|1", "Mug", (0.0, 0.8, 1.0), (0.12, 0.92, 1.12))
APPLE = Box("Apple|1", "Apple", (0.5, 0.8, 1.1), (0.6, 0.9, 1.2))
SIZE = 96


def view(boxes, position, yaw, horizon=30.0, inventory=()):
    return render_box_world(boxes, position, yaw, horizon, width=SIZE, height=SIZE, inventory=inventory)


def detections_of(event, with_ids=True, labels=None, scores=None):
    """Ground-truth detections of the non-structure objects, optionally relabelled/rescored and without ids."""
    objects = {o["objectId"]: o for o in event.metadata["objects"]}
    ids = sorted(k for k in event.instance_masks if k in objects)
    names = [labels.get(k, objects[k]["objectType"]) if labels else objects[k]["objectType"] for k in ids]
    return Detections(np.stack([event.instance_masks[k] for k in ids]), names,
                      [scores.get(k, 1.0) if scores else 1.0 for k in ids], ids if with_ids else None)


def inside_box(points, box, tolerance):
    lo, hi = np.asarray(box.lo) - tolerance, np.asarray(box.hi) + tolerance
    return np.all((points >= lo) & (points <= hi), axis=1)


@pytest.mark.parametrize("with_ids", [True, False])
def test_two_views_of_one_object_merge_into_one_instance(with_ids):
    memory = SemanticMemory()
    for position, yaw in (((0.0, 0.9, -0.3), 0.0), ((1.6, 0.9, 0.2), -40.0)):
        event = view([TABLE, MUG], position, yaw)
        assert "Mug|1" in event.instance_masks
        memory.update(event, detections_of(event, with_ids))
    mugs, tables = memory.find("Mug"), memory.find("DiningTable")
    assert len(mugs) == 1 and len(tables) == 1
    assert mugs[0].n_observations == 2 and mugs[0].last_seen == 2


def test_two_objects_of_one_class_stay_two_without_ids():
    other_mug = Box("Mug|2", "Mug", (0.5, 0.8, 1.2), (0.62, 0.92, 1.32))
    memory = SemanticMemory()
    for position, yaw in (((0.0, 0.9, -0.3), 0.0), ((0.8, 0.9, -0.2), -20.0)):
        event = view([TABLE, MUG, other_mug], position, yaw)
        memory.update(event, detections_of(event, with_ids=False))
    mugs = memory.find("Mug")
    assert len(mugs) == 2
    centres = sorted(float(m.centroid[0]) for m in mugs)
    assert centres[0] < 0.15 < 0.45 < centres[1]


def test_instance_points_lie_in_the_true_box_and_positions_are_in_thor_frame():
    memory = SemanticMemory()
    event = view([TABLE, MUG, APPLE], (0.0, 0.9, -0.3), 0.0)
    memory.update(event, detections_of(event))
    for box in (TABLE, MUG, APPLE):
        (inst,) = memory.find(box.object_type)
        assert inst.object_id == box.object_id
        assert inside_box(inst.points, box, 0.02).all()
        # Thor frame: y is up, so the mug's centroid height lies between its bottom and top.
        assert box.lo[1] - 0.02 <= inst.centroid[1] <= box.hi[1] + 0.02
        assert np.all(inst.bbox_min >= np.asarray(box.lo) - 0.02) and np.all(inst.bbox_max <= np.asarray(box.hi) + 0.02)
        assert len(inst.points) <= memory.config.max_points_per_instance
    assert np.allclose(memory.find("Mug")[0].points_zup[:, 2], memory.find("Mug")[0].points[:, 1])


def test_points_per_instance_are_bounded():
    memory = SemanticMemory(max_points_per_instance=50, voxel_size=0.02)
    event = view([TABLE], (0.0, 0.9, -0.3), 0.0)
    memory.update(event, detections_of(event))
    assert len(memory.find("DiningTable")[0].points) == 50


def test_class_votes_pick_the_score_weighted_majority():
    memory = SemanticMemory()
    event = view([TABLE, MUG], (0.0, 0.9, -0.3), 0.0)
    for label, score in (("Mug", 0.9), ("Cup", 0.6), ("Mug", 0.8), ("Cup", 0.5)):
        memory.update(event, detections_of(event, with_ids=False, labels={"Mug|1": label}, scores={"Mug|1": score}))
    (inst,) = [i for i in memory.instances() if "Cup" in i.class_votes]
    assert inst.class_name == "Mug"
    assert inst.class_confidence == pytest.approx(1.7 / 2.8, abs=1e-6)
    assert memory.find("Cup") == [] and memory.find("Mug") == [inst]


def test_find_sorts_by_confidence_and_nearest_takes_thor_positions():
    memory = SemanticMemory()
    near = memory.insert("Mug", np.random.default_rng(0).uniform([1, 0.9, 1], [1.1, 1.0, 1.1], (40, 3)), score=0.5)
    far = memory.insert("Mug", np.random.default_rng(1).uniform([-2, 0.9, 3], [-1.9, 1.0, 3.1], (40, 3)), score=2.0)
    memory.insert("Apple", [[1.0, 0.9, 1.0]])
    assert memory.find("Mug") == [far, near]
    assert memory.find("Mug", min_confidence=0.5) == [far]
    assert memory.nearest("Mug", {"x": 1.0, "y": 0.9, "z": 0.8}) is near
    assert memory.nearest("Mug", [-2.0, 0.0, 3.0]) is far
    assert memory.nearest("Fridge", [0, 0, 0]) is None
    with pytest.raises(ValueError, match="position"):
        memory.nearest("Mug", {"x": 1.0})


def test_contents_finds_objects_on_and_in_a_receptacle():
    rng = np.random.default_rng(0)
    memory = SemanticMemory()
    counter = memory.insert("CounterTop", rng.uniform([0, 0.0, 0], [2, 0.9, 0.6], (400, 3)))
    cabinet = memory.insert("Cabinet", rng.uniform([3, 0.0, 0], [3.6, 0.8, 0.6], (300, 3)))
    on_counter = memory.insert("Mug", rng.uniform([0.5, 0.9, 0.2], [0.6, 1.0, 0.3], (30, 3)))
    in_cabinet = memory.insert("Bowl", rng.uniform([3.2, 0.3, 0.2], [3.4, 0.4, 0.4], (30, 3)))
    memory.insert("Apple", rng.uniform([0.5, 1.5, 0.2], [0.6, 1.6, 0.3], (30, 3)))  # floating above: not on it
    memory.insert("Chair", rng.uniform([2.2, 0.0, 0.0], [2.7, 1.0, 0.5], (100, 3)))  # beside: not on it
    assert memory.contents(counter) == [on_counter]
    assert memory.contents("Cabinet") == [in_cabinet]
    assert memory.contents(cabinet) == [in_cabinet]
    assert memory.contents("Fridge") == []


def test_an_object_seen_gone_loses_confidence_then_disappears():
    memory = SemanticMemory(MemoryConfig(misses_to_remove=3))
    before = view([TABLE, APPLE], (0.0, 0.9, -0.3), 0.0)
    memory.update(before, detections_of(before, with_ids=False))
    (apple,) = memory.find("Apple")
    confidences = [apple.confidence]
    after = view([TABLE], (0.0, 0.9, -0.3), 0.0)
    for _ in range(2):
        memory.update(after, detections_of(after, with_ids=False))
        confidences.append(apple.confidence)
    assert confidences[0] > confidences[1] > confidences[2] and memory.find("Apple") == [apple]
    memory.update(after, detections_of(after, with_ids=False))
    assert memory.find("Apple") == [] and len(memory.find("DiningTable")) == 1


def test_an_occluded_object_is_kept():
    memory = SemanticMemory(MemoryConfig(misses_to_remove=1))
    before = view([TABLE, APPLE], (0.0, 0.9, -0.3), 0.0)
    memory.update(before, detections_of(before))
    screen = Box("Cabinet|9", "Cabinet", (-1.0, 0.0, 0.3), (1.5, 2.0, 0.4))
    occluded = view([TABLE, APPLE, screen], (0.0, 0.9, -0.3), 0.0)
    assert "Apple|1" not in occluded.instance_masks
    memory.update(occluded, detections_of(occluded))
    assert len(memory.find("Apple")) == 1


@pytest.mark.parametrize("with_ids", [True, False])
def test_a_picked_up_object_leaves_the_map_and_is_not_mapped_in_the_hand(with_ids):
    memory = SemanticMemory()
    start = view([TABLE, MUG, APPLE], (0.0, 0.9, -0.3), 0.0)
    memory.update(start, detections_of(start, with_ids))
    # Holding the mug: it is drawn close in front of the camera, as AI2-THOR shows a held object.
    held = Box("Mug|1", "Mug", (-0.05, 1.45, 0.1), (0.05, 1.55, 0.2))
    holding = view([TABLE, APPLE, held], (0.0, 0.9, -0.3), 0.0, inventory=[MUG])
    holding.metadata["objects"] = [o for o in holding.metadata["objects"]
                                   if o["objectId"] != "Mug|1" or o["isPickedUp"]]
    memory.update(holding, detections_of(holding, with_ids))
    assert memory.find("Mug") == []
    assert len(memory.find("Apple")) == 1 and len(memory.find("DiningTable")) == 1


def test_update_rejects_a_missing_depth_frame_and_mismatched_masks():
    memory = SemanticMemory()
    event = view([TABLE], (0.0, 0.9, -0.3), 0.0)
    detections = detections_of(event)
    event.depth_frame = None
    with pytest.raises(ValueError, match="depth_frame"):
        memory.update(event, detections)
    event = view([TABLE], (0.0, 0.9, -0.3), 0.0)
    with pytest.raises(ValueError, match="masks"):
        memory.update(event, Detections(np.zeros((1, 4, 4), bool), ["Mug"], [1.0]))


def test_to_json_lists_instances_and_reset_clears():
    import json

    memory = SemanticMemory()
    event = view([TABLE, MUG], (0.0, 0.9, -0.3), 0.0)
    memory.update(event, detections_of(event))
    dumped = json.loads(json.dumps(memory.to_json()))
    assert sorted(i["class"] for i in dumped["instances"]) == ["DiningTable", "Mug"]
    memory.reset()
    assert memory.instances() == [] and memory.step == 0


def test_a_flat_object_on_a_table_is_not_swallowed_by_it_without_ids():
    spoon = Box("Spoon|1", "Spoon", (0.1, 0.8, 1.1), (0.4, 0.82, 1.2))
    memory = SemanticMemory()
    bare = view([TABLE], (0.0, 0.9, 0.4), 20.0, horizon=60.0)  # the table top is mapped before the spoon is put down
    memory.update(bare, detections_of(bare, with_ids=False))
    for position, yaw in (((0.0, 0.9, 0.4), 20.0), ((0.6, 0.9, 0.5), -20.0)):
        event = view([TABLE, spoon], position, yaw, horizon=60.0)
        assert event.instance_masks["Spoon|1"].sum() > 20
        memory.update(event, detections_of(event, with_ids=False))
    assert len(memory.find("Spoon")) == 1 and len(memory.find("DiningTable")) == 1
    assert memory.find("Spoon")[0].class_votes == {"Spoon": 2.0}
    assert memory.contents("DiningTable") == memory.find("Spoon")


def test_second_choices_agreeing_over_views_outvote_a_wandering_first_choice():
    """Three views each name the mug a different wrong class first, but all hold Mug second: with the class
    candidates fused the instance is a Mug; with top classes alone it would be whichever wrong class scored most."""
    event = view([TABLE, MUG], (0.0, 0.9, -0.3), 0.0)
    soft, hard = SemanticMemory(), SemanticMemory()
    for first in ("Cup", "Bowl", "Vase"):
        dets = detections_of(event, with_ids=False, labels={"Mug|1": first}, scores={"Mug|1": 0.4})
        dets.class_scores = [({first: 0.4, "Mug": 0.35, "Kettle": 0.05} if name == first else {name: 1.0})
                             for name in dets.class_names]
        soft.update(event, dets)
        hard.update(event, detections_of(event, with_ids=False, labels={"Mug|1": first}, scores={"Mug|1": 0.4}))
    (mug,) = [i for i in soft.instances() if "Mug" in i.class_votes]
    assert mug.class_name == "Mug" and mug.class_votes["Mug"] == pytest.approx(1.05)
    assert mug.class_confidence == pytest.approx(1.05 / 2.4)
    assert soft.find("Mug") == [mug]
    assert hard.find("Mug") == [] and all("Mug" not in i.class_votes for i in hard.instances())


def test_runner_up_votes_do_not_make_classes_compatible():
    """A table whose detection listed Mug as a runner-up class must not absorb a later Mug detection that bleeds onto
    it (a quarter or more of the mug's voxels on the table): association follows the classes detections named first,
    so the mug becomes an instance of its own."""
    event = view([TABLE, MUG], (0.0, 0.9, -0.3), 0.0)
    memory = SemanticMemory()
    table_mask, mug_mask = event.instance_masks["DiningTable|1"], event.instance_masks["Mug|1"]
    memory.update(event, Detections(table_mask[None], ["DiningTable"], [0.8],
                                    class_scores=[{"DiningTable": 0.6, "Mug": 0.2}]))
    rows, cols = np.nonzero(mug_mask)
    around = np.zeros_like(mug_mask)
    around[max(rows.min() - 8, 0):rows.max() + 9, max(cols.min() - 8, 0):cols.max() + 9] = True
    memory.update(event, Detections((mug_mask | (around & table_mask))[None], ["Mug"], [0.9]))
    table = next(i for i in memory.instances() if i.class_name == "DiningTable")
    assert table.named_as == {"DiningTable"} and table.class_votes["Mug"] == pytest.approx(0.2)
    assert len(memory) == 2 and memory.find("Mug")[0] is not table


def test_contents_of_an_open_fridge_leave_out_what_stands_beside_its_door():
    """The box of an open fridge reaches over the counter its door swings above; a tomato there is not in it, one on
    its shelf is (the shelf is fridge surface under it)."""
    rng = np.random.default_rng(1)
    memory = SemanticMemory()
    body = rng.uniform([0.0, 0.0, 0.0], [0.8, 1.7, 0.8], (1500, 3))
    t = rng.uniform(0.0, 1.0, (400, 1))  # the door, swung open past square: a slab from the hinge out over the counter
    door = np.concatenate([0.8 + 0.7 * t, rng.uniform(0.0, 1.7, (400, 1)), -0.6 * t], axis=1)
    fridge = memory.insert("Fridge", np.concatenate([body, door]))
    memory.insert("CounterTop", rng.uniform([0.9, 0.0, -0.6], [2.5, 0.9, 0.6], (500, 3)))
    beside = memory.insert("Tomato", rng.uniform([1.14, 0.9, -0.1], [1.2, 0.96, -0.04], (20, 3)))
    shelf = memory.insert("Tomato", rng.uniform([0.3, 0.85, 0.3], [0.36, 0.91, 0.36], (20, 3)))
    inside = memory.contents(fridge)
    assert shelf in inside
    assert beside not in inside
    assert memory.contents("CounterTop") == [beside]


def test_an_object_seen_in_place_but_not_detected_fades_only_with_unseen_penalty_and_near():
    """A one-off detection (the apple here) whose place is seen again without it loses ``unseen_penalty`` evidence per
    such view while within ``unseen_max_distance``; it stays mapped (a later detection revives it); the default is off."""
    scene = view([TABLE, APPLE], (0.0, 0.9, -0.3), 0.0)
    every = detections_of(scene, with_ids=False)
    missed = every.select([every.class_names.index("DiningTable")])  # the detector missed the apple
    assert missed.class_names == ["DiningTable"]
    found = {}
    for name, options in (("off", {}), ("near", {"unseen_penalty": 0.4, "unseen_max_distance": 3.0}),
                          ("far", {"unseen_penalty": 0.4, "unseen_max_distance": 0.5})):
        memory = SemanticMemory(MemoryConfig(**options))
        memory.update(scene, detections_of(scene, with_ids=False, scores={"Apple|1": 0.7}))
        (apple,) = memory.find("Apple")
        first = apple.confidence
        for _ in range(3):
            memory.update(scene, missed)
        found[name] = (first, memory.find("Apple"))
    assert found["off"][1][0].confidence == pytest.approx(found["off"][0])
    assert found["far"][1][0].confidence == pytest.approx(found["far"][0])
    (apple,) = found["near"][1]  # still mapped, but no longer confident
    assert apple.evidence == 0.0 and apple.confidence == 0.0
    memory = SemanticMemory(MemoryConfig(unseen_penalty=0.4))
    memory.update(scene, detections_of(scene, with_ids=False, scores={"Apple|1": 0.7}))
    memory.update(scene, missed)
    memory.update(scene, detections_of(scene, with_ids=False, scores={"Apple|1": 0.7}))
    assert memory.find("Apple")[0].evidence == pytest.approx(0.7 - 0.4 + 0.7)
    with pytest.raises(ValueError, match="unseen_penalty"):
        MemoryConfig(unseen_penalty=-1)
