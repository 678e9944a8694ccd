"""TEACh's goal-condition checker on hand-built states: each of the 12 task families, satisfied, unsatisfied and
partially satisfied, with the counts worked out by hand from TEACh's rules (``task_THOR.py``)."""

from __future__ import annotations

import pytest

from episodes import edh_check_task, goal_conditions, make_task, prepare_objects
from episodes.checker import check_task, object_type_from_id, state_objects

SINK = "Sink|-1|1|-1|SinkBasin"
COUNTER = "CounterTop|0|0|-2"
TABLE = "DiningTable|3|0|3"


def o(object_id: str, **props) -> dict:
    """An AI2-THOR object dict; the type comes from the id as in TEACh (``Bread|..|BreadSliced_1`` -> BreadSliced)."""
    obj = {"objectId": object_id, "objectType": object_type_from_id(object_id), "parentReceptacles": None,
           "position": {"x": 0.0, "y": 0.0, "z": 0.0}}
    obj.update(props)
    return obj


def room(*objects) -> list[dict]:
    return [o(SINK, receptacle=True), o(COUNTER, receptacle=True), o(TABLE, receptacle=True), *objects]


def counts(task_id, params, objects, **kw):
    status = goal_conditions(task_id, params, objects, **kw)
    return status.success, status.goal_conditions_total, status.goal_conditions_satisfied


# ---------------------------------------------------------------- single-component families


@pytest.mark.parametrize("filled,plant,expected", [
    (True, True, (True, 2, 2)),
    (False, True, (False, 2, 1)),  # the plant is there (objectType) but dry
    (False, False, (False, 2, 0)),
])
def test_water_plant(filled, plant, expected):
    objects = room(o("HousePlant|1|0|1", isFilledWithLiquid=filled)) if plant else room()
    assert counts(114, [], objects) == expected


def test_coffee_counts_the_best_candidate_mug():
    done = o("Mug|1|1|1", isDirty=False, simbotIsFilledWithCoffee=True)
    assert counts(102, [], room(done)) == (True, 3, 3)
    dirty_empty = o("Mug|1|1|1", isDirty=True, simbotIsFilledWithCoffee=False)
    clean_empty = o("Mug|2|1|1", isDirty=False, simbotIsFilledWithCoffee=False)
    # The candidate meeting most conditions (clean: type + isDirty) is the one counted.
    assert counts(102, [], room(dirty_empty, clean_empty)) == (False, 3, 2)
    # A property the object lacks is unmet.
    assert counts(102, [], room(o("Mug|1|1|1", isDirty=False))) == (False, 3, 2)


def test_boil_x():
    assert counts(112, ["Potato"], room(o("Potato|1|1|1", simbotIsBoiled=True))) == (True, 2, 2)
    assert counts(112, ["Potato"], room(o("Potato|1|1|1", simbotIsBoiled=False))) == (False, 2, 1)
    assert counts(112, ["Egg"], room(o("Potato|1|1|1", simbotIsBoiled=True))) == (False, 2, 0)


def test_clean_all_x():
    mugs = [o("Mug|1|1|1", isDirty=False), o("Mug|2|1|1", isDirty=False)]
    # "all" Mug component: 2 conditions x 2 mugs; the shareable sink (matched by SinkBasin): 2 conditions.
    assert counts(115, ["Mug"], room(*mugs)) == (True, 6, 6)
    mugs[1]["isDirty"] = True
    assert counts(115, ["Mug"], room(*mugs)) == (False, 6, 5)
    # No mug at all: the "all" component succeeds without steps and adds no goal conditions (TEACh quirk).
    assert counts(115, ["Mug"], room()) == (True, 2, 2)
    # Classes work too: Dishware covers Plate and Bowl.
    dishes = [o("Plate|1|1|1", isDirty=True), o("Bowl|1|1|1", isDirty=False), o("Mug|3|1|1", isDirty=True)]
    assert counts(115, ["Dishware"], room(*dishes)) == (False, 6, 5)


# ---------------------------------------------------------------- relations: put all X on / in one Y


