"""The generator's dialogue writer, typing and subgoals, on a small hand-made world (no simulator, seconds).

What TEACh's fields must look like comes from the fact sheet on alexa/teach 903191e: ``da_metadata`` with three
``das`` and three ``text_segments`` padded with "", ``corrected_utterance`` beside ``utterance``, EDH subgoals with
navigation collapsed to "Navigate" + object.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from episodes.dialogue import DialogueWriter, task_cores
from episodes.expert import Trace
from episodes.language import (DIALOGUE_ACTS, Segment, TypingStyle, mask_utterance, names_of, plural, render,
                               words_of)
from episodes.subgoals import object_type_of, subgoals
from episodes.tasks import BreakfastParams, make_task

TASKS = [(102, []), (114, []), (112, ["Potato"]), (106, []), (115, ["Mug"]), (110, ["RemoteControl", "on", "Sofa"]),
         (111, ["Pencil", "in", "Box"]), (107, ["2", "Potato", "on", "Plate"]), (108, ["1", "Tomato", "in", "Bowl"]),
         (303, ["1", "1", "1"]), (302, ["1", "0"]),
         (301, BreakfastParams(coffee=1, toast=1, sandwich_lettuce=1, sandwich_tomato=1, salad_tomato=2,
                               serving_spot="DiningTable").to_params())]


def _obj(object_id, x, z, parent=None, receptacle=False, pickupable=True, y=0.9):
    return {"objectId": object_id, "objectType": object_id.split("|")[0], "position": {"x": x, "y": y, "z": z},
            "parentReceptacles": [parent] if parent else None, "receptacle": receptacle, "pickupable": pickupable,
            "isPickedUp": False}


def _world() -> list[dict]:
    fixed = dict(receptacle=True, pickupable=False)
    return [_obj("CounterTop|1|0|1", 1.0, 1.0, **fixed), _obj("Cabinet|2|0|1", 2.0, 1.2, **fixed, y=1.8),
            _obj("Fridge|0|0|3", 0.0, 3.0, **fixed), _obj("Sink|3|0|1", 2.0, 1.0, **fixed),
            _obj("StoveBurner|1|0|3", 1.0, 3.0, **fixed), _obj("DiningTable|4|0|4", 4.0, 4.0, **fixed),
            _obj("Sofa|5|0|0", 5.0, 0.0, **fixed),
            _obj("Mug|1|1|1", 1.1, 1.0, "CounterTop|1|0|1"), _obj("Knife|2|1|1", 2.0, 1.2, "Cabinet|2|0|1"),
            _obj("Potato|0|1|3", 0.0, 3.0, "Fridge|0|0|3"), _obj("Plate|4|1|4", 4.0, 4.0, "DiningTable|4|0|4"),
            _obj("RemoteControl|5|1|0", 5.0, 0.0, "Sofa|5|0|0"), _obj("HousePlant|4|1|0", 4.0, 0.0)]


class _FakeExpert:
    """What the writer reads of the expert: the event's objects and agent pose, the trace, the env's state."""

    def __init__(self):
        objects = _world()
        by_id = {o["objectId"]: o for o in objects}
        metadata = {"objects": objects, "agent": {"position": {"x": 0.0, "y": 0.9, "z": 0.0},
                                                   "rotation": {"x": 0, "y": 90.0, "z": 0}}}
        self.event = SimpleNamespace(metadata=metadata, get_object=by_id.get)
        self.env = SimpleNamespace(export_state=lambda: {"objects": []})
        self.trace = Trace()
        self.on_milestone = None


def _play(task_id: int, params: list[str], seed: int) -> Trace:
    """One game's dialogue: opening, a walk through the expert's milestones (driver actions in between), closing."""
    expert = _FakeExpert()
    writer = DialogueWriter(expert, make_task(task_id, params), np.random.default_rng(seed))
    writer.opening()
    for kind, info in [("fetch", {"object_id": "Mug|1|1|1"}), ("tap", {"object_id": "Mug|1|1|1"}),
                       ("place", {"object_id": "Mug|1|1|1", "receptacle_id": "Sink|3|0|1"}),
                       ("fetch", {"object_id": "Knife|2|1|1"}), ("slice", {"object_id": "Potato|0|1|3"}),
                       ("fetch", {"object_id": "Potato|0|1|3"}), ("stove", {"object_id": "StoveBurner|1|0|3"}),
                       ("carry", {"object_id": "RemoteControl|5|1|0"}), ("carry", {"object_id": "RemoteControl|5|1|0"}),
                       ("place", {"object_id": "Potato|0|1|3", "receptacle_id": "Plate|4|1|4"})]:
        expert.trace.driver_actions.append({"action_name": "Forward"})  # a driver action between milestones
        writer.milestone(kind, info)
    writer.closing()
    return expert.trace


def _utterances(trace: Trace) -> list[dict]:
    return [i for i in trace.interactions if "utterance" in i]


def test_every_utterance_carries_teach_dialogue_fields():
    for task_id, params in TASKS:
        trace = _play(task_id, params, seed=task_id)
        utterances = _utterances(trace)
        assert {u["agent_id"] for u in utterances} == {0, 1}
        for u in utterances:
            das, segments = u["da_metadata"]["das"], u["da_metadata"]["text_segments"]
            assert len(das) == 3 and len(segments) == 3
            used = [a for a in das if a]
            assert used and all(a in DIALOGUE_ACTS for a in used)
            assert das[:len(used)] == used and segments[len(used):] == [""] * (3 - len(used))  # padded at the end
            assert " ".join(s for s in segments if s) == u["utterance"]
            # The correction undoes typos only: same words in the same places.
            assert len(u["corrected_utterance"].split()) == len(u["utterance"].split())
        assert [t.text for t in trace.turns] == [u["utterance"] for u in utterances]
        assert all("<<" in t.with_das for t in trace.turns)


def test_task_statement_names_the_task_objects():
    for task_id, params in TASKS:
        trace = _play(task_id, params, seed=7)
        commander = " ".join(u["corrected_utterance"].lower() for u in _utterances(trace) if u["agent_id"] == 0)
        task = make_task(task_id, params)
        if task.task_name in ("Put All X On Y", "Put All X In One Y", "Clean All X", "Boil X"):
            wanted = [params[0]] + ([params[2]] if task.task_name.startswith("Put") else [])
        elif task.task_name.startswith("N "):
            wanted = [params[3]]
        else:
            wanted = []
        for object_type in wanted:
            assert any(name in commander for name in names_of(object_type)), (task.task_name, object_type)
        if task.task_name.startswith("N "):
            assert any(word in commander for word in (params[0], {"1": "one", "2": "two"}[params[0]], " a ",
                                                      "single")), commander


def test_same_seed_same_dialogue_and_seeds_differ():
    first = [u["utterance"] for u in _utterances(_play(110, TASKS[5][1], seed=3))]
    assert first == [u["utterance"] for u in _utterances(_play(110, TASKS[5][1], seed=3))]
    others = {tuple(u["utterance"] for u in _utterances(_play(110, TASKS[5][1], seed=s))) for s in range(6)}
    assert len(others) == 6


def test_commander_language_is_varied():
    """The issue's bar on generated games (vocabulary >= 400, >= 90% distinct once names and numbers are masked),
    checked here on 48 dialogues over the 12 families in the hand-made world."""
    commander = [u["corrected_utterance"] for seed in range(4) for task_id, params in TASKS
                 for u in _utterances(_play(task_id, params, seed=100 * seed + task_id)) if u["agent_id"] == 0]
    templates = {mask_utterance(u) for u in commander}
    vocabulary = {w for u in commander for w in words_of(u)}
    assert len(vocabulary) >= 400, len(vocabulary)
    assert len(templates) / len(commander) >= 0.9, (len(templates), len(commander))


def test_commander_instructions_are_edh_cuts_after_the_first_driver_action():
    trace = _play(107, TASKS[7][1], seed=11)
    utterances = {i: u for i, u in enumerate(trace.interactions) if "utterance" in u}
    assert trace.cuts
    for cut in trace.cuts:
        u = utterances[cut.interaction_index]
        assert u["agent_id"] == 0 and "Instruction" in u["da_metadata"]["das"] and cut.driver_action_index > 0


def test_typing_keeps_acts_and_pads_segments():
    rng = np.random.default_rng(0)
    sloppy = TypingStyle(lower=1.0, capitalise=0.0, drop_end_punctuation=1.0, typo_per_word=0.5, short_forms=1.0,
                         exclaim=0.0)
    typed = render([Segment("Greetings/Salutations", "hello there."),
                    Segment("Instruction", "please put the potatoes in the fridge.")], sloppy, rng)
    assert typed.das == ["Greetings/Salutations", "Instruction", ""]
    assert typed.corrected in ("hello there. pls put the potatoes in the fridge",
                               "hello there. plz put the potatoes in the fridge")
    assert typed.utterance != typed.corrected and typed.utterance.islower()
    with pytest.raises(ValueError):
        Segment("Chitchat", "hi")
    with pytest.raises(ValueError):
        render([Segment("Acknowledge", "ok")] * 4, sloppy, rng)


def test_names_plurals_and_masking():
    assert names_of("CounterTop")[0] == "counter" and "cupboard" in names_of("Cabinet")
    assert names_of("TennisRacket") == ("tennis racket",)  # not listed: the type's own words
    assert plural("butter knife") == "butter knives" and plural("slice of potato") == "slices of potato"
    assert mask_utterance("Put 2 mugs in the sink, please!") == "put NUM OBJ in the OBJ please"
    assert mask_utterance("cut three slices of bread") == "cut NUM OBJ"


def test_subgoals_collapse_navigation_and_split_at_the_cut():
    def act(name, oid=None):
        return {"action_name": name, "obj_interaction_action": int(oid is not None), "oid": oid}

    actions = [act("Forward"), act("Turn Left"), act("Pickup", "Mug|1|2|3"), act("Forward"), act("Forward"),
               act("Place", "CoffeeMachine|1|2|3"), act("ToggleOn", "CoffeeMachine|1|2|3"),
               act("Slice", "Bread|1|2|3|BreadSliced_2")]
    history, future = subgoals(actions, split_at=4)
    assert history == ["Navigate", "Mug", "Pickup", "Mug", "Navigate", "CoffeeMachine"]
    assert future == ["Place", "CoffeeMachine", "ToggleOn", "CoffeeMachine", "Slice", "BreadSliced"]
    failed = [True] * 6 + [False, True]
    assert subgoals(actions, failed)[0][-4:] == ["Place", "CoffeeMachine", "Slice", "BreadSliced"]
    assert object_type_of("Apple|+0.1|+0.9|-1.2|AppleSliced_0") == "AppleSliced"


def test_agent_examples_are_not_the_generator_templates():
    """The planner's example library is written apart from the generator: almost none of its requests is one of
    the generator's Commander utterances once names and numbers are masked (a bare "clean all the OBJ" may be both)."""
    library = json.loads((Path(__file__).parents[1] / "agent" / "data" / "planner_examples.json").read_text())
    examples = {mask_utterance(e["text"]) for e in library["examples"] if "text" in e}
    generated = {mask_utterance(u["corrected_utterance"]) for seed in range(3) for task_id, params in TASKS
                 for u in _utterances(_play(task_id, params, seed=1000 + seed)) if u["agent_id"] == 0}
    assert len(examples & generated) <= 0.02 * len(examples), sorted(examples & generated)


