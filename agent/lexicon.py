"""Grounding what people call things to AI2-THOR object types and TEACh custom classes.

TEACh Commanders name objects the way people do ("coffee cup", "couch", "the bin", "spud", "glasses"), while the
task parameters and the skills take AI2-THOR types (``Mug``, ``Sofa``, ``GarbageCan``, ``Potato``, ``Cup``) or TEACh
custom classes (``Drinkware``, ``Silverware``: ``custom_object_classes.json``, read through ``envs.ontology``).
This module is the planner's dictionary: a hand-written synonym table over the ontology's types, the types' own
readable names ("counter top", "tv stand") and their plurals, matched longest phrase first; colour words
("the red thing") as weak evidence; and, when nothing in the table matches, an optional sentence-embedding fallback
that compares the phrase with the readable class names (HELPER, Sarch et al. 2023, grounds the parser's object
arguments to the simulator's vocabulary in the same spirit). Only types of the ontology or its custom classes are
ever returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

# Spoken forms -> type. Written for this project; a phrase's plural is derived unless it is listed itself.
SYNONYMS: dict[str, str] = {
    # kitchen things
    "coffee cup": "Mug", "coffee mug": "Mug", "mug": "Mug", "tea cup": "Mug", "teacup": "Mug",
    "cup": "Cup", "glass": "Cup", "drinking glass": "Cup", "tumbler": "Cup",
    "plate": "Plate", "dish": "Plate", "dinner plate": "Plate", "bowl": "Bowl", "cereal bowl": "Bowl",
    "pan": "Pan", "frying pan": "Pan", "fry pan": "Pan", "skillet": "Pan", "frypan": "Pan",
    "pot": "Pot", "saucepan": "Pot", "sauce pan": "Pot", "cooking pot": "Pot", "kettle": "Kettle", "teapot": "Kettle",
    "knife": "Knife", "knives": "Knife", "kitchen knife": "Knife", "butter knife": "ButterKnife",
    "fork": "Fork", "spoon": "Spoon", "spatula": "Spatula", "ladle": "Ladle",
    "salt": "SaltShaker", "salt shaker": "SaltShaker", "pepper": "PepperShaker", "pepper shaker": "PepperShaker",
    "bottle": "Bottle", "wine bottle": "WineBottle", "wine": "WineBottle",
    "toaster": "Toaster", "microwave": "Microwave", "micro wave": "Microwave",
    "fridge": "Fridge", "refrigerator": "Fridge", "refridgerator": "Fridge", "frige": "Fridge", "ice box": "Fridge",
    "coffee maker": "CoffeeMachine", "coffee machine": "CoffeeMachine", "coffeemaker": "CoffeeMachine",
    "coffee pot": "CoffeeMachine", "espresso machine": "CoffeeMachine",
    "stove": "StoveBurner", "burner": "StoveBurner", "stove top": "StoveBurner", "stovetop": "StoveBurner",
    "cooktop": "StoveBurner", "hob": "StoveBurner", "oven": "StoveBurner", "stove burner": "StoveBurner",
    "knob": "StoveKnob", "stove knob": "StoveKnob",
    "sink": "SinkBasin", "kitchen sink": "SinkBasin", "basin": "SinkBasin", "sink basin": "SinkBasin",
    "faucet": "Faucet", "tap": "Faucet",
    "counter": "CounterTop", "countertop": "CounterTop", "counter top": "CounterTop", "kitchen counter": "CounterTop",
    "island": "CounterTop", "kitchen island": "CounterTop", "worktop": "CounterTop",
    "cabinet": "Cabinet", "cupboard": "Cabinet", "cabnet": "Cabinet", "cabinate": "Cabinet", "pantry": "Cabinet",
    "drawer": "Drawer", "drawers": "Drawer",
    "garbage can": "GarbageCan", "garbage": "GarbageCan", "bin": "GarbageCan", "trash": "GarbageCan",
    "trash can": "GarbageCan", "trashcan": "GarbageCan", "waste basket": "GarbageCan", "wastebasket": "GarbageCan",
    "rubbish bin": "GarbageCan", "dustbin": "GarbageCan", "garbage bin": "GarbageCan",
    "sponge": "DishSponge", "dish sponge": "DishSponge", "scrubber": "ScrubBrush", "scrub brush": "ScrubBrush",
    "paper towel": "PaperTowelRoll", "paper towels": "PaperTowelRoll", "paper towel roll": "PaperTowelRoll",
    "foil": "AluminumFoil", "aluminum foil": "AluminumFoil", "tin foil": "AluminumFoil",
    "soap": "SoapBottle", "soap bottle": "SoapBottle", "dish soap": "SoapBottle", "soap bar": "SoapBar",
    "bar of soap": "SoapBar", "spray bottle": "SprayBottle", "spray": "SprayBottle",
    # food
    "bread": "Bread", "loaf": "Bread", "loaf of bread": "Bread", "toast": "BreadSliced", "bread slice": "BreadSliced",
    "lettuce": "Lettuce", "lettuce leaf": "Lettuce", "lettuce leaves": "Lettuce", "cabbage": "Lettuce",
    "tomato": "Tomato", "tomatoes": "Tomato", "tomatoe": "Tomato", "tomatos": "Tomato", "tomoto": "Tomato",
    "potato": "Potato", "potatoes": "Potato", "potatos": "Potato", "potatoe": "Potato", "spud": "Potato",
    "tater": "Potato", "patato": "Potato", "potatoe slice": "PotatoSliced",
    "apple": "Apple", "egg": "Egg", "eggs": "Egg", "apple slice": "AppleSliced", "tomato slice": "TomatoSliced",
    "lettuce slice": "LettuceSliced", "potato slice": "PotatoSliced", "slice of bread": "BreadSliced",
    "piece of bread": "BreadSliced",
    # plants and water
    "plant": "HousePlant", "house plant": "HousePlant", "houseplant": "HousePlant", "flower": "HousePlant",
    "flowers": "HousePlant", "potted plant": "HousePlant", "watering can": "WateringCan",
    # living room, bedroom, bathroom
    "sofa": "Sofa", "couch": "Sofa", "settee": "Sofa", "loveseat": "Sofa",
    "armchair": "ArmChair", "arm chair": "ArmChair", "recliner": "ArmChair", "chair": "Chair", "stool": "Stool",
    "ottoman": "Ottoman", "footstool": "Footstool", "foot stool": "Footstool",
    "table": "DiningTable", "dining table": "DiningTable", "kitchen table": "DiningTable",
    "dinner table": "DiningTable", "coffee table": "CoffeeTable", "side table": "SideTable",
    "end table": "SideTable", "nightstand": "SideTable", "night stand": "SideTable", "bedside table": "SideTable",
    "desk": "Desk", "dresser": "Dresser", "chest of drawers": "Dresser", "shelf": "Shelf", "shelves": "Shelf",
    "bookshelf": "Shelf", "book shelf": "Shelf", "shelving unit": "ShelvingUnit", "tv stand": "TVStand",
    "tv table": "TVStand", "television stand": "TVStand", "entertainment center": "TVStand",
    "tv": "Television", "television": "Television", "bed": "Bed", "floor": "Floor", "ground": "Floor",
    "box": "Box", "cardboard box": "Box", "carton": "Box", "safe": "Safe",
    "remote": "RemoteControl", "remote control": "RemoteControl", "remotes": "RemoteControl",
    "tv remote": "RemoteControl", "clicker": "RemoteControl", "controller": "RemoteControl",
    "phone": "CellPhone", "cellphone": "CellPhone", "cell phone": "CellPhone", "mobile": "CellPhone",
    "mobile phone": "CellPhone", "smartphone": "CellPhone",
    "key": "KeyChain", "keys": "KeyChain", "keychain": "KeyChain", "key chain": "KeyChain", "set of keys": "KeyChain",
    "credit card": "CreditCard", "card": "CreditCard", "laptop": "Laptop", "computer": "Laptop",
    "book": "Book", "newspaper": "Newspaper", "paper": "Newspaper", "magazine": "Newspaper",
    "pen": "Pen", "pencil": "Pencil", "watch": "Watch", "wristwatch": "Watch", "cd": "CD", "disc": "CD",
    "statue": "Statue", "figurine": "Statue", "sculpture": "Statue", "vase": "Vase", "candle": "Candle",
    "pillow": "Pillow", "cushion": "Pillow", "teddy": "TeddyBear", "teddy bear": "TeddyBear",
    "stuffed animal": "TeddyBear", "alarm clock": "AlarmClock", "clock": "AlarmClock",
    "basketball": "BasketBall", "ball": "BasketBall", "baseball bat": "BaseballBat", "bat": "BaseballBat",
    "tennis racket": "TennisRacket", "racket": "TennisRacket", "dumbbell": "Dumbbell", "weight": "Dumbbell",
    "lamp": "DeskLamp", "desk lamp": "DeskLamp", "floor lamp": "FloorLamp", "light switch": "LightSwitch",
    "laundry hamper": "LaundryHamper", "hamper": "LaundryHamper", "laundry basket": "LaundryHamper",
    "towel": "Towel", "hand towel": "HandTowel", "cloth": "Cloth", "rag": "Cloth", "dish cloth": "Cloth",
    "toilet paper": "ToiletPaper", "tp": "ToiletPaper", "toilet roll": "ToiletPaper", "tissue box": "TissueBox",
    "tissues": "TissueBox", "toilet": "Toilet", "bathtub": "BathtubBasin", "tub": "BathtubBasin",
    "bath": "BathtubBasin", "plunger": "Plunger", "vacuum": "VacuumCleaner", "window": "Window",
    "mirror": "Mirror", "painting": "Painting", "poster": "Poster", "desktop": "Desktop",
    # TEACh custom classes (custom_object_classes.json)
    "drinkware": "Drinkware", "drink ware": "Drinkware", "drinking vessel": "Drinkware",
    "tableware": "Tableware", "table ware": "Tableware", "silverware": "Silverware", "silver ware": "Silverware",
    "cutlery": "Silverware", "flatware": "Silverware", "utensil": "KitchenUtensils",
    "kitchen utensil": "KitchenUtensils", "dishware": "Dishware", "dishes": "Dishware", "crockery": "Dishware",
    "cookware": "Cookware", "pots and pans": "Cookware", "electronics": "Electronics", "electronic": "Electronics",
    "gadget": "Electronics", "device": "Electronics", "fruit": "Fruit", "fruits": "Fruit", "vegetable": "Vegetables",
    "vegetables": "Vegetables", "veggies": "Vegetables", "veggie": "Vegetables", "food": "Food",
    "furniture": "Furniture", "decoration": "RoomDecor", "decor": "RoomDecor", "ornament": "RoomDecor",
    "condiment": "Condiments", "writing utensil": "WritingUtensils", "sports equipment": "SportsEquipment",
    "cleaning product": "CleaningProducts", "cleaning supplies": "CleaningProducts",
    "small handheld object": "SmallHandheldObjects", "handheld object": "SmallHandheldObjects",
    "appliance": "Appliances", "lamps": "Lamps", "computers": "Computers",
}

COLOURS: dict[str, tuple[str, ...]] = {
    "red": ("Tomato", "Apple"), "green": ("Lettuce", "Apple"), "brown": ("Potato", "Bread"),
    "yellow": ("Potato", "Egg"), "white": ("Egg", "Plate", "Bowl"), "black": ("Pan", "RemoteControl"),
    "silver": ("Pot", "Knife"), "blue": ("Bowl", "Mug"),
}
"""Colour words -> the types they most often describe in AI2-THOR kitchens: weak evidence, used only when the noun
itself does not name a type ("the green thing on the counter")."""

VAGUE_NOUNS = ("thing", "things", "one", "ones", "object", "objects", "item", "items", "stuff")

# Words whose plural is not obtained by adding "s"/"es".
_IRREGULAR_PLURALS = {"knife": "knives", "shelf": "shelves", "loaf": "loaves", "dish": "dishes", "glass": "glasses",
                      "box": "boxes", "tomato": "tomatoes", "potato": "potatoes", "couch": "couches",
                      "sandwich": "sandwiches", "watch": "watches", "brush": "brushes"}


def readable(name: str) -> str:
    """'CounterTop' -> 'counter top', 'TVStand' -> 'tv stand', 'CD' -> 'cd'."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return spaced.lower()