def _papers(first_parent: str, second_parent: str) -> list[dict]:
    return room(o("CoffeeTable|1|0|1", receptacle=True), o("Sofa|5|0|5", receptacle=True),
                o("Newspaper|1|1|1", parentReceptacles=[first_parent]),
                o("Newspaper|2|1|1", parentReceptacles=[second_parent]))


def test_put_all_x_in_one_y():
    # Tables component (2 conditions; CoffeeTable and DiningTable both qualify) + 1 relation condition per newspaper.
    assert counts(111, ["Newspaper", "on", "Tables"], _papers("CoffeeTable|1|0|1", "CoffeeTable|1|0|1")) == (
        True, 4, 4)
    # Spread over two tables: no single table holds both; the best table holds one.
    assert counts(111, ["Newspaper", "on", "Tables"], _papers("CoffeeTable|1|0|1", TABLE)) == (False, 4, 3)


def test_put_all_x_on_y():
    # Tail "a": any table will do, so two tables are fine.
    assert counts(110, ["Newspaper", "on", "Tables"], _papers("CoffeeTable|1|0|1", TABLE)) == (True, 4, 4)
    assert counts(110, ["Newspaper", "on", "Tables"], _papers("CoffeeTable|1|0|1", "Sofa|5|0|5")) == (False, 4, 3)


def test_parent_found_through_simbot_last_parent_receptacle():
    objects = _papers("CoffeeTable|1|0|1", "Sofa|5|0|5")
    objects[-1]["simbotLastParentReceptacle"] = "Box|9|9|9"
    objects.append(o("Box|9|9|9", parentReceptacles=[TABLE]))  # the box stands on the dining table
    assert counts(110, ["Newspaper", "on", "Tables"], objects) == (False, 4, 3)  # AI2-THOR's list wins
    objects[-2]["parentReceptacles"] = None
    assert counts(110, ["Newspaper", "on", "Tables"], objects) == (True, 4, 4)


# ---------------------------------------------------------------- composed families


def _toast(n: int, parent: str | None, cooked=True) -> dict:
    return o(f"Bread|1|1|1|BreadSliced_{n}", isCooked=cooked, parentReceptacles=[parent] if parent else None)


def test_plate_of_toast():
    plate = "Plate|1|1|1"
    # Toast 2 + Clean X (sink 2 + plate 2) + relation 1 = 7.
    assert counts(106, [], room(o(plate, isDirty=False), _toast(1, plate))) == (True, 7, 7)
    assert counts(106, [], room(o(plate, isDirty=False), _toast(1, COUNTER))) == (False, 7, 6)
    # A dirty plate is no tail for the relation (task components offer only satisfied objects): 2 + 3 + 0.
    assert counts(106, [], room(o(plate, isDirty=True), _toast(1, plate))) == (False, 7, 5)


def _potato_slice(n: int, parent: str | None, cooked=True) -> dict:
    return o(f"Potato|1|1|1|PotatoSliced_{n}", simbotIsCooked=cooked, parentReceptacles=[parent] if parent else None)


def test_n_cooked_slices_of_x_in_y():
    params = ["2", "Potato", "on", "Plate"]
    plate, knife = o("Plate|1|1|1", isDirty=False), o("Knife|1|1|1")
    # Cooked Slice Of X x2 (knife 1 + slices 2x2) + Clean X 4 + relation 2 = 11.
    assert counts(107, params, room(plate, knife, _potato_slice(1, "Plate|1|1|1"),
                                    _potato_slice(2, "Plate|1|1|1"))) == (True, 11, 11)
    assert counts(107, params, room(plate, knife, _potato_slice(1, "Plate|1|1|1"),
                                    _potato_slice(2, COUNTER))) == (False, 11, 10)
    # One slice uncooked: slices 2 + 1 (its type); the relation counts only the satisfied slice.
    assert counts(107, params, room(plate, knife, _potato_slice(1, "Plate|1|1|1"),
                                    _potato_slice(2, "Plate|1|1|1", cooked=False))) == (False, 11, 9)


