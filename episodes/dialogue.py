"""Commander-Driver dialogue for generated games, in the style of TEACh's chat (Padmakumar et al., AAAI 2022, sec. 3)
and labelled with TEACh-DA's dialogue acts (Gella et al., SIGDIAL 2022).

The writer is compositional: an utterance is one to three :class:`episodes.language.Segment` (act, text), each text
built from a frame for its intent ("could you {task}?", "{object} is {where}", "now {step}") filled with phrases
(several per task family and step, object names drawn per game from every name of the type, counts as words or
digits, location hints at three precisions: "in the cabinet left of the stove", "near the sink" / "behind you",
"somewhere in the kitchen"), then typed in a per-game, per-speaker style (casing, punctuation, short forms, typos;
``episodes.language.render``). The conversation follows the expert's milestones: greetings and the task statement
(precise, vague then made precise on request, or as a list of steps), step instructions that refer back to what was
just named ("rinse it", "the other one"), location questions and answers, the Commander's own slips and corrections,
corrections of a Driver who guessed the wrong place, progress checks, small talk and remarks about the interface.

What is written (TEACh's fields, ``alexa/teach`` README and data notebook at 903191e): each utterance is a Keyboard
``Text`` interaction (action_id 100, agent 0 Commander / 1 Driver) with ``utterance`` (as typed),
``corrected_utterance`` (typos undone) and ``da_metadata`` {``das``, ``text_segments``}, three each, padded with "".
The :class:`Turn` records also give the instances' ``dialog_history`` (typed), ``dialog_history_cleaned`` (corrected,
remarks about the interface removed) and ``dialog_history_with_das``. Commander turns that start new work (an
``Instruction`` segment) after the Driver's first action are EDH cut candidates: each records the world state there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .expert import COMMANDER, DRIVER, Cut, Expert, snapshot
from .language import (Segment, TypingStyle, join_list, names_of, number, plain_name, plural, render,
                       with_article)
from .tasks import BreakfastParams

TEXT_ACTION_ID = 100

LANDMARKS = ("Sink", "StoveBurner", "Fridge", "CoffeeMachine", "Microwave", "Toaster", "DiningTable", "Sofa", "Bed",
             "TVStand", "Desk", "Dresser", "Toilet", "Bathtub", "Window", "ArmChair", "CoffeeTable", "GarbageCan")
"""Big, fixed things the Commander describes positions against."""

INSIDE = ("Cabinet", "Drawer", "Fridge", "Microwave", "SinkBasin", "Sink", "Box", "GarbageCan", "Pot", "Pan", "Bowl",
          "Mug", "Cup", "Toaster", "LaundryHamper", "BathtubBasin", "Bathtub", "CoffeeMachine", "Safe")

INSTRUCTION_ACTS = ("Instruction",)
"""Acts of a Commander turn that starts new work (an EDH cut candidate)."""


def spoken(object_type: str) -> str:
    """The plain spoken name of an AI2-THOR type or TEACh class (``CounterTop`` -> "counter")."""
    return plain_name(object_type)


def preposition(receptacle_type: str) -> str:
    return "in" if receptacle_type in INSIDE else "on"


def pick(rng: np.random.Generator, options) -> str:
    return options[int(rng.integers(len(options)))]


def maybe(rng: np.random.Generator, p: float, text: str, otherwise: str = "") -> str:
    return text if rng.random() < p else otherwise


# ---------------------------------------------------------------- phrase banks (written for this generator)

GREET = ["hi", "hello", "hey", "hi there", "hello there", "hey there", "good morning", "good afternoon", "hiya",
         "howdy", "greetings", "morning", "hello partner", "hi again", "yo"]
DRIVER_ASK_TASK = ["what should I do?", "what's my task?", "what can I do for you?", "how can I help?",
                   "what are we doing today?", "what do you need?", "ready for instructions", "what's first?",
                   "tell me what to do", "what's the task today?", "what would you like me to do?",
                   "I'm ready, what's up?", "any tasks for me?", "where do we start?", "what do we need to do?"]
REQUEST_FRAMES = ["{t}.", "please {t}.", "can you {t}?", "could you {t}?", "could you please {t}?",
                  "I need you to {t}.", "I'd like you to {t}.", "we need to {t}.", "we have to {t}.",
                  "today we'll {t}.", "your task is to {t}.", "the task is to {t}.", "let's {t}.",
                  "would you {t} for me?", "help me {t}.", "go ahead and {t}.", "I want you to {t}.",
                  "first task: {t}.", "our job today is to {t}.", "you need to {t}.", "can you please {t}?",
                  "we're going to {t}.", "mind if you {t}?", "it'd be great if you could {t}.",
                  "how about you {t}?", "so, {t}."]
TASK_INTROS = ["", "", "", "ok so ", "alright, ", "so ", "first, ", "right, ", "well, ", "today ", "okay, ",
               "this one's easy: ", "quick one today: ", "ok, this takes a few steps. ", "we've got a recipe today: ",
               "hope you're hungry, ", "let me read it out: ", "according to my screen, "]
ACK = ["ok", "okay", "got it", "on it", "sure", "alright", "will do", "sure thing", "roger", "understood",
       "okay, on my way", "ok, going", "cool", "k", "sounds good", "alright, doing it now", "no problem",
       "ok, let me see", "yep", "gotcha"]
ACK_AFTER_INFO = ["thanks", "thank you", "found it", "ok I see it", "got it, thanks", "ah there it is", "perfect",
                  "ok thx", "great, thanks", "ok, heading there", "I see it now", "ok"]
AFFIRM = ["yes", "yep", "yeah", "correct", "that's right", "exactly", "yes please", "right", "yes, that one",
          "yup", "mhm", "that's the one"]
DENY = ["no", "nope", "not that one", "no, wrong one", "negative", "no, not there", "nah", "no sorry"]
FEEDBACK_POS = ["great", "good job", "nice", "perfect", "awesome", "well done", "excellent", "nice work",
                "that's it", "good", "super", "great job", "looks good", "brilliant", "yes, good", "wonderful",
                "fantastic", "amazing", "sweet", "cool", "nicely done", "good stuff", "spot on", "yay", "terrific",
                "right on", "lovely", "outstanding"]
FEEDBACK_NEG = ["that's not the right one", "hmm, that's not it", "wrong one", "not quite", "no, that's the wrong "
                "place", "that's not where it is", "oops, not that"]
PROCEED = ["now", "next", "then", "after that", "ok now", "next up,", "moving on,", "for the next part,",
           "second,", "following that,", "afterwards", "okay great, now", "alright so", "right, so", "go on and", "and now", "alright, now",
           "good, now", "next step:", "once that's done,"]
DONE_DRIVER = ["done", "all done", "finished", "I think that's it", "that's done", "done!", "it's done",
               "ok, finished that", "task done I think", "all set"]
NEXT_DRIVER = ["anything else?", "what next?", "what's next?", "is there anything else?", "what else?",
               "next task?", "anything more?", "what now?", "more to do?", "did that work?"]
CLOSE_COMMANDER = ["that's all", "the whole list is ticked off", "everything turned green", "we finished early",
                   "nothing left on my list", "that's the last item", "we're done", "that's everything", "that's it for today", "task complete",
                   "nothing else", "all finished", "we are all done here", "that was the last thing",
                   "that completes the task", "the task shows as finished", "mission accomplished",
                   "everything is checked off", "you finished it", "it says complete on my side",
                   "that wraps it up", "job done"]
THANKS = ["thank you", "thanks", "thanks a lot", "thank you so much", "cheers", "many thanks", "appreciate it",
          "thanks for the help"]
BYE = ["bye", "see you", "have a nice day", "take care", "goodbye", "see ya", "have a good one"]
WHERE_FRAMES = ["where is the {x}?", "where can I find {a_x}?", "do you know where the {x} is?", "where's the {x}?",
                "any idea where {a_x} is?", "I can't find the {x}, where is it?", "which way to the {x}?",
                "where would the {x} be?", "can you help me find the {x}?", "where do I get {a_x}?",
                "is there {a_x} around?", "I don't see {a_x}, where should I look?", "where are the {xs}?",
                "could you tell me where the {x} is?", "hmm, where is the {x}?"]
LOCATE_FRAMES = ["the {x} is {w}", "there's {a_x} {w}", "you can find {a_x} {w}", "check {w}",
                 "look {w}", "{a_x} should be {w}", "{w} there's {a_x}", "try {w}", "I see {a_x} {w}",
                 "the {x} is sitting {w}", "grab the {x} from {w}", "the {x}? it's {w}", "it's {w}",
                 "{a_x} is {w}", "should be one {w}", "get the {x}, it's {w}", "you'll find the {x} {w}",
                 "there is {a_x} {w}", "the one {w}", "{w}, I think"]
HEDGES = ["I think ", "pretty sure ", "looks like ", "if I'm not mistaken, ", "according to my map, ", "hmm, ",
          "from what I see, ", "I believe ", "okay, ", "right, ", "so ", "my screen says ", "probably ",
          "as far as I can tell, ", "apparently ", "the map shows ", "last I saw, ", "if memory serves, "]
VAGUE_PLACES = ["somewhere in the {room}", "around the {room} somewhere", "in the {room}", "not far from you",
                "close by", "nearby", "in one of the {rs}", "in a {r} somewhere", "{p} one of the {rs}",
                "around here", "somewhere close"]
WHICH_OF_SEVERAL = {"dirty": ["the dirty one", "the one that still needs washing", "the grubby one"],
                    "clean": ["the clean one", "the one that's already washed"],
                    "full": ["the one with water in it", "the full one"],
                    "empty": ["the empty one", "the one with nothing in it"],
                    "big": ["the bigger one", "the large one", "the biggest"],
                    "small": ["the smaller one", "the little one", "the tiny one"]}
"""How a Commander tells one object from others of its type when the Driver asks."""
SEVERAL_ASK = ["I see {n} {xs}, which one?", "there are {n} {xs} here, which?", "which {x}? there's more than one",
               "any particular {x}?", "does it matter which {x}?", "there are {n} of them, which {x} do you mean?"]
ANY_WILL_DO = ["any of them will do", "doesn't matter, any one", "whichever is closest", "pick any",
               "it makes no difference"]
WHICH_ONE = ["which {r}?", "which one?", "which {r} exactly?", "there are a few {rs}, which one?",
             "can you be more specific?", "where exactly?", "sorry, where?"]
CORRECT_SELF = ["sorry, my mistake: {w}", "oops, I meant {w}", "actually it's {w}, sorry", "wait no, {w}",
                "correction: {w}", "sorry, I was wrong, it's {w}", "no wait, it's {w}", "my bad, {w}"]
DRIVER_GUESS = ["is it {w}?", "the one {w}?", "do you mean {w}?", "should I look {w}?", "{w}?",
                "is that {w}?"]
WHERE_TO = ["where should I put it?", "where does it go?", "where do you want it?", "where should it go?",
            "and where do I put this?", "put it where?", "where do I place it?"]
PLACE_ANSWERS = ["put it {spot}", "{spot}", "place it {spot}", "it goes {spot}", "just set it {spot}",
                 "{spot} would be great", "leave it {spot}", "it belongs {spot}", "drop it {spot}",
                 "{spot}, please", "how about {spot}", "let's put it {spot}", "you can put it {spot}"]
SMALL_TALK_D = ["how are you today?", "how's your day going?", "nice place!", "how are you?",
                "lovely day, isn't it?", "hope you're well", "this place is big", "how's it going?",
                "happy friday!", "ready to work", "did you have a good weekend?", "nice to meet you"]
SMALL_TALK_C = ["good thanks, you?", "doing well, thanks for asking", "not bad! let's get going", "I'm great",
                "all good here", "good, good", "fine thanks", "pretty good, busy day though", "great, thank you",
                "tired but fine", "likewise!", "can't complain"]
APOLOGY = ["sorry,", "oops,", "argh,", "ugh,", "hmm,", "", "one sec,", "hang on,", "bear with me,"]
INTERFACE_C = ["my screen froze for a sec", "my connection is slow today", "the page is loading slowly",
               "I was checking the task list", "I was looking at the map", "my browser lagged",
               "I clicked the wrong thing", "I had to refresh", "the camera view jumped", "the progress check is slow",
               "let me check what's left", "searching for the next item on my end", "my laptop is acting up",
               "the overhead view is confusing", "I'm reading the instructions again"]
INTERFACE_D = ["sorry, I'm a bit slow", "one moment", "my controls are laggy", "sorry, the view is loading",
               "hold on", "give me a sec"]
MISC = ["hmm", "lol", "haha", "oh", "ah", "well", "uh", "ok ok"]
TAKE_TIME = ["take your time", "no rush", "no worries", "you're doing fine", "keep going", "go on",
             "that's alright", "happens to me too", "don't worry about it", "we have plenty of time", "all good",
             "no problem at all"]
VAGUE_GOALS = {
    "Coffee": ["I could really use some caffeine", "I'm so sleepy today", "I need something to wake me up",
               "it's coffee time", "I barely slept last night", "I need my morning fix"],
    "Water Plant": ["the {plant} looks a bit dry", "the {plant} is wilting", "my {plant} looks thirsty",
                    "the {plant} needs some attention", "the leaves on the {plant} are drooping",
                    "nobody has watered the {plant} in days"],
    "Boil X": ["I'm in the mood for a boiled {x}", "let's get the {x} cooking", "I'd like a {x} for dinner"],
    "Plate Of Toast": ["I'm hungry", "I fancy something crunchy for breakfast", "let's have a snack"],
    "Clean All X": ["the {xs} are all dirty", "there are dirty {xs} everywhere", "look at all these dirty {xs}",
                    "the {xs} are filthy", "someone left a mess of dirty {xs}"],
    "Put All X On Y": ["the {xs} are all over the place", "let's tidy up the {xs}", "the {xs} need sorting out",
                       "this room is messy, the {xs} especially", "guests are coming, let's organise the {xs}"],
    "Put All X In One Y": ["the {xs} are scattered around", "let's keep the {xs} together",
                           "I keep losing the {xs}"],
    "N Cooked Slices Of X In Y": ["I'm hungry for some cooked {x}", "let's fry some {x}",
                                  "how about some fried {x}"],
    "N Slices Of X In Y": ["I'd like a snack", "I want some fresh {x}", "let's cut some {x}"],
    "Salad": ["I'm in the mood for something fresh", "let's eat healthy today", "I'd love some greens",
              "I'm trying to eat more vegetables"],
    "Sandwich": ["I'm hungry, lunch time", "let's make lunch", "I want something for lunch",
                 "I'm famished and need a quick bite"],
    "Breakfast": ["it's breakfast time", "good morning! I'm starving", "let's get breakfast going",
                  "the most important meal of the day!"],
}
ASK_MORE = ["what would you like me to do?", "what do you need exactly?", "ok, what should I make?",
            "how can I help with that?", "what should I do about it?", "sure, what exactly?", "so what's the task?"]
CONFIRM_D = ["so {t}?", "just to confirm: {t}?", "you want me to {t}, right?", "{t}, correct?", "ok, {t}?"]
RESULT_D = {"coffee": ["making the coffee now", "ok, coffee coming up", "on my way to the coffee maker"],
            "tap": ["rinsing it now", "washing it", "ok, to the sink then"],
            "toast": ["toasting it now", "into the toaster it goes", "ok, toasting"],
            "slice": ["slicing it now", "ok, cutting it", "let me cut it"],
            "pour": ["pouring now", "ok, pouring the water", "here goes the water"],
            "stove": ["turning the stove on", "ok, lighting the burner", "switching it on now"]}
"""What the Driver says it is about to do (milestones come before the action)."""
NOT_HERE = ["not in this {c}", "this {c} is empty", "nothing in the {c}", "checked the {c}, no luck",
            "the {c} only has other stuff in it", "no {x} in this {c}", "I looked in the {c} but it's not there",
            "not in there", "hmm, that {c} was empty", "wrong {c} I guess", "opened the {c}, nothing",
            "I searched the {c} already", "the {c} doesn't have it"]
LOST_ASK = ["where is the {x}?", "can you point me to the {x}?", "I'm lost, where's the {x}?",
            "where did they put the {x}?", "any hint where the {x} is?", "where should I look for the {x}?",
            "can you check where the {x} is?", "I can't see {a_x} anywhere", "which {c} has the {x}?",
            "do you see the {x} on your map?"]
LOST_LEADS = ["no, ", "not that one, ", "wrong {c}, ", "ah, ", "sorry, I should have said: ", "oh, ", "close! ",
              "it's not in that one. ", "let me check... ", "one sec, searching. ", "good try, but ", ""]
MISSED_D = ["it didn't work", "oops, missed", "hmm, that didn't do anything", "clicked the wrong spot",
            "missed it, trying again", "it won't let me", "my click didn't register", "nothing happened",
            "hmm, failed", "that didn't work, one more try", "argh, wrong spot"]
CLICK_TIPS = ["try clicking right in the middle of it", "click closer to the centre", "aim for the middle of the {x}",
              "you might need to get a bit closer", "try again, it should work", "maybe step closer first",
              "click directly on the {x}", "it can be fiddly, keep trying", "try a different part of the {x}"]
WAITING_C = ["are you still there?", "let me know when you've got it", "any luck?", "how's it going over there?",
             "did you find it?", "still with me?", "how are we doing?", "everything ok?", "found anything yet?",
             "just checking in", "are you stuck?", "need any help?"]
WAITING_D = ["yes, almost", "still looking", "yep, one sec", "getting there", "yes, working on it", "all good",
             "nearly there", "I think so", "hang on, nearly", "I'm fine, just slow"]
PROGRESS_C = {
    "Coffee": ["my checklist says the {mug} has to be filled with coffee", "it wants coffee in a clean {mug}",
               "the task panel shows one {mug} of coffee"],
    "Water Plant": ["the status says the {plant} still needs water", "the {plant} has to get some water"],
    "Boil X": ["the checklist wants the {x} boiled", "it says the {x} must be cooked in water"],
    "Plate Of Toast": ["it says the toast has to be on a clean {plate}", "the toast goes on a clean {plate}"],
    "Clean All X": ["the list shows every {x} has to be clean", "all of the {xs} need washing, it says"],
    "Put All X On Y": ["it says every {x} must end up there", "the checklist counts each {x}"],
    "Put All X In One Y": ["it says they all go in the same place", "the list wants them together"],
    "N Cooked Slices Of X In Y": ["the slices have to be cooked, it says", "cooked, not raw, according to the list"],
    "N Slices Of X In Y": ["the slices go on a clean dish, it says", "the list wants the slices served"],
    "Salad": ["the salad goes on one clean {plate}", "everything for the salad shares a {plate}"],
    "Sandwich": ["the bread has to be toasted first, it says", "both slices of bread must be toasted"],
    "Breakfast": ["everything has to end up in one spot", "the list has a few items for breakfast"],
}
"""The Commander reading out its progress panel (TEACh's Commander sees the task's condition descriptions)."""
TIPS = {
    "tap": ["turn the tap off before you take it out", "the faucet is behind the sink",
            "make sure the sink is empty first", "the water turns on with the handle"],
    "slice": ["you have to hold the knife to cut", "put the knife down afterwards",
              "the knife should be on the counter somewhere", "one cut gives you several slices"],
    "toast": ["the toaster needs to be switched on", "only one slice fits at a time",
              "push the lever down after putting the bread in"],
    "stove": ["the knobs are on the front of the stove", "each knob matches one burner",
              "check the correct knob is turned", "the burner glows red when it's on"],
    "pour": ["hold it over the target and pour", "fill it at the sink first if it's empty"],
    "coffee": ["the button is on top of the machine", "place the mug under the spout first"],
    "fetch": ["open the door first", "it might be hidden behind other things", "you may have to look up",
              "it's small, look carefully", "check the shelves too", "it could be tucked away at the back"],
    "place": ["clear some space there first", "make sure nothing else is in the way"],
}
"""Practical hints a Commander adds about how the world works (``InformationOther``)."""
LEVELS = {"high": ["upper", "top", "overhead", "high"], "low": ["lower", "bottom", "low"]}


# ---------------------------------------------------------------- task statements


def _slices(n: int, what: str, rng) -> str:
    count = number(n, rng)
    if n == 1 and rng.random() < 0.4:
        count = pick(rng, ["a", "one", "a single"])
    piece = pick(rng, ["slice", "piece"]) + ("s" if n != 1 else "")
    return f"{count} {piece} of {what}"


def task_cores(task_name: str, params: list[str], name, rng: np.random.Generator) -> list[str]:
    """Verb phrases stating the whole task with its arguments (several per family); ``name(type)`` gives a name
    of an object type as this game's Commander says it."""
    p = params
    if task_name == "Coffee":
        mug = name("Mug")
        return ["make a cup of coffee", f"make me some coffee in a clean {mug}", "prepare a coffee",
                f"make coffee in a {mug}", f"get me a {mug} of coffee", f"fill a clean {mug} with coffee",
                "brew some coffee", "make coffee", f"pour me a {mug} of coffee", "make a coffee please"]
    if task_name == "Water Plant":
        plant = name("HousePlant")
        return [f"water the {plant}", f"give the {plant} some water", f"pour some water on the {plant}",
                f"put water in the {plant}", f"water my {plant}", f"get some water to the {plant}"]
    if task_name == "Boil X":
        x = name(p[0])
        pot = name("Pot")
        return [f"boil {with_article(x)}", f"cook {with_article(x)} in boiling water",
                f"put {with_article(x)} in a {pot} of water and boil it", f"boil the {x} in the {pot}",
                f"boil a {x} for me", f"get {with_article(x)} boiling in water"]
    if task_name == "Plate Of Toast":
        bread, plate = name("Bread"), name("Plate")
        return ["make a plate of toast", f"toast a slice of {bread} and put it on a clean {plate}",
                f"make me some toast on a {plate}", f"serve a piece of toast on a clean {plate}",
                f"make toast and put it on a {plate}", f"put one toasted {bread} slice on a {plate}"]
    if task_name == "Clean All X":
        x = name(p[0])
        xs = plural(x)
        return [f"clean all the {xs}", f"wash all the {xs}", f"rinse every {x}", f"make all the {xs} clean",
                f"wash every dirty {x}", f"clean each {x} in the sink", f"get all the {xs} washed"]
    if task_name in ("Put All X On Y", "Put All X In One Y"):
        x, prep, y = name(p[0]), p[1], name(p[2])
        xs = plural(x)
        if task_name == "Put All X On Y":
            return [f"put all the {xs} {prep} the {y}", f"place every {x} {prep} any {y}",
                    f"move all {xs} {'onto' if prep == 'on' else 'into'} a {y}",
                    f"collect the {xs} and put them {prep} the {y}", f"put each {x} {prep} a {y}",
                    f"get all the {xs} {prep} {with_article(y)}"]
        return [f"put all the {xs} {prep} one {y}", f"gather all {xs} {prep} a single {y}",
                f"put every {x} {prep} the same {y}", f"put the {xs} together {prep} one {y}",
                f"collect all the {xs} {prep} just one {y}"]
    if task_name == "N Cooked Slices Of X In Y":
        n, x, prep, y = int(p[0]), name(p[1]), p[2], name(p[3])
        them = "them" if n > 1 else "it"
        return [f"cook {_slices(n, x, rng)} and serve {them} {prep} a clean {y}",
                f"make {_slices(n, 'cooked ' + x, rng)} {prep} a {y}",
                f"slice {with_article(x)}, cook {number(n, rng)} of the slices and put {them} {prep} "
                f"{with_article(y)}", f"fry {_slices(n, x, rng)} and put {them} {prep} a clean {y}",
                f"I need {_slices(n, 'cooked ' + x, rng)} {prep} a clean {y}"]
    if task_name == "N Slices Of X In Y":
        n, x, prep, y = int(p[0]), name(p[1]), p[2], name(p[3])
        them = "them" if n > 1 else "it"
        return [f"serve {_slices(n, x, rng)} {prep} a clean {y}",
                f"cut {with_article(x)} and put {_slices(n, 'it', rng)} {prep} {with_article(y)}",
                f"put {_slices(n, x, rng)} {prep} a clean {y}", f"slice {with_article(x)} and place "
                f"{number(n, rng)} {'slices' if n > 1 else 'slice'} {prep} the {y}",
                f"get {_slices(n, x, rng)} {prep} a {y}"]
    if task_name == "Salad":
        parts = [_slices(int(n), w, rng) for n, w in zip(p, ("lettuce", "tomato", "cooked potato")) if int(n)]
        listing = join_list(parts, rng)
        plate = name("Plate")
        return [f"make a salad with {listing} on a {plate}", f"make a salad: {listing}, all on a clean {plate}",
                f"prepare a salad, {listing} on one {plate}", f"put {listing} on a clean {plate} for a salad"]
    if task_name == "Sandwich":
        parts = ["two slices of toast"] + [_slices(int(n), w, rng) for n, w in zip(p, ("lettuce", "tomato"))
                                           if int(n)]
        listing = join_list(parts, rng)
        plate = name("Plate")
        return [f"make a sandwich: {listing} on a {plate}", f"make a sandwich with {listing}, served on a {plate}",
                f"put {listing} on a clean {plate}, it's a sandwich", f"prepare a sandwich, {listing} on a {plate}"]
    if task_name == "Breakfast":
        wanted = BreakfastParams.from_params(p)
        plate = name("Plate")
        items = []
        if wanted.coffee:
            items.append(pick(rng, ["a coffee", "a cup of coffee", f"coffee in a {name('Mug')}"]))
        if wanted.toast:
            items.append(pick(rng, ["a plate of toast", f"toast on a {plate}"]))
        if wanted.apple:
            items.append(pick(rng, [f"an apple slice on a {plate}", f"a slice of apple on a {plate}"]))
        if wanted.salad:
            items.append(pick(rng, ["a salad", "a tomato salad"]))
        listing = join_list(items, rng)
        spot = name(wanted.serving_spot)
        return [f"prepare breakfast: {listing}, everything on the {spot}",
                f"make breakfast, {listing}, served on the {spot}", f"set up breakfast with {listing} on the {spot}",
                f"get breakfast ready: {listing}, all on the {spot}"]
    return [f"do this: {task_name.lower()}"]