def plural_of(phrase: str) -> str:
    words = phrase.split()
    last = words[-1]
    if last in _IRREGULAR_PLURALS:
        last = _IRREGULAR_PLURALS[last]
    elif last.endswith(("s", "x", "sh", "ch")):
        last = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last = last + "s"
    return " ".join(words[:-1] + [last])


@lru_cache(maxsize=1)
def vocabulary() -> tuple[frozenset, frozenset]:
    """(AI2-THOR object types, TEACh custom class names), from ``envs.ontology``."""
    from envs.ontology import load_ontology

    onto = load_ontology()
    types = frozenset(onto.names)
    classes = set()
    for name in onto.names:
        classes.update(c for c in onto.teach_classes(name) if c != name)
    return types, frozenset(classes - types)


def is_known(name: str) -> bool:
    types, classes = vocabulary()
    return name in types or name in classes


@lru_cache(maxsize=1)
def phrase_table() -> dict[tuple[str, ...], tuple[str, bool]]:
    """Token tuple -> (type, said in the plural). Synonyms first, then every known name's readable form."""
    types, classes = vocabulary()
    table: dict[tuple[str, ...], tuple[str, bool]] = {}

    def add(phrase: str, name: str, plural: bool) -> None:
        key = tuple(phrase.split())
        if key and key not in table:
            table[key] = (name, plural)

    for phrase, name in SYNONYMS.items():
        if not is_known(name):
            raise ValueError(f"lexicon SYNONYMS[{phrase!r}]: {name!r} is not an ontology type or TEACh class")
        add(phrase, name, phrase in ("dishes", "knives", "shelves", "remotes", "keys", "tissues", "paper towels",
                                     "drawers", "fruits", "vegetables", "veggies", "pots and pans", "eggs",
                                     "flowers", "lettuce leaves", "tomatoes", "potatoes", "potatos", "tomatos"))
    for name in sorted(types | classes):
        add(readable(name), name, False)
        add(name.lower(), name, False)
    for key, (name, plural) in list(table.items()):
        if not plural:
            add(plural_of(" ".join(key)), name, True)
    return table