def test_sliced_rule_asks_for_one_instance_when_a_whole_object_could_be_sliced():
    params = ["2", "Potato", "on", "Plate"]
    whole = [o("Potato|1|1|1", simbotIsCooked=True), o("Potato|2|1|1", simbotIsCooked=True)]
    # Two cooked whole potatoes could each be counted (1 condition each), but TEACh's "Sliced" rule needs only one:
    # knife 1 + 1 + Clean X 4 + relation 0 = 6, not 7.
    assert counts(107, params, room(o("Plate|1|1|1", isDirty=False), o("Knife|1|1|1"), *whole)) == (False, 11, 6)


def test_n_slices_of_x_in_y():
    params = ["1", "Apple", "in", "Bowl"]
    bowl, knife = o("Bowl|1|1|1", isDirty=False), o("Knife|1|1|1")
    sliced = o("Apple|1|1|1|AppleSliced_1", parentReceptacles=["Bowl|1|1|1"])
    # Sliced X (knife 1 + slice 1) + Clean X 4 + relation 1 = 7.
    assert counts(108, params, room(bowl, knife, sliced)) == (True, 7, 7)
    assert counts(108, params, room(bowl, knife, o("Apple|1|1|1"))) == (False, 7, 5)


def _salad_items(plate: str) -> list[dict]:
    return [o("Plate|1|1|1", isDirty=False), o("Knife|1|1|1"),
            o("Lettuce|1|1|1|LettuceSliced_1", parentReceptacles=[plate]),
            o("Tomato|1|1|1|TomatoSliced_1", parentReceptacles=[plate]),
            _potato_slice(1, plate)]


def test_salad():
    # lettuce 2 + tomato 2 + cooked potato 3 + plate 4 + relation 3 = 14.
    assert counts(303, ["1", "1", "1"], room(*_salad_items("Plate|1|1|1"))) == (True, 14, 14)
    partial = _salad_items("Plate|1|1|1")
    partial[3] = o("Tomato|1|1|1")  # not sliced yet
    partial[4]["simbotIsCooked"] = False
    # lettuce 2 + tomato (knife) 1 + potato (knife + slice type) 2 + plate 4 + relation (lettuce only) 1 = 10.
    assert counts(303, ["1", "1", "1"], room(*partial)) == (False, 14, 10)
    # Determiner "0" drops the tomato component and its relation head: 14 - 2 - 1 = 11.
    no_tomato = [x for x in _salad_items("Plate|1|1|1") if x["objectType"] != "TomatoSliced"]
    assert counts(303, ["1", "0", "1"], room(*no_tomato)) == (True, 11, 11)


def test_sandwich():
    plate = "Plate|1|1|1"
    items = [o(plate, isDirty=False), o("Knife|1|1|1"), _toast(1, plate), _toast(2, plate),
             o("Lettuce|1|1|1|LettuceSliced_1", parentReceptacles=[plate]),
             o("Tomato|1|1|1|TomatoSliced_1", parentReceptacles=[plate])]
    # toast 2x2 + lettuce 2 + tomato 2 + plate 4 + relation (2 + 1 + 1) = 16.
    assert counts(302, ["1", "1"], room(*items)) == (True, 16, 16)
    items[3] = _toast(2, COUNTER)
    assert counts(302, ["1", "1"], room(*items)) == (False, 16, 15)


def _breakfast(coffee: int, toast: int) -> list[str]:
    return [str(coffee), str(toast), "0", "Plate", "0", "Plate", "0", "0", "0", "0", "0", "0", "0", "CounterTop"]


def test_breakfast():
    plate = "Plate|1|1|1"
    mug = o("Mug|1|1|1", isDirty=False, simbotIsFilledWithCoffee=True, parentReceptacles=[COUNTER])
    items = [mug, o(plate, isDirty=False, parentReceptacles=[COUNTER]), _toast(1, plate)]
    # coffee 3 + plate of toast 7 + serving spot 2 + relation (coffee 1 + toast 1) = 14.
    assert counts(301, _breakfast(1, 1), room(*items)) == (True, 14, 14)
    items[0] = dict(mug, parentReceptacles=[TABLE])
    assert counts(301, _breakfast(1, 1), room(*items)) == (False, 14, 13)