def task_phrasings(task_name: str, params: list[str], seed: int = 0) -> list[str]:
    """Ways a Commander states a task with its arguments (plain names), for tests and inspection."""
    rng = np.random.default_rng(seed)
    return task_cores(task_name, params, plain_name, rng)


def first_steps(task_name: str, params: list[str], name) -> list[str]:
    """The task as people break it into steps when they state it that way ("first ..., then ...")."""
    if task_name == "Coffee":
        return [f"grab a {name('Mug')}", "rinse it in the sink", f"put it in the {name('CoffeeMachine')}",
                "turn the machine on"]
    if task_name == "Water Plant":
        return ["fill a container with water", f"pour it on the {name('HousePlant')}"]
    if task_name == "Boil X":
        return [f"fill a {name('Pot')} with water", f"put the {name(params[0])} in it", "turn on the stove"]
    if task_name == "Plate Of Toast":
        return [f"slice the {name('Bread')}", "toast a slice", f"put it on a clean {name('Plate')}"]
    if task_name in ("N Cooked Slices Of X In Y", "N Slices Of X In Y"):
        steps = [f"slice the {name(params[1])}"]
        if task_name.startswith("N Cooked"):
            steps.append(f"cook the slices in a {name('Pan')}")
        return steps + [f"put them {params[2]} a clean {name(params[3])}"]
    if task_name == "Sandwich":
        return [f"slice the {name('Bread')}", "toast two slices", f"put them on a {name('Plate')}"]
    if task_name == "Salad":
        return ["slice what we need", f"put the slices on a clean {name('Plate')}"]
    return []