def test_a_lost_driver_asks_and_the_commander_answers_with_the_place():
    expert = _FakeExpert()
    expert.told_where = set()
    writer = DialogueWriter(expert, make_task(112, ["Potato"]), np.random.default_rng(3))
    writer.milestone("lost", {"object_id": "Potato|0|1|3", "searched_id": "Cabinet|2|0|1"})
    utterances = _utterances(expert.trace)
    assert [u["agent_id"] for u in utterances[:2]] == [1, 0]
    assert "RequestForObjectLocationAndOtherDetails" in utterances[0]["da_metadata"]["das"]
    assert utterances[1]["da_metadata"]["das"][0] == "InformationOnObjectDetails"
    assert any(n in utterances[1]["corrected_utterance"].lower() for n in names_of("Fridge"))  # where it really is
    assert "Potato|0|1|3" in expert.told_where  # the expert will not search for it again


def test_which_one_is_told_apart_by_what_differs():
    dirty = {"objectId": "Mug|1", "objectType": "Mug", "isDirty": True, "isFilledWithLiquid": False}
    clean = {"objectId": "Mug|2", "objectType": "Mug", "isDirty": False, "isFilledWithLiquid": False}
    assert DialogueWriter._feature(dirty, [clean]) == "dirty" and DialogueWriter._feature(clean, [dirty]) == "clean"
    full = {**clean, "objectId": "Mug|3", "isFilledWithLiquid": True}
    assert DialogueWriter._feature(full, [clean]) == "full"
    box = lambda v: {"size": {"x": v, "y": v, "z": v}}  # noqa: E731
    assert DialogueWriter._feature({**clean, "axisAlignedBoundingBox": box(0.2)},
                                   [{**clean, "axisAlignedBoundingBox": box(0.1)}]) == "big"
    assert DialogueWriter._feature(clean, [{**clean, "objectId": "Mug|4"}]) is None  # nothing to tell them by


def test_missed_clicks_and_new_remarks_keep_teach_fields():
    seen_acts = set()
    for seed in range(30):
        expert = _FakeExpert()
        writer = DialogueWriter(expert, make_task(102, []), np.random.default_rng(seed), talk=1.3)
        expert.trace.driver_actions.append({"action_name": "Forward"})
        writer.milestone("missed", {"object_id": "Mug|1|1|1"})
        writer.milestone("tap", {"object_id": "Mug|1|1|1"})
        for u in _utterances(expert.trace):
            assert len(u["da_metadata"]["das"]) == 3 and set(u["da_metadata"]["das"]) - {""} <= set(DIALOGUE_ACTS)
            seen_acts |= set(u["da_metadata"]["das"])
    assert "NotifyFailure" in seen_acts
