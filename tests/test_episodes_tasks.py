"""TEACh task definitions: loading rules, parameter substitution and sub-task composition."""

from __future__ import annotations

import dataclasses
import json

import pytest

from episodes import TASK_FAMILIES, TaskDefinitionError, load_task_library, make_task, task_record
from episodes.tasks import DEFINITIONS_DIR, BreakfastParams, parse_task_definition

BREAKFAST_PARAMS = ["1", "2", "1", "Bowl", "0", "Plate", "1", "3", "1", "0", "1", "1", "1", "DiningTable"]


def test_library_holds_every_definition_and_the_12_families():
    library = load_task_library()
    assert len(library.by_id) == 25
    assert [d.task_name for d in library.families()] == list(TASK_FAMILIES.values())
    assert library.get("Salad").task_id == 303 and library.get(302).task_name == "Sandwich"
    with pytest.raises(KeyError, match="Omelet"):
        library.get("Omelet")


def test_params_are_written_in_and_subtasks_composed():
    breakfast = make_task(301, BREAKFAST_PARAMS)
    potatoes = breakfast.components["potatoes"]
    assert potatoes["determiner"] == "1"  # determiners stay strings
    assert potatoes["task_params"] == ["2", "Potato", "on", "Bowl"]  # "#3" -> the parent's 4th param
    dish = breakfast.subtask("potatoes")
    assert dish.task_name == "N Cooked Slices Of X In Y" and dish.task_anchor_object == "Bowl"
    assert dish.desc == "Cook 2 slice(s) of Potato and serve on a Bowl."
    assert dish.relations[0]["head_determiner_list"] == ["2"]  # strings inside lists stay strings
    assert dish.subtask("Potato").components["Potato"]["conditions"] == {"objectType": "PotatoSliced",
                                                                        "simbotIsCooked": 1}
    sandwich = breakfast.subtask("sandwich")
    assert sandwich.task_params == ["3", "1"] and sandwich.components["lettuce"]["determiner"] == "3"
    assert breakfast.components["serving_spot"]["conditions"]["objectType"] == "DiningTable"
    assert breakfast.relations[0]["head_determiner_list"] == ["1", "2", "1", "0", "1", "0"]


def test_highest_index_is_substituted_first():
    breakfast = make_task(301, BREAKFAST_PARAMS)
    # "#13" must become the 14th param, not "#1" followed by "3".
    assert breakfast.relations[0]["failure_desc"] == "All breakfast items need to be on the DiningTable."


def test_numeric_values_become_ints_except_determiners_and_keys_move():
    toggle = make_task(116, ["on", "1", "Lamps"])
    assert toggle.components["1"]["conditions"] == {"simbotObjectClass": "Lamps", "isToggled": 1}
    assert toggle.components["1"]["determiner"] == "all"
    clean = make_task(103, ["Mug"])
    assert list(clean.components) == ["sink", "Mug"]  # a substituted key is re-inserted at the end, as in TEACh


def test_wrong_param_count_is_rejected():
    with pytest.raises(TaskDefinitionError, match="takes 4 params but got 2"):
        make_task("N Slices Of X In Y", ["1", "Apple"])


def test_task_record_nests_subtasks():
    record = task_record(106)
    assert record["task_anchor_object"] == "plate"
    assert record["components"]["plate"]["task"]["components"]["Plate"]["conditions"] == {
        "simbotObjectClass": "Plate", "isDirty": 0}
    json.dumps(record)  # a game file must be able to hold it


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.pop("relations"), "field 'relations': missing"),
    (lambda d: d["components"]["coffee"].pop("instance_shareable"), "missing ['instance_shareable']"),
    (lambda d: d["components"]["coffee"].update(primary_condition="isOpen"), "is not one of its conditions"),
])
def test_bad_definition_is_rejected_with_the_field(mutate, message):
    data = json.loads((DEFINITIONS_DIR / "102__coffee.json").read_text())
    mutate(data)
    with pytest.raises(TaskDefinitionError, match="coffee.json") as caught:
        parse_task_definition(data, "102__coffee.json")
    assert message in str(caught.value)


def test_library_rejects_unknown_subtask_and_duplicates(tmp_path):
    coffee = json.loads((DEFINITIONS_DIR / "102__coffee.json").read_text())
    plate = json.loads((DEFINITIONS_DIR / "106__plate_of_toast.json").read_text())
    (tmp_path / "a.json").write_text(json.dumps(coffee))
    (tmp_path / "b.json").write_text(json.dumps(plate))
    with pytest.raises(TaskDefinitionError, match="'Toast' names no task"):
        load_task_library(str(tmp_path))
    (tmp_path / "b.json").write_text(json.dumps({**coffee, "task_name": "Coffee 2"}))
    with pytest.raises(TaskDefinitionError, match="duplicate task_id 102"):
        load_task_library(str(tmp_path))


def test_breakfast_params_are_named_as_teachs_definition_numbers_them():
    """Each count is the determiner of the component of that name; a sub-task's own params follow it; #13 is the
    serving spot's objectType (301__breakfast.json)."""
    names = [f.name for f in dataclasses.fields(BreakfastParams)]
    components = json.loads(next(DEFINITIONS_DIR.glob("301__*.json")).read_text())["components"]
    for component in ("coffee", "toast", "potatoes", "apple", "sandwich", "salad"):
        assert names[int(components[component]["determiner"][1:])] == component
    assert [names[int(p[1:])] for p in components["salad"]["task_params"]] == ["salad_lettuce", "salad_tomato",
                                                                               "salad_potato"]
    assert names[int(components["potatoes"]["task_params"][3][1:])] == "potato_dish"
    assert names[int(components["serving_spot"]["conditions"]["objectType"][1:])] == "serving_spot"
    wanted = BreakfastParams.from_params(BREAKFAST_PARAMS)
    assert (wanted.toast, wanted.potato_dish, wanted.serving_spot) == (2, "Bowl", "DiningTable")
    assert wanted.to_params() == BREAKFAST_PARAMS
    with pytest.raises(TaskDefinitionError, match="14 params"):
        BreakfastParams.from_params(BREAKFAST_PARAMS[:3])