STEP_INSTRUCTIONS = {
    "slice": ["slice the {x}", "cut the {x}", "cut the {x} with a knife", "slice {it} up", "cut {it} into slices",
              "use the knife on the {x}", "chop the {x}", "make slices of the {x}", "cut up the {x}", "carve the {x}"],
    "tap": ["rinse {it} in the sink", "wash {it} under the tap", "clean {it} in the sink", "rinse the {x} off",
            "give {it} a wash", "put {it} in the sink and turn on the water", "the {x} is dirty, rinse {it}", "scrub {it} in the sink",
            "clean {it} under running water", "wash {it} off at the sink"],
    "toast": ["toast {it}", "put {it} in the toaster", "toast the slice", "turn on the toaster",
              "toast a slice of bread", "pop {it} in the toaster", "brown {it} in the toaster", "put {it} in to toast"],
    "stove": ["turn on the stove", "switch the burner on", "turn the burner on", "start the stove",
              "put the heat on", "turn on the knob for that burner", "light the stove", "fire up the burner",
              "heat up the stove"],
    "pour": ["pour the water {into} the {x}", "pour {it} {into} the {x}", "empty the water {into} the {x}",
             "now pour water {into} the {x}", "water goes {into} the {x}", "tip the water {into} the {x}",
             "splash some water {into} the {x}"],
    "coffee": ["use the {x} for the coffee", "take the {x} to the coffee maker", "the {x} will do for coffee",
               "make the coffee in the {x}", "bring the {x} to the coffee machine",
               "brew coffee using the {x}"],
    "fetch": ["grab the {x}", "pick up the {x}", "get the {x}", "take the {x}", "get {a_x}", "find the {x}",
              "we need the {x}", "go get the {x}", "you'll need the {x}",
              "fetch the {x}", "bring me the {x}", "collect the {x}", "retrieve the {x}", "go and find the {x}"],
    "place": ["put {it} {p} the {r}", "place {it} {p} the {r}", "{it} goes {p} the {r}", "set {it} {p} the {r}",
              "drop {it} {p} the {r}", "leave {it} {p} the {r}",
              "rest {it} {p} the {r}", "position {it} {p} the {r}", "stick {it} {p} the {r}"],
    "carry": ["and the other one", "there's another one", "one more {x}", "the next {x} too", "now the other {x}",
              "then the next one", "and another {x}"],
}
"""Step instructions by expert milestone; {it} becomes a pronoun when the object was just named."""