def test_breakfast_relation_with_tail_a_is_not_capped():
    mugs = [o(f"Mug|{i}|1|1", isDirty=False, simbotIsFilledWithCoffee=True, parentReceptacles=[COUNTER])
            for i in (1, 2)]
    # coffee 3 + serving spot 2 + relation 1 = 6 in total, but both coffees on the counter count: 3 + 2 + 2 = 7.
    assert counts(301, _breakfast(1, 0), room(*mugs)) == (True, 6, 7)


def test_status_reports_components_for_the_expert():
    status = goal_conditions(106, [], room(o("Plate|1|1|1", isDirty=True), _toast(1, COUNTER)))
    assert [s.key for s in status.subgoals] == ["toast", "plate", "relation[0]"]
    plate = status.component("plate")
    assert plate.kind == "task" and not plate.success
    assert plate.subtask.component("Plate").problems == {"Plate|1|1|1": ["isDirty"]}
    assert status.component("toast").success and status.component("toast").satisfied_objects == [
        "Bread|1|1|1|BreadSliced_1"]


def test_instances_multiply_requirements():
    task = make_task(102)
    mugs = prepare_objects(room(o("Mug|1|1|1", isDirty=False, simbotIsFilledWithCoffee=True)))
    status = check_task(task, mugs, num_instances=2)
    assert (status.success, status.goal_conditions_total, status.goal_conditions_satisfied) == (False, 6, 3)


# ---------------------------------------------------------------- objects and the EDH check task


def test_state_objects_merge_custom_metadata_and_classes():
    state = {"time_start": 0, "objects": [o("Mug|1|1|1", isDirty=False), o(SINK)],
             "custom_object_metadata": {"Mug|1|1|1": {"simbotIsFilledWithCoffee": True}}}
    objects = state_objects(state)
    assert objects[0]["simbotIsFilledWithCoffee"] is True
    assert objects[0]["simbotObjectClass"] == ["Mug", "Tableware", "Drinkware"]
    assert objects[1]["simbotObjectClass"][:2] == ["SinkBasin", "Sink"]
    assert "simbotObjectClass" not in state["objects"][0]  # the saved state is left untouched


def test_edh_check_task_from_state_changes():
    changes = {"agents": {}, "objects": {
        "Mug|1|1|1": {"isDirty": False, "simbotIsFilledWithCoffee": True, "isFilledWithLiquid": True,
                      "simbotLastParentReceptacle": "CoffeeMachine|2|1|1", "position": {"x": 1}},
        "Mug|2|1|1": {"isDirty": False},
        "Potato|1|1|1|PotatoSliced_3": {"objectType": "PotatoSliced", "simbotIsBoiled": True, "isCooked": True,
                                        "simbotIsCooked": True},
    }}
    task = edh_check_task(changes)
    assert set(task.components) == {
        "('Mug', 'isDirty', False)", "('Mug', 'simbotIsFilledWithCoffee', True)",
        "('Mug', 'simbotLastParentReceptacle', 'CoffeeMachine|2|1|1')",
        "('PotatoSliced', 'objectType', 'PotatoSliced')", "('PotatoSliced', 'simbotIsBoiled', True)"}
    assert task.components["('Mug', 'isDirty', False)"]["determiner"] == 2  # two mugs changed the same way
    assert task.components["('Mug', 'simbotLastParentReceptacle', 'CoffeeMachine|2|1|1')"]["conditions"] == {
        "objectType": "Mug", "simbotLastParentReceptacle": "CoffeeMachine"}
    objects = room(o("Mug|1|1|1", isDirty=False, simbotIsFilledWithCoffee=True,
                     simbotLastParentReceptacle="CoffeeMachine|2|1|1"),
                   o("Mug|2|1|1", isDirty=True), o("CoffeeMachine|2|1|1"),
                   o("Potato|1|1|1|PotatoSliced_3", simbotIsBoiled=False))
    status = check_task(task, prepare_objects(objects))
    # isDirty 2x2 (one mug dirty: 3) + coffee 2 + parent 2 + objectType 1 + boiled 2 (1) = 11 total, 9 satisfied.
    assert (status.success, status.goal_conditions_total, status.goal_conditions_satisfied) == (False, 11, 9)
