"""The planner's language understanding (agent.planner, agent.lexicon, agent.plan).

The dialogues below are hand-written for these tests, phrased unlike the planner's example library and unlike the
episode generator's templates (episodes/dialogue.py), so they measure generalisation rather than recall.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from agent.lexicon import find_mentions, ground
from agent.program import TaskIntent
from agent.planner import PlannerError, RetrievalPlanner, load_examples
from agent.program import FAMILY_NPARAMS, TASK_FAMILIES

C, D = "Commander", "Driver"

# (dialogue, family, params): at least two per family.
HELD_OUT = [
    ([(D, "hey, what do you need?"), (C, "morning. I'm dying for a cup of coffee"), (D, "sure thing")],
     "Coffee", []),
    ([(C, "yo robot"), (C, "pour me some coffee will ya, mug's in the sink i think")], "Coffee", []),
    ([(D, "task?"), (C, "Could you fetch a mug, give it a rinse and fill it from the coffee machine")], "Coffee", []),
    ([(D, "Hello"), (C, "the houseplant by the window is looking really droopy"), (C, "give it some water")],
     "Water Plant", []),
    ([(C, "pls water my plant, use any container"), (D, "ok")], "Water Plant", []),
    ([(D, "how can i help"), (C, "get a potato and boil it in the pot please")], "Boil X", ["Potato"]),
    ([(C, "I feel like a boiled spud"), (D, "on it")], "Boil X", ["Potato"]),
    ([(D, "what now"), (C, "crack an egg and boil it in a pot of water")], "Boil X", ["EggCracked"]),
    ([(C, "please boil a few pieces of potato"), (D, "sure")], "Boil X", ["PotatoSliced"]),
    ([(D, "hello"), (C, "wash every coffee mug you can find please")], "Clean All X", ["Mug"]),
    ([(C, "I keep misplacing my bowls"), (C, "so the job is to put all the bowls on one countertop")],
     "Put All X In One Y", ["Bowl", "on", "CounterTop"]),
    ([(C, "cut up a potato and lay one slice on a plate"), (D, "ok"), (C, "the knife is next to the microwave")],
     "N Slices Of X In Y", ["1", "Potato", "on", "Plate"]),
    ([(C, "something warm and crunchy for breakfast would be nice"), (D, "what should I make?"),
      (C, "toast a slice of bread and put it on a plate")], "Plate Of Toast", []),
    ([(C, "could you boil me a broken egg?"), (D, "ok"), (C, "the knife's in the top drawer"),
      (C, "chop the egg first")], "Boil X", ["EggCracked"]),
    ([(C, "I'm after a slice of spud"), (D, "k"), (C, "drop a slice in a pot of water and boil it, pot's on the stove")],
     "Boil X", ["PotatoSliced"]),
    ([(D, "what's first?"), (C, "i'd like a piece of toasted bread served on a plate")], "Plate Of Toast", []),
    ([(C, "hello, please toast me a slice of bread and plate it up"), (D, "will do")], "Plate Of Toast", []),
    ([(D, "hi"), (C, "all the bowls are grimy, could you wash them in the sink")], "Clean All X", ["Bowl"]),
    ([(C, "rinse every single mug please")], "Clean All X", ["Mug"]),
    ([(C, "the pots are really dirty. clean them all")], "Clean All X", ["Pot"]),
    ([(D, "hi there"), (C, "could you tidy up by putting every remote control onto the couch")],
     "Put All X On Y", ["RemoteControl", "on", "Sofa"]),
    ([(C, "hey, move all of the pillows onto the armchair")], "Put All X On Y", ["Pillow", "on", "ArmChair"]),
    ([(C, "I want all the forks in a drawer")], "Put All X On Y", ["Fork", "in", "Drawer"]),
    ([(C, "could you place every piece of drinkware on the dining table")],
     "Put All X On Y", ["Drinkware", "on", "DiningTable"]),
    ([(D, "what should i do"), (C, "gather up all the newspapers and put them on one sofa")],
     "Put All X In One Y", ["Newspaper", "on", "Sofa"]),
    ([(C, "all the tissue boxes should end up together in a single cabinet")],
     "Put All X In One Y", ["TissueBox", "in", "Cabinet"]),
    ([(C, "put all the silverware into the same drawer please")],
     "Put All X In One Y", ["Silverware", "in", "Drawer"]),
    ([(D, "hello"), (C, "i need 2 pan fried potato slices on a plate")],
     "N Cooked Slices Of X In Y", ["2", "Potato", "on", "Plate"]),
    ([(C, "could you cook a couple of potato slices and serve them in a bowl")],
     "N Cooked Slices Of X In Y", ["2", "Potato", "in", "Bowl"]),
    ([(C, "slice up a potato, fry one slice and put it on a clean plate")],
     "N Cooked Slices Of X In Y", ["1", "Potato", "on", "Plate"]),
    ([(D, "hi what can i do"), (C, "cut a tomato and put 3 slices in a bowl")],
     "N Slices Of X In Y", ["3", "Tomato", "in", "Bowl"]),
    ([(C, "grab the lettuce, slice it, and lay a single slice on a plate")],
     "N Slices Of X In Y", ["1", "Lettuce", "on", "Plate"]),
    ([(C, "we need two apple wedges on a plate")], "N Slices Of X In Y", ["2", "Apple", "on", "Plate"]),
    ([(D, "hi"), (C, "time for a salad! lettuce and 2 tomato slices on a plate please")], "Salad", ["1", "2", "0"]),
    ([(C, "can you assemble a salad with one cooked potato slice and a slice of tomato")], "Salad", ["0", "1", "1"]),
    ([(C, "salad for dinner please"), (D, "what goes in it?"), (C, "just lettuce and tomato")],
     "Salad", ["1", "1", "0"]),
    ([(D, "hello"), (C, "make me a sandwich, two toasted bread slices with a tomato slice in between")],
     "Sandwich", ["0", "1"]),
    ([(C, "I'd love a lettuce and tomato sandwich")], "Sandwich", ["1", "1"]),
    ([(C, "sandwich please. toast the bread, add 2 slices of lettuce")], "Sandwich", ["2", "0"]),
    ([(D, "hi"), (C, "breakfast time: i want a coffee and some toast on the counter")],
     "Breakfast", ["1", "1", "0", "Plate", "0", "Plate", "0", "1", "1", "0", "0", "2", "0", "CounterTop"]),
    ([(C, "please get breakfast ready on the dining table, a mug of coffee and a salad with lettuce and tomato")],
     "Breakfast", ["1", "0", "0", "Plate", "0", "Plate", "0", "1", "1", "1", "1", "1", "0", "DiningTable"]),
    ([(C, "can you make me a coffee and a sandwich for breakfast")],
     "Breakfast", ["1", "0", "0", "Plate", "0", "Plate", "1", "1", "1", "0", "0", "2", "0", "DiningTable"]),
]


@pytest.fixture(scope="module")
def planner():
    """The embedding planner, loaded once for the module (the encoder is cached per process)."""
    return RetrievalPlanner()


@pytest.fixture(scope="module")
def lexical():
    return RetrievalPlanner(encoder=None)


def test_library_covers_every_family():
    examples = load_examples()
    for family in TASK_FAMILIES:
        mine = [e for e in examples if e["family"] == family]
        assert len(mine) >= 15, family
        assert all(len(e["params"]) == FAMILY_NPARAMS[family] for e in mine)


@pytest.mark.parametrize("dialogue,family,params", HELD_OUT, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(HELD_OUT)])
def test_held_out_dialogues(planner, dialogue, family, params):
    intent = planner.parse(dialogue)
    assert (intent.family, intent.params) == (family, params), intent.evidence


def test_lexical_only_planner_is_good_too(lexical):
    right = sum(lexical.parse(d).family == f for d, f, _ in HELD_OUT)
    assert right >= 0.9 * len(HELD_OUT)
    assert lexical.parse([(C, "plant looks sad and dry")]).family == "Water Plant"


def test_retrieval_decides_without_a_cue(planner):
    intent = planner.parse([(C, "my flowers are wilting, could you help them out")])
    assert intent.family == "Water Plant"
    assert any(e.startswith("knn:") for e in intent.evidence)


@pytest.mark.parametrize("text,n", [("put two slices of tomato on a plate", "2"), ("a couple of tomato slices on a "
                                    "plate", "2"), ("3 tomato slices on a plate", "3"), ("one tomato slice please, "
                                    "on a plate", "1"), ("slice a tomato and put it on a plate", "1")])
def test_slice_counts(lexical, text, n):
    assert lexical.parse(text).params[0] == n


def test_in_and_on_follow_the_dish(lexical):
    assert lexical.parse("two slices of apple in a bowl").params[2:] == ["in", "Bowl"]
    assert lexical.parse("two slices of apple on a plate").params[2:] == ["on", "Plate"]


def test_custom_classes_and_synonyms():
    assert ground("the coffee cup") == "Mug"
    assert ground("a spud") == "Potato"
    assert ground("couch") == "Sofa"
    assert ground("the refrigerator") == "Fridge"
    assert ground("burner") == "StoveBurner"
    assert ground("tap") == "Faucet"
    assert ground("trash") == "GarbageCan"
    assert ground("glasses") == "Cup"
    assert ground("the table") == "DiningTable"
    assert ground("cutlery") == "Silverware"
    assert ground("drinkware") == "Drinkware"
    assert ground("the green thing") == "Lettuce"
    assert ground("xyzzy") is None
    assert [m.name for m in find_mentions("put all remotes on the coffee table")] == ["RemoteControl", "CoffeeTable"]


def test_embedding_fallback_grounds_unknown_words(planner):
    assert ground("refrigerating appliance", embed=planner.encode, candidates=["Fridge", "Sofa", "Toaster"]) in (
        "Fridge", "Toaster")


def test_location_hints_and_corrections(lexical):
    intent = lexical.parse([
        (D, "what should I do?"), (C, "make coffee please"),
        (D, "where's a mug?"), (C, "the mug is in the cabinet left of the sink"),
        (C, "there's a knife in the drawer"), (C, "check the fridge for a tomato"),
        (D, "where is the mug?"), (C, "oops, i meant the drawer under the coffee maker")])
    assert intent.family == "Coffee"
    assert intent.hints["Mug"] == ["Drawer", "Cabinet"]
    assert intent.hints["Knife"] == ["Drawer"]
    assert intent.hints["Tomato"] == ["Fridge"]


def test_a_correction_right_after_a_location_moves_the_hint_not_the_task(lexical):
    intent = lexical.parse([
        (C, "please move every apple into the fridge"), (D, "ok"), (C, "there's an apple in the garbage can"),
        (C, "sorry, I meant on the counter next to the stove")])
    assert (intent.family, intent.params) == ("Put All X On Y", ["Apple", "in", "Fridge"])
    assert intent.hints["Apple"][0] == "CounterTop"


def test_answer_to_where_question_is_a_hint_but_destination_is_not(lexical):
    intent = lexical.parse([(C, "boil a potato"), (D, "where is the potato?"), (C, "in the microwave"),
                            (D, "where should i put it?"), (C, "in the pot on the stove")])
    assert intent.hints == {"Potato": ["Microwave"]}


def test_correction_updates_parameter(lexical):
    intent = lexical.parse([(C, "put all the remotes on the armchair"), (D, "ok"),
                            (C, "actually put them on the table")])
    assert intent.params == ["RemoteControl", "on", "DiningTable"]
    intent = lexical.parse([(C, "cut 2 slices of apple and put them on a plate"), (C, "sorry, use a bowl instead")])
    assert intent.params == ["2", "Apple", "in", "Bowl"]


def test_accepts_lists_and_plain_text(lexical):
    assert lexical.parse([["Commander", "Make coffee"], ["Driver", "ok"]]).family == "Coffee"
    assert lexical.parse("water the plant").family == "Water Plant"
    with pytest.raises(PlannerError, match=r"dialogue\[0\]"):
        lexical.parse([("Commander",)])
    with pytest.raises(PlannerError, match="speaker"):
        lexical.parse([("Narrator", "hello")])


def test_parse_is_fast(planner):
    dialogue = HELD_OUT[0][0] + [(C, "the mug is on the counter near the sink")] * 5
    planner.parse(dialogue)
    start = time.perf_counter()
    for _ in range(5):
        planner.parse(dialogue)
    assert (time.perf_counter() - start) / 5 < 0.1


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent.plan", *args], capture_output=True, text=True, timeout=120)


def test_cli_intent_only_and_errors(tmp_path):
    out = _cli("--dialogue", "Commander: boil a potato | Driver: ok", "--intent-only", "--no-encoder")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["family"] == "Boil X"
    plain = _cli("--dialogue", "put all the pens on the desk", "--intent-only", "--no-encoder")
    assert json.loads(plain.stdout)["params"] == ["Pen", "on", "Desk"]
    bad = tmp_path / "broken.tfd.json"
    bad.write_text("{not json")
    out = _cli("--tfd", str(bad), "--no-encoder")
    assert out.returncode == 2 and "broken.tfd.json" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    missing = tmp_path / "nodialog.json"
    missing.write_text(json.dumps({"game_id": "x"}))
    out = _cli("--edh", str(missing), "--no-encoder")
    assert out.returncode == 2 and "dialog_history" in out.stderr
    assert _cli("--help").returncode == 0



# Written apart from the example library and from the generator's templates (by the lead, after the planner was
# built), TEACh-chat style: several short Commander turns, numbers and places spread across them.
LEAD_DIALOGUES = [
 ("Coffee", [], [("Driver","what shall I do today?"),("Commander","we need to prepare coffee in a clean mug"),("Commander","the mug is next to the stove")]),
 ("Water Plant", [], [("Commander","hi"),("Commander","can you pour some water on the plant near the window?"),("Driver","sure")]),
 ("Boil X", ["Potato"], [("Driver","hello"),("Commander","We need to boil a potato."),("Commander","There is a pot on the stove, fill it with water first")]),
 ("Plate Of Toast", [], [("Commander","Please make a slice of toast and place it on a clean plate"),("Driver","where is the bread?"),("Commander","in the fridge")]),
 ("Clean All X", ["Pan"], [("Commander","All pans need to be washed"),("Driver","ok")]),
 ("Put All X On Y", ["Newspaper", "on", "Sofa"], [("Driver","task?"),("Commander","put all newspapers on the couch")]),
 ("Put All X In One Y", ["Pencil", "in", "Drawer"], [("Commander","collect the pencils and put them together in one drawer")]),
 ("N Cooked Slices Of X In Y", ["2", "Potato", "on", "Plate"], [("Commander","Today you will cook 2 slices of potato and serve them on a plate."),("Commander","knife is by the sink")]),
 ("N Slices Of X In Y", ["3", "Tomato", "in", "Bowl"], [("Commander","I need three tomato slices in a bowl please")]),
 ("Salad", ["1", "2", "0"], [("Commander","lets make a salad"),("Commander","slice lettuce and tomato"),("Commander","we need 1 lettuce slice and 2 tomato slices on a plate")]),
 ("Sandwich", ["1", "0"], [("Commander","make a sandwich"),("Commander","toast two slices of bread"),("Commander","add a slice of lettuce, all on a plate")]),
 ("Breakfast", None, [("Commander","prepare breakfast"),("Commander","first make coffee"),("Commander","then make a plate of toast and put everything on the dining table")]),
]


@pytest.mark.parametrize("family, params, dialogue", LEAD_DIALOGUES, ids=[c[0] for c in LEAD_DIALOGUES])
def test_dialogues_written_apart_from_the_library(family, params, dialogue):
    intent = RetrievalPlanner(encoder=None).parse(dialogue)
    assert intent.family == family
    if params is not None:
        assert intent.params == params


def test_talk_about_toast_in_a_sandwich_dialogue_supports_the_sandwich():
    """Reminders about a part (the toast of a sandwich) must not outvote the whole the task turn asked for, while a
    plain toast request stays Plate Of Toast."""
    planner = RetrievalPlanner(encoder=None)
    dialogue = [["Commander", "we need to prepare a sandwich, two slices of toast and one slice of tomato on a plate"],
                ["Commander", "fyi both slices of bread must be toasted"],
                ["Commander", "heads up, both slices of bread must be toasted"],
                ["Commander", "the bread has to be toasted first"]]
    assert planner.parse(dialogue).family == "Sandwich"
    assert planner.parse([["Commander", "make me a plate of toast please"],
                          ["Commander", "the toast must be on a clean plate"]]).family == "Plate Of Toast"


@pytest.mark.parametrize("text, hints", [
    ("you'll find the coffee mug in the high cupboard left of the window", {"Mug": ["Cabinet"]}),
    ("the knife is in the left drawer", {"Knife": ["Drawer"]}),
    ("the knife is in the drawer left of the sink", {"Knife": ["Drawer"]}),
    ("the knife is left of the sink", {}),
    ("there's a mug next to the sink", {}),
])
def test_describing_words_before_a_place_keep_it_a_place_and_landmarks_stay_landmarks(text, hints):
    planner = RetrievalPlanner(encoder=None)
    assert planner.parse([["Commander", "make coffee"], ["Driver", "ok"], ["Commander", text]]).hints == hints


@pytest.mark.parametrize("text, landmarks", [
    ("you'll find the coffee mug in the high cupboard left of the window", {"Mug": {"Cabinet": "Window"}}),
    ("the knife is in the drawer under the toaster", {"Knife": {"Drawer": "Toaster"}}),
    ("the mug is in the upper cabinet by the fridge", {"Mug": {"Cabinet": "Fridge"}}),
    ("the knife is in the left drawer", {}),
])
def test_a_place_named_by_a_landmark_keeps_the_landmark(text, landmarks):
    planner = RetrievalPlanner(encoder=None)
    intent = planner.parse([["Commander", "make coffee"], ["Driver", "ok"], ["Commander", text]])
    assert intent.landmarks == landmarks
    assert TaskIntent.from_json(intent.to_json()).landmarks == landmarks


def test_boiling_a_slice_is_boil_x_and_cooked_in_water_says_boil():
    """"boil a potato slice" is Boil X even though a slice is cooked; the progress panel's "must be cooked in water"
    reminders support it rather than N Cooked Slices."""
    planner = RetrievalPlanner(encoder=None)
    dialogue = [["Commander", "okay, we're going to boil a potato slice."],
                ["Commander", "it says the potato slice must be cooked in water"],
                ["Commander", "btw it says the potato slice must be cooked in water"]]
    intent = planner.parse(dialogue)
    assert intent.family == "Boil X" and intent.params == ["PotatoSliced"]
    assert planner.parse([["Commander", "cook two slices of potato and put them on a plate"]]).family == \
        "N Cooked Slices Of X In Y"