STEP_SUFFIXES = ["", "", "", "", " for me", " when you're ready", " if you can", " real quick", " as well", " too",
                 " carefully", " right away", " whenever you're ready", " please and thanks", " thanks",
                 " asap", " next", " and we're almost there", " if you don't mind", " quickly",
                 " as the next step", " while you're there", " before anything else", " once you have it"]
ENCOURAGE = ["you're doing great", "almost there", "halfway there", "nearly done", "keep it up",
             "looking good so far", "just a couple more steps", "that part is done", "one thing down",
             "going well", "we're making progress", "nicely done so far", "good progress", "that was quick",
             "we're on track", "you're a natural", "easy peasy", "smooth", "that went fast", "only a little left",
             "we're getting there", "the hard part is over", "you're quick at this"]
REASONS = {
    "fetch": ["we'll need it", "you need it for the next step", "it's needed for this", "we can't do it without it",
              "that's the one we use", "it's the only one around", "it's easy to miss"],
    "tap": ["it's dirty", "it needs to be clean", "we can't use it dirty", "it has to be washed first",
            "it's a bit grimy", "it should be spotless"],
    "slice": ["we need slices", "the knife is sharp enough", "a few slices is plenty", "cut it however you like",
              "any slice will do"],
    "toast": ["it only takes a moment", "wait until it's golden", "it'll pop when it's ready",
              "keep an eye on it", "we want it crispy"],
    "stove": ["so it cooks", "it needs heat", "it won't cook otherwise", "the heat has to be on",
              "careful, it gets hot"],
    "pour": ["it's really dry", "fill it up well", "be generous", "a little is enough", "try not to spill"],
    "coffee": ["it has to be clean", "any clean one works", "that's the right one", "the coffee goes in there"],
    "place": ["that's where it belongs", "that's the spot", "that's the right place", "it fits there",
              "that's where I want it", "it should go there"],
    "carry": ["there are a few of them", "that's not the last one", "they all go together", "we need all of them",
              "don't forget any", "there may be more"],
}
"""Why a step is needed, said beside the instruction now and then (``InformationOther``)."""


