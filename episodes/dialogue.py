"""Commander-Driver dialogue for generated games, in the style of TEACh's chat (Padmakumar et al., AAAI 2022, sec. 3).

The Driver greets and asks what to do, the Commander states the task (several phrasings per family and argument),
the Driver asks where things are and the Commander answers with a location ("the mug is in the cabinet left of the
sink"), sometimes first naming a wrong place and correcting itself; acknowledgements and thanks close the loop.
Utterances are TEACh ``Text`` interactions (action_id 100, agent 0 Commander / 1 Driver, key ``utterance``), inserted
between the expert's actions at its milestones, so the dialogue follows what the Driver is doing.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .expert import COMMANDER, DRIVER, Cut, Expert, snapshot
from .tasks import BreakfastParams

TEXT_ACTION_ID = 100

LANDMARKS = ("Sink", "StoveBurner", "Fridge", "CoffeeMachine", "Microwave", "Toaster", "DiningTable", "Sofa", "Bed",
             "TVStand", "Desk", "Dresser", "Toilet", "Bathtub", "Window", "ArmChair", "CoffeeTable", "GarbageCan")
"""Big, fixed things the Commander describes positions against."""

SPOKEN = {"CounterTop": "counter", "SinkBasin": "sink", "StoveBurner": "stove", "StoveKnob": "stove knob",
          "DiningTable": "table", "CoffeeMachine": "coffee maker", "HousePlant": "plant", "TVStand": "tv stand",
          "BathtubBasin": "bathtub", "GarbageCan": "bin", "RemoteControl": "remote", "CellPhone": "phone",
          "BreadSliced": "bread slice", "PotatoSliced": "potato slice", "TomatoSliced": "tomato slice",
          "LettuceSliced": "lettuce slice", "AppleSliced": "apple slice", "ButterKnife": "butter knife",
          "KeyChain": "keys", "SideTable": "side table", "CoffeeTable": "coffee table", "ArmChair": "armchair",
          "Tableware": "tableware", "Drinkware": "drinkware", "Dishware": "dishes", "Cookware": "cookware",
          "Silverware": "silverware", "SmallHandheldObjects": "small items", "WateringCan": "watering can",
          "SaltShaker": "salt shaker", "PepperShaker": "pepper shaker", "SoapBar": "soap bar",
          "SoapBottle": "soap bottle", "ToiletPaper": "toilet paper", "DishSponge": "sponge",
          "PaperTowelRoll": "paper towels", "CreditCard": "credit card", "AlarmClock": "alarm clock",
          "WineBottle": "wine bottle", "SprayBottle": "spray bottle", "HandTowel": "hand towel",
          "LaundryHamper": "laundry hamper", "FloorLamp": "floor lamp", "DeskLamp": "desk lamp"}

NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four"}


def spoken(object_type: str) -> str:
    """How people say an AI2-THOR type or TEACh class: ``CounterTop`` -> "counter", ``SprayBottle`` ->
    "spray bottle"."""
    if object_type in SPOKEN:
        return SPOKEN[object_type]
    return re.sub(r"(?<!^)(?=[A-Z])", " ", object_type).lower()


INSIDE = ("Cabinet", "Drawer", "Fridge", "Microwave", "SinkBasin", "Sink", "Box", "GarbageCan", "Pot", "Pan", "Bowl",
          "Mug", "Cup", "Toaster", "LaundryHamper", "BathtubBasin", "Bathtub", "CoffeeMachine", "Safe")


def preposition(receptacle_type: str) -> str:
    return "in" if receptacle_type in INSIDE else "on"


def with_article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def plural(word: str) -> str:
    if word.endswith(("s", "sh", "ch")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def slices_of(n: int, what: str) -> str:
    return f"{NUMBERS.get(n, str(n))} slice{'s' if n != 1 else ''} of {what}"


def task_phrasings(task_name: str, params: list[str]) -> list[str]:
    """Several natural ways a Commander states a task with its arguments."""
    p = params
    if task_name == "Coffee":
        return ["make a cup of coffee", "could you make me a coffee in a clean mug?", "I'd like some coffee please",
                "prepare coffee in a clean mug", "we need a mug of coffee"]
    if task_name == "Water Plant":
        return ["water the plant", "the plant looks thirsty, please water it", "please give the plant some water",
                "can you water the houseplant?"]
    if task_name == "Boil X":
        x = spoken(p[0])
        return [f"boil {with_article(x)}", f"we need to boil the {x}",
                f"please cook {with_article(x)} in boiling water", f"boil {with_article(x)} in a pot of water"]
    if task_name == "Plate Of Toast":
        return ["make a plate of toast", "toast a slice of bread and put it on a clean plate",
                "I want toast on a clean plate", "can you make some toast and serve it on a plate?"]
    if task_name == "Clean All X":
        x = plural(spoken(p[0]))
        return [f"clean all the {x}", f"rinse all the {x} please", f"all the {x} are dirty, wash them",
                f"please wash every one of the {x}"]
    if task_name in ("Put All X On Y", "Put All X In One Y"):
        x, prep, y = plural(spoken(p[0])), p[1], spoken(p[2])
        if task_name == "Put All X On Y":
            return [f"put all the {x} {prep} any {y}", f"place every {spoken(p[0])} {prep} {with_article(y)}",
                    f"could you put the {x} {prep} {with_article(y)}?", f"all {x} need to go {prep} {with_article(y)}"]
        return [f"put all the {x} {prep} one {y}", f"collect all the {x} {prep} a single {y}",
                f"gather every {spoken(p[0])} {prep} the same {y}", f"put the {x} together {prep} one {y}"]
    if task_name == "N Cooked Slices Of X In Y":
        n, x, prep, y = int(p[0]), spoken(p[1]), p[2], spoken(p[3])
        return [f"cook {slices_of(n, x)} and serve {'them' if n > 1 else 'it'} {prep} a clean {y}",
                f"I need {slices_of(n, 'cooked ' + x)} {prep} a clean {y}",
                f"slice {with_article(x)}, cook {NUMBERS.get(n, str(n))} of the slices and put them "
                f"{prep} {with_article(y)}"]
    if task_name == "N Slices Of X In Y":
        n, x, prep, y = int(p[0]), spoken(p[1]), p[2], spoken(p[3])
        return [f"serve {slices_of(n, x)} {prep} a clean {y}",
                f"cut {with_article(x)} and put {slices_of(n, 'it')} {prep} {with_article(y)}",
                f"I'd like {slices_of(n, x)} {prep} a clean {y}"]
    if task_name == "Salad":
        parts = [slices_of(int(n), w) for n, w in zip(p, ("lettuce", "tomato", "cooked potato")) if int(n)]
        listing = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
        return [f"make a salad with {listing} on a plate", f"let's make a salad: {listing}, all on a clean plate",
                f"please prepare a salad, {listing} on one plate"]
    if task_name == "Sandwich":
        parts = ["two slices of toast"] + [slices_of(int(n), w) for n, w in zip(p, ("lettuce", "tomato")) if int(n)]
        listing = ", ".join(parts[:-1]) + " and " + parts[-1]
        return [f"make a sandwich: {listing} on a plate", f"I'd like a sandwich with {listing}, served on a plate",
                f"we're making a sandwich, put {listing} on a clean plate"]
    if task_name == "Breakfast":
        wanted = BreakfastParams.from_params(p)
        items = []
        if wanted.coffee:
            items.append("a coffee")
        if wanted.toast:
            items.append("a plate of toast")
        if wanted.apple:
            items.append("an apple slice on a plate")
        if wanted.salad:
            items.append("a salad")
        listing = ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]
        spot = spoken(wanted.serving_spot)
        return [f"prepare breakfast: {listing}, everything on the {spot}", f"let's make breakfast, {listing}, "
                f"served on the {spot}", f"breakfast time! I need {listing} on the {spot}"]
    return [f"please do this: {task_name.lower()}"]


GREETINGS = ["hi, what should I do?", "hello! what's my task today?", "hi there, how can I help?",
             "what can I do for you?", "hello, what should I do first?"]
WHERE = ["where is the {x}?", "where can I find a {x}?", "do you know where the {x} is?", "where's the {x}?"]
LOCATE = ["the {x} is {where}", "there's {a_x} {where}", "you can find {a_x} {where}", "check {where}, there's {a_x}"]
WHERE_TO = ["where should I put it?", "where does it go?", "where do you want it?"]
CORRECT = ["sorry, my mistake: the {x} is {where}", "oops, I meant {where}", "actually it's {where}, sorry"]
ACK = ["ok", "okay", "got it", "on it", "sure", "alright"]
PRAISE = ["great", "good job", "nice, thanks", "perfect", "that's it"]
DONE_DRIVER = ["done, anything else?", "all done", "finished. what next?", "I think that's it"]
DONE_COMMANDER = ["that's all, thank you!", "great work, we're done", "thanks, that's everything", "all done, thanks!"]
STEP_HINTS = {"slice": ["you'll need to slice the {x} with a knife", "cut the {x} with the knife"],
              "tap": ["rinse the {x} under the tap", "wash the {x} in the sink"],
              "toast": ["toast the slice in the toaster", "now put it in the toaster"],
              "stove": ["turn on the stove", "switch the burner on"],
              "pour": ["pour the water {into} the {x}", "now pour it {into} the {x}"]}


class DialogueWriter:
    """Writes the utterances of one game into the expert's trace as the expert reaches its milestones.

    Commander turns after the first driver action are EDH cut candidates: each records the world state there.
    """

    def __init__(self, expert: Expert, task, rng: np.random.Generator, question_rate: float = 0.7,
                 correction_rate: float = 0.15):
        self.expert = expert
        self.task = task
        self.rng = rng
        self.question_rate = question_rate
        self.correction_rate = correction_rate
        self.located: set[str] = set()
        self.hinted: set[str] = set()
        expert.on_milestone = self.milestone

    # --- speaking -------------------------------------------------------------------------------------------------
    def say(self, speaker: int, text: str) -> None:
        trace = self.expert.trace
        words = len(text.split())
        time_start = trace.tick(0.8 + 0.3 * words)
        index = len(trace.interactions)
        trace.interactions.append({"agent_id": speaker, "action_id": TEXT_ACTION_ID, "time_start": time_start,
                                   "duration": 1, "success": 1, "utterance": text})
        trace.dialogue.append(["Commander" if speaker == COMMANDER else "Driver", text])
        if speaker == COMMANDER and trace.driver_actions:
            trace.cuts.append(Cut(index, len(trace.driver_actions), snapshot(self.expert.env)))

    def pick(self, options: list[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    # --- the conversation ---------------------------------------------------------------------------------------------
    def opening(self) -> None:
        statement = self.pick(task_phrasings(self.task.task_name, self.task.task_params))
        if self.rng.random() < 0.7:
            self.say(DRIVER, self.pick(GREETINGS))
            self.say(COMMANDER, statement)
        else:
            self.say(COMMANDER, "hi! " + statement)
        self.say(DRIVER, self.pick(ACK))

    def closing(self) -> None:
        self.say(DRIVER, self.pick(DONE_DRIVER))
        self.say(COMMANDER, self.pick(DONE_COMMANDER))

    def milestone(self, kind: str, info: dict) -> None:
        object_id = info.get("object_id")
        if kind == "fetch" and object_id and object_id not in self.located:
            self.located.add(object_id)
            if self.rng.random() < self.question_rate:
                self.locate(object_id)
        elif kind in STEP_HINTS and kind not in self.hinted and self.rng.random() < 0.5:
            self.hinted.add(kind)
            obj = self.expert.event.get_object(object_id) if object_id else None
            x = spoken(obj["objectType"]) if obj else "it"
            into = "on" if x == "plant" else "into"
            self.say(COMMANDER, self.pick(STEP_HINTS[kind]).format(x=x, into=into))
            if self.rng.random() < 0.5:
                self.say(DRIVER, self.pick(ACK))
        elif kind == "place":
            target = info.get("receptacle_id")
            if target and target not in self.located and self.rng.random() < self.question_rate / 2:
                self.located.add(target)
                self.say(DRIVER, self.pick(WHERE_TO))
                obj = self.expert.event.get_object(target)
                if obj is not None:
                    self.say(COMMANDER, f"{preposition(obj['objectType'])} the {spoken(obj['objectType'])}"
                                        + self.relative_to_landmark(obj, self._objects()))
            elif self.rng.random() < 0.3:
                self.say(COMMANDER, self.pick(PRAISE))

    def locate(self, object_id: str) -> None:
        obj = self.expert.event.get_object(object_id)
        if obj is None:
            return
        name = spoken(obj["objectType"])
        where = self.describe(obj)
        if self.rng.random() < 0.6:
            self.say(DRIVER, self.pick(WHERE).format(x=name))
        wrong = self.wrong_place(obj)
        if wrong is not None and self.rng.random() < self.correction_rate:
            self.say(COMMANDER, self.pick(LOCATE).format(x=name, a_x=with_article(name), where=wrong))
            self.say(COMMANDER, self.pick(CORRECT).format(x=name, where=where))
        else:
            self.say(COMMANDER, self.pick(LOCATE).format(x=name, a_x=with_article(name), where=where))
        if self.rng.random() < 0.5:
            self.say(DRIVER, self.pick(ACK))

    # --- locations ----------------------------------------------------------------------------------------------------
    def _objects(self) -> dict[str, dict]:
        return {o["objectId"]: o for o in self.expert.event.metadata["objects"]}

    def describe(self, obj: dict) -> str:
        """'in the cabinet left of the sink': the object's receptacle and where that is relative to a landmark, as
        seen from the Driver's current heading."""
        objects = self._objects()
        parents = [objects[p] for p in obj.get("parentReceptacles") or [] if p in objects]
        if not parents:
            return "on the floor" if not obj.get("isPickedUp") else "in your hand"
        parent = parents[0]
        if parent["objectType"] == "Floor":
            return "on the floor"
        base = f"{preposition(parent['objectType'])} the {spoken(parent['objectType'])}"
        return base + self.relative_to_landmark(parent, objects)

    def relative_to_landmark(self, place: dict, objects: dict[str, dict]) -> str:
        same = {place["objectType"], place["objectType"].replace("Basin", "")}
        candidates = [o for o in objects.values() if o["objectType"] in LANDMARKS and o["objectType"] not in same
                      and o["objectId"] not in (place.get("parentReceptacles") or [])]
        if not candidates:
            return ""
        p = place["position"]
        landmark = min(candidates, key=lambda o: math.hypot(o["position"]["x"] - p["x"], o["position"]["z"] - p["z"]))
        dx, dz = p["x"] - landmark["position"]["x"], p["z"] - landmark["position"]["z"]
        if math.hypot(dx, dz) > 2.5:
            return ""
        yaw = math.radians(self.expert.event.metadata["agent"]["rotation"]["y"])
        lateral = dx * math.cos(yaw) - dz * math.sin(yaw)  # along the Driver's right-hand direction
        name = spoken(landmark["objectType"])
        if abs(lateral) < 0.35:
            return f" {'next to' if self.rng.random() < 0.5 else 'near'} the {name}"
        return f" {'right' if lateral > 0 else 'left'} of the {name}"

    def wrong_place(self, obj: dict) -> str | None:
        """A plausible but wrong place for the Commander's slip before a correction."""
        objects = self._objects()
        actual = set(obj.get("parentReceptacles") or [])
        options = sorted({o["objectType"] for o in objects.values() if o["receptacle"] and not o["pickupable"]
                          and o["objectId"] not in actual and o["objectType"] not in ("Floor", "StoveBurner")})
        if not options:
            return None
        wrong = options[int(self.rng.integers(len(options)))]
        return f"{preposition(wrong)} the {spoken(wrong)}"


__all__ = ["DialogueWriter", "plural", "spoken", "task_phrasings"]