_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Lower-case word tokens with their character spans."""
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text.lower())]


@dataclass(frozen=True)
class Mention:
    """An object mention in an utterance: the grounded name, the words said, their token and character spans."""

    name: str
    surface: str
    start: int  # token index
    end: int  # token index, exclusive
    char_start: int
    char_end: int
    plural: bool = False
    weak: bool = False  # grounded from a colour word only


MAX_PHRASE = 4


def find_mentions(text: str) -> list[Mention]:
    """Every object mention in ``text``, left to right, longest phrase first ("coffee table" before "table")."""
    table = phrase_table()
    toks = tokens(text)
    words = [t[0] for t in toks]
    out: list[Mention] = []
    i = 0
    while i < len(words):
        for n in range(min(MAX_PHRASE, len(words) - i), 0, -1):
            key = tuple(words[i:i + n])
            if key in table:
                name, plural = table[key]
                out.append(Mention(name, " ".join(key), i, i + n, toks[i][1], toks[i + n - 1][2], plural))
                i += n
                break
        else:
            word = words[i]
            stem = _strip_plural(word)
            if stem and (stem,) in table:  # typos and doubled plurals: "keyses", "glasss", "remotess"
                name, _ = table[(stem,)]
                out.append(Mention(name, word, i, i + 1, toks[i][1], toks[i][2], True))
                i += 1
                continue
            if word in COLOURS and i + 1 < len(words) and words[i + 1] in VAGUE_NOUNS:
                out.append(Mention(COLOURS[word][0], f"{word} {words[i + 1]}", i, i + 2, toks[i][1], toks[i + 1][2],
                                   words[i + 1].endswith("s"), weak=True))
                i += 2
                continue
            i += 1
    return out


def _strip_plural(word: str) -> str | None:
    for suffix in ("ses", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] if suffix != "ses" else word[:-2]
    return None


def ground(phrase: str, embed: Callable[[list[str]], np.ndarray] | None = None, threshold: float = 0.55,
           candidates: list[str] | None = None) -> str | None:
    """The type or custom class a noun phrase names, or None.

    Table first (the last mention in the phrase wins: "the mug in the cabinet" is about the cabinet only when the
    caller passes that part); then, with ``embed`` (texts -> L2-normalised rows), the readable class name closest to
    the phrase by cosine similarity, if at least ``threshold``. ``candidates`` restricts the answer.
    """
    mentions = [m for m in find_mentions(phrase) if candidates is None or m.name in candidates]
    strong = [m for m in mentions if not m.weak]
    if strong:
        return strong[0].name
    if embed is not None:
        cleaned = " ".join(w for w, _, _ in tokens(phrase) if w not in _STOP)
        if cleaned:
            names, matrix = _class_matrix(embed, tuple(candidates) if candidates else None)
            query = np.asarray(embed([cleaned]), dtype=np.float32)[0]
            scores = matrix @ query
            best = int(np.argmax(scores))
            if scores[best] >= threshold:
                return names[best]
    if mentions:
        return mentions[0].name
    return None


_STOP = frozenset("the a an all every each some any of my your our this that these those please them it".split())
_CLASS_MATRICES: dict[tuple[int, tuple | None], tuple[list[str], np.ndarray]] = {}


def _class_matrix(embed, candidates: tuple | None) -> tuple[list[str], np.ndarray]:
    key = (id(embed), candidates)
    if key not in _CLASS_MATRICES:
        types, classes = vocabulary()
        names = sorted(candidates if candidates else (types | classes))
        _CLASS_MATRICES[key] = (names, np.asarray(embed([readable(n) for n in names]), dtype=np.float32))
    return _CLASS_MATRICES[key]


__all__ = ["COLOURS", "Mention", "SYNONYMS", "find_mentions", "ground", "is_known", "phrase_table", "plural_of",
           "readable", "tokens", "vocabulary"]