class DialogueWriter:
    """Writes the utterances of one game into the expert's trace as the expert reaches its milestones.

    ``talk`` scales how often optional turns happen; the seeded ``rng`` decides everything else, so the same
    seed gives the same dialogue.
    """

    def __init__(self, expert: Expert, task, rng: np.random.Generator, question_rate: float = 0.6,
                 correction_rate: float = 0.15, talk: float | None = None):
        self.expert = expert
        self.task = task
        self.rng = rng
        self.question_rate = question_rate
        self.correction_rate = correction_rate
        self.talk = float(rng.uniform(0.6, 1.3)) if talk is None else talk
        self.styles = {COMMANDER: TypingStyle.draw(rng), DRIVER: TypingStyle.draw(rng)}
        self.seconds_per_word = {COMMANDER: float(rng.uniform(0.25, 0.6)), DRIVER: float(rng.uniform(0.3, 0.7))}
        self.stepwise = rng.random() < 0.7  # this Commander gives step-by-step instructions
        self.words: dict[str, str] = {}
        # Shared with the expert: it searches only for objects nobody has located for the Driver.
        self.located: set[str] = getattr(expert, "told_where", set())
        self.waited = False
        self.instructed: set[str] = set()
        self.last_named: str | None = None
        self.carried = 0
        self.room = self._room()
        expert.on_milestone = self.milestone

    # --- naming -------------------------------------------------------------------------------------------------------
    def name(self, object_type: str) -> str:
        """This game's word for a type: drawn once among its names, occasionally varied later."""
        options = names_of(object_type)
        if object_type not in self.words:
            self.words[object_type] = pick(self.rng, options)
        elif len(options) > 1 and self.rng.random() < 0.15:
            return pick(self.rng, options)
        return self.words[object_type]

    def task_object(self) -> str | None:
        """The object type the task is about, if its parameters name one (Boil X's X, the sliced food)."""
        params = self.task.task_params
        if self.task.task_name in ("Boil X", "Clean All X", "Put All X On Y", "Put All X In One Y"):
            return params[0]
        if self.task.task_name in ("N Cooked Slices Of X In Y", "N Slices Of X In Y"):
            return params[1]
        return None

    def _room(self) -> str:
        types = {o["objectType"] for o in self.expert.event.metadata["objects"]}
        for marker, room in (("StoveBurner", "kitchen"), ("Fridge", "kitchen"), ("Bed", "bedroom"),
                             ("Toilet", "bathroom"), ("Sofa", "living room")):
            if marker in types:
                return room
        return "room"

    # --- speaking -------------------------------------------------------------------------------------------------------
    def say(self, speaker: int, *segments: Segment) -> None:
        """Type ``segments`` as one utterance of ``speaker`` into the trace (TEACh ``Text`` interaction)."""
        segments = [s for s in segments if s.text]
        if not segments:
            return
        typed = render(segments, self.styles[speaker], self.rng)
        trace = self.expert.trace
        words = len(typed.utterance.split())
        pause = float(self.rng.gamma(2.0, 0.8))  # reading and thinking before typing
        time_start = trace.tick(pause + words * self.seconds_per_word[speaker] * float(self.rng.uniform(0.7, 1.4)))
        index = len(trace.interactions)
        trace.interactions.append({"agent_id": speaker, "action_id": TEXT_ACTION_ID, "time_start": time_start,
                                   "duration": 1, "success": 1, "utterance": typed.utterance,
                                   "corrected_utterance": typed.corrected, "da_metadata": typed.da_metadata()})
        who = "Commander" if speaker == COMMANDER else "Driver"
        trace.dialogue.append([who, typed.utterance])
        kept = [text for act, text in zip(typed.das, typed.corrected_segments)
                if act and act != "OtherInterfaceComment"]
        trace.turns.append(Turn(index, who, typed.utterance, " ".join(kept) if kept else None,
                                " ".join(f"<<{act}>> {text}" for act, text in zip(typed.das, typed.text_segments)
                                         if act)))
        if speaker == COMMANDER and trace.driver_actions and any(s.act in INSTRUCTION_ACTS for s in segments):
            trace.cuts.append(Cut(index, len(trace.driver_actions), snapshot(self.expert.env)))

    def chance(self, p: float) -> bool:
        return self.rng.random() < min(1.0, p * self.talk)

    # --- the conversation ---------------------------------------------------------------------------------------------
    def task_statement(self) -> str:
        core = pick(self.rng, task_cores(self.task.task_name, self.task.task_params, self.name, self.rng))
        return pick(self.rng, TASK_INTROS) + pick(self.rng, REQUEST_FRAMES).format(t=core)

    def opening(self) -> None:
        rng = self.rng
        driver_first = rng.random() < 0.6
        if driver_first:
            greeting = Segment("Greetings/Salutations", pick(rng, GREET) + pick(rng, ["", "!", ",", "."]))
            self.say(DRIVER, *([greeting] if rng.random() < 0.8 else []),
                     Segment("RequestForInstruction", pick(rng, DRIVER_ASK_TASK)))
        if self.chance(0.12):
            self.say(COMMANDER if not driver_first else DRIVER, Segment("MiscOther", pick(rng, SMALL_TALK_D)))
            self.say(DRIVER if not driver_first else COMMANDER, Segment("MiscOther", pick(rng, SMALL_TALK_C)))
        hello = [Segment("Greetings/Salutations", pick(rng, GREET) + "!")] if (
            not driver_first or rng.random() < 0.3) else []
        mode = rng.choice(3, p=[0.6, 0.2, 0.2])
        vague = VAGUE_GOALS.get(self.task.task_name)
        if mode == 1 and vague:
            x = self.name(self.task_object()) if self.task_object() else "food"
            text = pick(rng, vague).format(plant=self.name("HousePlant"), x=x, xs=plural(x))
            self.say(COMMANDER, *hello, Segment("InformationOther", text + pick(rng, [".", "!", "", " :("])))
            self.say(DRIVER, Segment("RequestMore", pick(rng, ASK_MORE)))
            self.say(COMMANDER, Segment("Instruction", self.task_statement()))
        elif mode == 2 and first_steps(self.task.task_name, self.task.task_params, self.name):
            steps = first_steps(self.task.task_name, self.task.task_params, self.name)
            said = pick(rng, ["first {a}, then {b}.", "{a}, then {b}.", "start by going to {a}; after that {b}.",
                              "step one: {a}. then {b}."])
            said = said.replace("going to {a}", "{a}")
            self.say(COMMANDER, *hello, Segment("Instruction", self.task_statement()),
                     Segment("Instruction", said.format(a=steps[0], b=", ".join(steps[1:]))))
        else:
            self.say(COMMANDER, *hello, Segment("Instruction", self.task_statement()))
        if self.chance(0.15):
            core = pick(rng, task_cores(self.task.task_name, self.task.task_params, self.name, rng))
            self.say(DRIVER, Segment("Confirm", pick(rng, CONFIRM_D).format(t=core)))
            self.say(COMMANDER, Segment("Affirm", pick(rng, AFFIRM)))
        else:
            self.say(DRIVER, Segment("Acknowledge", pick(rng, ACK)))

    def closing(self) -> None:
        rng = self.rng
        self.say(DRIVER, Segment("InformationOther", pick(rng, DONE_DRIVER)),
                 *([Segment("RequestForInstruction", pick(rng, NEXT_DRIVER))] if rng.random() < 0.7 else []))
        segments = [Segment("FeedbackPositive", pick(rng, FEEDBACK_POS) + pick(rng, ["!", ".", ""]))]
        if rng.random() < 0.7:
            segments.append(Segment("InformationOther", pick(rng, CLOSE_COMMANDER) + "."))
        if rng.random() < 0.6:
            segments.append(Segment("Greetings/Salutations", pick(rng, THANKS + BYE) + pick(rng, ["!", "", " :)"])))
        self.say(COMMANDER, *segments)
        if rng.random() < 0.4:
            self.say(DRIVER, Segment("Greetings/Salutations", pick(rng, ["bye", "you're welcome", "anytime",
                                                                          "happy to help", "see you", "np"])))

    def milestone(self, kind: str, info: dict) -> None:
        object_id = info.get("object_id")
        obj = self.expert.event.get_object(object_id) if object_id else None
        if self.chance(0.04):
            self.say(COMMANDER, Segment("OtherInterfaceComment", (pick(self.rng, APOLOGY) + " "
                                                                  + pick(self.rng, INTERFACE_C)).strip()))
        elif self.chance(0.03):
            self.say(DRIVER, Segment("OtherInterfaceComment", pick(self.rng, INTERFACE_D)))
            if self.rng.random() < 0.5:
                self.say(COMMANDER, Segment("MiscOther", pick(self.rng, TAKE_TIME)))
        if kind == "lost" and obj is not None:
            self.lost(obj, self.expert.event.get_object(info.get("searched_id")))
            return
        if kind == "missed" and obj is not None:
            self.missed(obj)
            return
        if self.chance(0.05) and not self.waited and self.expert.trace.driver_actions:
            self.waited = True
            self.say(COMMANDER, Segment("MiscOther", pick(self.rng, WAITING_C)))
            self.say(DRIVER, Segment("InformationOther", pick(self.rng, WAITING_D)))
        if self.chance(0.08) and self.expert.trace.driver_actions:
            self.progress_remark()
        if kind == "fetch" and obj is not None:
            self.fetch(obj)
        elif kind == "place" and obj is not None:
            self.place(obj, info.get("receptacle_id"))
        elif kind == "carry" and obj is not None:
            self.carried += 1
            if self.carried > 1 and self.chance(0.5):
                self.instruct("carry", obj)
        elif kind in STEP_INSTRUCTIONS and kind not in self.instructed and obj is not None:
            if self.stepwise or self.chance(0.45):
                self.instructed.add(kind)
                self.instruct(kind, obj)
            if kind in RESULT_D and self.chance(0.1):
                self.say(DRIVER, Segment("InformationOther", pick(self.rng, RESULT_D[kind])))

    # --- step instructions ------------------------------------------------------------------------------------------
    def instruct(self, kind: str, obj: dict, receptacle: dict | None = None) -> None:
        """The Commander tells the Driver the next step (an ``Instruction``, so an EDH cut candidate)."""
        rng = self.rng
        segments = []
        if rng.random() < 0.3:
            segments.append(Segment("FeedbackPositive", pick(rng, FEEDBACK_POS + ENCOURAGE)
                                    + pick(rng, ["!", ",", ".", " -"])))
        segments.append(self.instruction(kind, obj, receptacle))
        if rng.random() < 0.3:
            segments.append(Segment("InformationOther", pick(rng, ["", "", "", "since ", "because ", "as "])
                                    + pick(rng, REASONS[kind]) + pick(rng, [".", "", "!"])))
        elif kind in TIPS and rng.random() < 0.25:
            segments.append(Segment("InformationOther", pick(rng, ["", "", "tip: ", "btw ", "fyi ", "note: "])
                                    + pick(rng, TIPS[kind]) + pick(rng, [".", "", "!"])))
        self.say(COMMANDER, *segments)
        self.last_named = obj["objectType"]
        if self.chance(0.35):
            self.say(DRIVER, Segment("Acknowledge", pick(rng, ACK)))

    def instruction(self, kind: str, obj: dict, receptacle: dict | None = None) -> Segment:
        """A step instruction for milestone ``kind``: 'now rinse it', 'grab the knife' (a pronoun when the object
        was the last one named)."""
        rng = self.rng
        object_type = obj["objectType"]
        x = self.name(object_type)
        it = pick(rng, ["it", "that", "it", "this one"]) if self.last_named == object_type else f"the {x}"
        receptacle_type = receptacle["objectType"] if receptacle else None
        text = pick(rng, STEP_INSTRUCTIONS[kind]).format(
            x=x, it=it, a_x=with_article(x), into=pick(rng, ["into", "in"]) if object_type != "HousePlant" else "on",
            p=preposition(receptacle_type) if receptacle_type else "on",
            r=self.name(receptacle_type) if receptacle_type else "")
        lead = pick(rng, PROCEED) + " " if rng.random() < 0.6 else ""
        return Segment("Instruction", lead + text + pick(rng, STEP_SUFFIXES) + pick(rng, [".", "", "!", " please",
                                                                                           ","]))

    def fetch(self, obj: dict) -> None:
        """Before the Driver picks ``obj`` up: the Commander may tell it to (new work), and where it is, in one turn
        or two; or the Driver asks where it is."""
        object_id, object_type = obj["objectId"], obj["objectType"]
        instruct = self.chance(0.7 if self.stepwise else 0.3)
        if object_id not in self.located and self.chance(self.question_rate):
            self.located.add(object_id)
            if instruct and self.rng.random() < 0.5:
                self.locate(obj, asked=False, lead=self.instruction("fetch", obj))
            else:
                if instruct:
                    self.instruct("fetch", obj)
                self.locate(obj, asked=not instruct and self.rng.random() < 0.8)
        elif instruct:
            self.instruct("fetch", obj)
        self.last_named = object_type

    def place(self, obj: dict, receptacle_id: str | None) -> None:
        receptacle = self.expert.event.get_object(receptacle_id) if receptacle_id else None
        if receptacle is None:
            return
        if receptacle_id not in self.located and self.chance(self.question_rate / 2):
            self.located.add(receptacle_id)
            self.say(DRIVER, Segment("RequestOtherInfo", pick(self.rng, WHERE_TO)))
            rtype = receptacle["objectType"]
            spot = (f"{preposition(rtype)} the {self.name(rtype)}"
                    + (self._relative(receptacle) if self.rng.random() < 0.5 else ""))
            self.say(COMMANDER, Segment("Instruction", pick(self.rng, PLACE_ANSWERS).format(spot=spot)),
                     *([Segment("InformationOther", pick(self.rng, REASONS["place"]))]
                       if self.rng.random() < 0.25 else []))
        elif self.stepwise and self.chance(0.3):
            self.instruct("place", obj, receptacle)
        elif self.chance(0.15):
            self.say(COMMANDER, Segment("FeedbackPositive", pick(self.rng, FEEDBACK_POS) + pick(self.rng, ["!", ","])),
                     Segment("InformationOther", pick(self.rng, ENCOURAGE)))

    def lost(self, obj: dict, searched: dict | None) -> None:
        """After the Driver looked in a wrong container: it says so and asks; the Commander answers precisely."""
        rng = self.rng
        self.located.add(obj["objectId"])
        x = self.name(obj["objectType"])
        c = self.name(searched["objectType"]) if searched else "cabinet"
        fill = dict(x=x, a_x=with_article(x), xs=plural(x), c=c)
        said = [Segment("InformationOther", pick(rng, NOT_HERE).format(**fill))] if rng.random() < 0.7 else []
        self.say(DRIVER, *said, Segment("RequestForObjectLocationAndOtherDetails", pick(rng, LOST_ASK).format(**fill)))
        answer = self._info(self.describe(obj, "precise"), fill)
        lead = pick(rng, LOST_LEADS).format(**fill)
        self.say(COMMANDER, Segment(answer.act, lead + answer.text))
        if self.chance(0.35):
            self.say(DRIVER, Segment("Acknowledge", pick(rng, ACK_AFTER_INFO)))

    def missed(self, obj: dict) -> None:
        """After a click beside the target: the Driver may say so, and the Commander may give a hint."""
        rng = self.rng
        if not self.chance(0.35):
            return
        self.say(DRIVER, Segment("NotifyFailure", pick(rng, MISSED_D)))
        if rng.random() < 0.5:
            x = self.name(obj["objectType"])
            self.say(COMMANDER, Segment("InformationOther", pick(rng, CLICK_TIPS).format(x=x)))

    def progress_remark(self) -> None:
        """The Commander reads out what the progress panel still asks for."""
        frames = PROGRESS_C.get(self.task.task_name)
        if not frames:
            return
        x = self.name(self.task_object()) if self.task_object() else "item"
        text = pick(self.rng, frames).format(mug=self.name("Mug"), plant=self.name("HousePlant"), x=x,
                                            xs=plural(x), plate=self.name("Plate"))
        lead = pick(self.rng, ["", "", "just so you know, ", "fyi ", "reminder: ", "heads up, ", "btw "])
        self.say(COMMANDER, Segment("InformationOther", lead + text + pick(self.rng, [".", "", "!"])))

    # --- locations ----------------------------------------------------------------------------------------------------
    def precision(self) -> str:
        return str(self.rng.choice(["precise", "medium", "vague"], p=[0.5, 0.35, 0.15]))

    def locate(self, obj: dict, asked: bool, lead: Segment | None = None) -> None:
        """The Driver asks (or the Commander offers) where ``obj`` is; the answer's precision varies, a vague
        answer may be followed by 'which one?', and the Commander may slip and correct itself, or correct a
        Driver who guessed the wrong place."""
        rng = self.rng
        x = self.name(obj["objectType"])
        fill = dict(x=x, a_x=with_article(x), xs=plural(x))
        if asked:
            self.say(DRIVER, Segment("RequestForObjectLocationAndOtherDetails", pick(rng, WHERE_FRAMES).format(**fill)))
        precision = self.precision()
        where = self.describe(obj, precision)
        wrong = self.wrong_place(obj)
        if wrong is not None and rng.random() < self.correction_rate:
            self.say(COMMANDER, *([lead] if lead else []), self._info(wrong, fill))
            self.say(COMMANDER, Segment("InformationOnObjectDetails",
                                        pick(rng, CORRECT_SELF).format(w=self.describe(obj, "precise"))))
        else:
            self.say(COMMANDER, *([lead] if lead else []), self._info(where, fill))
            if precision == "vague" and rng.random() < 0.6:
                parent = self._parent(obj)
                r = self.name(parent["objectType"]) if parent else "place"
                self.say(DRIVER, Segment("RequestOtherInfo", pick(rng, WHICH_ONE).format(r=r, rs=plural(r))))
                self.say(COMMANDER, self._info(self.describe(obj, "precise"), fill))
            elif self.chance(0.5):
                self.which_of_several(obj, fill)
            elif wrong is not None and rng.random() < self.correction_rate:
                self.say(DRIVER, Segment("Confirm", pick(rng, DRIVER_GUESS).format(w=wrong)))
                self.say(COMMANDER, Segment("Deny", pick(rng, DENY) + ","),
                         Segment("InformationOnObjectDetails", pick(rng, ["it's ", "it is ", "look ", ""])
                                 + self.describe(obj, "precise")))
        if self.chance(0.4):
            self.say(DRIVER, Segment("Acknowledge", pick(rng, ACK_AFTER_INFO)))

    def which_of_several(self, obj: dict, fill: dict) -> None:
        """With other objects of ``obj``'s type about, the Driver may ask which one; the Commander tells it apart by
        what differs (dirty or clean, full or empty, bigger or smaller), or says any will do."""
        rng = self.rng
        others = [o for o in self._objects().values()
                  if o["objectType"] == obj["objectType"] and o["objectId"] != obj["objectId"]]
        if not others:
            return
        self.say(DRIVER, Segment("RequestOtherInfo", pick(rng, SEVERAL_ASK).format(n=number(len(others) + 1, rng),
                                                                                  **fill)))
        feature = self._feature(obj, others)
        if feature is None:
            self.say(COMMANDER, Segment("InformationOther", pick(rng, ANY_WILL_DO)))
        else:
            self.say(COMMANDER, Segment("InformationOnObjectDetails", pick(rng, WHICH_OF_SEVERAL[feature])
                                        + pick(rng, ["", "", ", please", " is the one", " I think"])))

    @staticmethod
    def _feature(obj: dict, others: list[dict]) -> str | None:
        """What sets ``obj`` apart from every one of ``others``: its dirt, its water, its size; None if nothing."""
        for key, yes, no in (("isDirty", "dirty", "clean"), ("isFilledWithLiquid", "full", "empty")):
            if key in obj and all(bool(o.get(key)) != bool(obj[key]) for o in others):
                return yes if obj[key] else no

        def volume(o: dict) -> float | None:
            size = (o.get("axisAlignedBoundingBox") or {}).get("size")
            return size["x"] * size["y"] * size["z"] if size else None

        mine, theirs = volume(obj), [volume(o) for o in others]
        if mine is not None and None not in theirs:
            if all(mine > 1.3 * v for v in theirs):
                return "big"
            if all(mine < v / 1.3 for v in theirs):
                return "small"
        return None

    def _info(self, where: str, fill: dict) -> Segment:
        frame = pick(self.rng, LOCATE_FRAMES)
        hedge = pick(self.rng, HEDGES) if self.rng.random() < 0.3 else ""
        return Segment("InformationOnObjectDetails", hedge + frame.format(w=where, **fill)
                       + pick(self.rng, ["", ".", "!"]))

    def _objects(self) -> dict[str, dict]:
        return {o["objectId"]: o for o in self.expert.event.metadata["objects"]}

    def _parent(self, obj: dict) -> dict | None:
        objects = self._objects()
        parents = [objects[p] for p in obj.get("parentReceptacles") or [] if p in objects]
        return parents[0] if parents else None

    def describe(self, obj: dict, precision: str = "precise") -> str:
        """Where ``obj`` is, at a precision: 'in the cabinet left of the sink' (receptacle and a landmark, as seen
        from the Driver's heading), 'in the fridge' / 'near the stove' / 'behind you', or 'somewhere in the
        kitchen' / 'in one of the cabinets'."""
        rng = self.rng
        parent = self._parent(obj)
        if parent is None or parent["objectType"] == "Floor":
            return "on the floor" if not obj.get("isPickedUp") else "in your hand"
        ptype = parent["objectType"]
        prep = preposition(ptype)
        r = self.name(ptype)
        if precision == "vague":
            return pick(rng, VAGUE_PLACES).format(room=self.room, r=r, rs=plural(r), p=prep)
        base = f"{prep} the {r}"
        if precision == "medium":
            choice = int(rng.integers(3))
            if choice == 0:
                return base
            if choice == 1:
                return f"{base} {self.egocentric(parent)}"
            relative = self._relative(parent)
            return relative.strip() if relative else base
        level = self._level(parent)
        if level and rng.random() < 0.5:
            base = f"{prep} the {level} {r}"
        relative = self._relative(parent)
        return base + (relative if relative else f" {self.egocentric(parent)}")

    def _level(self, place: dict) -> str | None:
        """'upper' / 'bottom' for a cabinet or drawer high on the wall or near the floor (None otherwise)."""
        if place["objectType"] not in ("Cabinet", "Drawer", "Shelf"):
            return None
        y = place["position"]["y"]
        if y > 1.3:
            return pick(self.rng, LEVELS["high"])
        if y < 0.5:
            return pick(self.rng, LEVELS["low"])
        return None

    def egocentric(self, place: dict) -> str:
        """Direction of ``place`` from the Driver's current pose: in front, to the right, behind, to the left."""
        agent = self.expert.event.metadata["agent"]
        dx = place["position"]["x"] - agent["position"]["x"]
        dz = place["position"]["z"] - agent["position"]["z"]
        yaw = math.radians(agent["rotation"]["y"])
        forward = dx * math.sin(yaw) + dz * math.cos(yaw)
        lateral = dx * math.cos(yaw) - dz * math.sin(yaw)
        if math.hypot(dx, dz) < 1.0:
            return pick(self.rng, ["right next to you", "right by you", "close to you"])
        if abs(forward) >= abs(lateral):
            return pick(self.rng, ["in front of you", "ahead of you", "straight ahead"] if forward > 0 else
                        ["behind you", "at your back", "behind you somewhere"])
        side = "right" if lateral > 0 else "left"
        return pick(self.rng, [f"to your {side}", f"on your {side}", f"on the {side}", f"{side} of you"])

    def _relative(self, place: dict) -> str:
        """' left of the stove' against the nearest landmark within 2.5 m ('' if none)."""
        objects = self._objects()
        same = {place["objectType"], place["objectType"].replace("Basin", "")}
        candidates = [o for o in objects.values() if o["objectType"] in LANDMARKS and o["objectType"] not in same
                      and o["objectId"] not in (place.get("parentReceptacles") or [])]
        if not candidates:
            return ""
        p = place["position"]
        landmark = min(candidates, key=lambda o: math.hypot(o["position"]["x"] - p["x"], o["position"]["z"] - p["z"]))
        dx, dz = p["x"] - landmark["position"]["x"], p["z"] - landmark["position"]["z"]
        dy = p["y"] - landmark["position"]["y"]
        if math.hypot(dx, dz) > 2.5:
            return ""
        name = self.name(landmark["objectType"])
        if math.hypot(dx, dz) < 0.4 and abs(dy) > 0.4:
            return f" {'above' if dy > 0 else pick(self.rng, ['under', 'below'])} the {name}"
        yaw = math.radians(self.expert.event.metadata["agent"]["rotation"]["y"])
        lateral = dx * math.cos(yaw) - dz * math.sin(yaw)  # along the Driver's right-hand direction
        if abs(lateral) < 0.35:
            return f" {pick(self.rng, ['next to', 'near', 'beside', 'by', 'close to'])} the {name}"
        side = "right" if lateral > 0 else "left"
        return f" {pick(self.rng, [f'{side} of', f'to the {side} of', f'on the {side} of'])} the {name}"

    def wrong_place(self, obj: dict) -> str | None:
        """A plausible but wrong place, for a slip before a correction or a Driver's wrong guess."""
        objects = self._objects()
        actual = set(obj.get("parentReceptacles") or [])
        options = sorted({o["objectType"] for o in objects.values() if o["receptacle"] and not o["pickupable"]
                          and o["objectId"] not in actual and o["objectType"] not in ("Floor", "StoveBurner")})
        if not options:
            return None
        wrong = pick(self.rng, options)
        return f"{preposition(wrong)} the {self.name(wrong)}"


@dataclass
class Turn:
    """One utterance as the instances list it: its interaction index, speaker, typed text, cleaned text (None when
    cleaning removes it: only remarks about the interface) and text with TEACh-DA tags."""

    interaction_index: int
    speaker: str
    text: str
    cleaned: str | None
    with_das: str


__all__ = ["DialogueWriter", "Turn", "plural", "spoken", "task_cores", "task_phrasings"]
