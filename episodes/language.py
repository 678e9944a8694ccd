"""Words and typing for generated TEACh dialogues: names of object types, number words, dialogue acts, and how a
person types a sentence (casing, dropped punctuation, short forms, typos).

TEACh's chat is typed by crowd workers (Padmakumar et al., AAAI 2022, sec. 3): lower case, missing punctuation,
spelling slips ("potatoe", "knifes"), short forms. TEACh keeps the typed text in an utterance's ``utterance`` and a
spelling-corrected copy in ``corrected_utterance`` (``alexa/teach`` README at 903191e, "corrected_utterance"); this
module renders both from one list of segments, so the correction is exact by construction.

Every utterance is a list of :class:`Segment` (dialogue act, text); TEACh's ``da_metadata`` holds up to three such
segments as ``das`` / ``text_segments`` padded with "" (README, data notebook). The 18 act names are TEACh-DA's
(Gella et al., "Dialog Acts for Task-Driven Embodied Agents", SIGDIAL 2022, arXiv 2209.12953, table 1); the fact
sheet we build against does not list them, so their exact spelling in the release is UNVERIFIED here (they are spelt as
third-party readers of the release spell them, e.g. "Greetings/Salutations").

Names are per AI2-THOR object type (``envs.ontology``), never per scene: every type has its plain spoken name, and
common types have the other words people use for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

DIALOGUE_ACTS = ("Acknowledge", "Affirm", "AlternateQuestions", "Confirm", "Deny", "FeedbackNegative",
                 "FeedbackPositive", "Greetings/Salutations", "InformationOnObjectDetails", "InformationOther",
                 "Instruction", "MiscOther", "NotifyFailure", "OtherInterfaceComment", "RequestForInstruction",
                 "RequestForObjectLocationAndOtherDetails", "RequestMore", "RequestOtherInfo")
"""TEACh-DA's dialogue acts (SIGDIAL 2022, table 1)."""

MAX_SEGMENTS = 3
"""TEACh's ``da_metadata`` lists exactly three acts and three text segments, padded with ""."""

NAMES: dict[str, tuple[str, ...]] = {
    # kitchen
    "Mug": ("mug", "coffee mug"), "Cup": ("cup", "glass"), "Plate": ("plate", "dish", "dinner plate"),
    "Bowl": ("bowl",), "Pan": ("pan", "frying pan", "skillet"), "Pot": ("pot", "saucepan", "cooking pot"),
    "Kettle": ("kettle",), "Knife": ("knife", "kitchen knife", "big knife"), "ButterKnife": ("butter knife",),
    "Fork": ("fork",), "Spoon": ("spoon",), "Spatula": ("spatula",), "Ladle": ("ladle",),
    "SaltShaker": ("salt shaker", "salt"), "PepperShaker": ("pepper shaker", "pepper"),
    "Toaster": ("toaster",), "Microwave": ("microwave",), "Fridge": ("fridge", "refrigerator"),
    "CoffeeMachine": ("coffee maker", "coffee machine"), "StoveBurner": ("stove", "burner", "stove top"),
    "StoveKnob": ("stove knob", "knob"), "SinkBasin": ("sink", "kitchen sink", "basin"), "Sink": ("sink",),
    "Faucet": ("tap", "faucet"), "CounterTop": ("counter", "countertop", "kitchen counter", "worktop"),
    "Cabinet": ("cabinet", "cupboard"), "Drawer": ("drawer",), "GarbageCan": ("bin", "trash can", "garbage can"),
    "DishSponge": ("sponge", "dish sponge"), "PaperTowelRoll": ("paper towels", "paper towel roll"),
    "SoapBottle": ("soap bottle", "soap"), "SoapBar": ("soap bar", "bar of soap"),
    "SprayBottle": ("spray bottle",), "WineBottle": ("wine bottle", "bottle of wine"), "Bottle": ("bottle",),
    "DiningTable": ("table", "dining table", "kitchen table"), "Stool": ("stool",), "Chair": ("chair",),
    "Window": ("window",), "Shelf": ("shelf",), "ShelvingUnit": ("shelving unit", "shelves"),
    # food
    "Bread": ("bread", "loaf", "loaf of bread"), "BreadSliced": ("bread slice", "slice of bread", "piece of bread"),
    "Lettuce": ("lettuce", "head of lettuce"), "LettuceSliced": ("lettuce slice", "piece of lettuce"),
    "Tomato": ("tomato",), "TomatoSliced": ("tomato slice", "slice of tomato"),
    "Potato": ("potato", "spud"), "PotatoSliced": ("potato slice", "slice of potato"),
    "Apple": ("apple",), "AppleSliced": ("apple slice", "slice of apple"), "Egg": ("egg",),
    "EggCracked": ("cracked egg", "broken egg"),
    # plants
    "HousePlant": ("plant", "houseplant", "potted plant", "flower pot"), "WateringCan": ("watering can",),
    # living room, bedroom, bathroom
    "Sofa": ("sofa", "couch"), "ArmChair": ("armchair", "arm chair"), "CoffeeTable": ("coffee table",),
    "SideTable": ("side table", "end table"), "TVStand": ("tv stand", "tv table"), "Television": ("tv",
                                                                                                  "television"),
    "Desk": ("desk",), "Dresser": ("dresser", "chest of drawers"), "Bed": ("bed",), "Box": ("box", "cardboard box"),
    "RemoteControl": ("remote", "remote control", "tv remote"), "CellPhone": ("phone", "cell phone", "mobile"),
    "Laptop": ("laptop",), "Book": ("book",), "Newspaper": ("newspaper", "paper"), "KeyChain": ("keys", "key chain"),
    "CreditCard": ("credit card", "card"), "Pillow": ("pillow", "cushion"), "Watch": ("watch",),
    "Statue": ("statue", "figurine"), "Vase": ("vase",), "TissueBox": ("tissue box", "box of tissues"),
    "AlarmClock": ("alarm clock", "clock"), "Pen": ("pen",), "Pencil": ("pencil",), "CD": ("cd", "disc"),
    "Ottoman": ("ottoman", "footrest"), "Footstool": ("footstool",), "Candle": ("candle",),
    "Toilet": ("toilet",), "ToiletPaper": ("toilet paper", "toilet roll"), "Bathtub": ("bathtub", "tub"),
    "BathtubBasin": ("bathtub", "tub"), "HandTowel": ("hand towel",), "Towel": ("towel",), "Cloth": ("cloth", "rag"),
    "LaundryHamper": ("laundry hamper", "hamper", "laundry basket"), "Floor": ("floor",),
    "GarbageBag": ("garbage bag", "trash bag"), "FloorLamp": ("floor lamp", "lamp"), "DeskLamp": ("desk lamp", "lamp"),
    "Safe": ("safe",), "Tableware": ("tableware",), "Drinkware": ("drinkware",), "Dishware": ("dishes",),
    "Cookware": ("cookware",), "Silverware": ("silverware", "cutlery"), "SmallHandheldObjects": ("small items",),
}
"""Words people use for an AI2-THOR type (or TEACh class); the first is the plain one. Types not listed are said as
their CamelCase name split into lower-case words."""

MASS_NOUNS = {"bread", "lettuce", "toast", "toilet paper", "paper towels", "salt", "pepper", "soap", "keys",
              "shelves", "dishes", "tableware", "drinkware", "cookware", "silverware", "cutlery", "small items"}
IRREGULAR_PLURALS = {"knife": "knives", "potato": "potatoes", "tomato": "tomatoes", "shelf": "shelves",
                     "loaf": "loaves", "glass": "glasses", "dish": "dishes", "box": "boxes", "mobile": "mobiles"}
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def plain_name(object_type: str) -> str:
    """The plain spoken name of a type: ``CounterTop`` -> "counter", ``SprayBottle`` -> "spray bottle"."""
    if object_type in NAMES:
        return NAMES[object_type][0]
    return re.sub(r"(?<!^)(?=[A-Z])", " ", object_type).lower()


def names_of(object_type: str) -> tuple[str, ...]:
    """Every name of a type (the plain one first)."""
    return NAMES.get(object_type) or (plain_name(object_type),)


def all_names() -> set[str]:
    """Every object name any type can be called, for masking names out of utterances."""
    from envs.ontology import load_ontology

    names = {n for values in NAMES.values() for n in values}
    names |= {plain_name(t) for t in load_ontology().names}
    return names | {plural(n) for n in names}


def plural(noun: str) -> str:
    """English plural of a (possibly multi-word) noun: the last word changes ("butter knife" -> "butter knives")."""
    if noun in MASS_NOUNS:
        return noun
    for head in ("slice of ", "piece of ", "head of ", "loaf of ", "bar of ", "bottle of ", "box of ", "chest of "):
        if noun.startswith(head):
            return plural(head.split()[0]) + noun[len(head.split()[0]):]
    words = noun.split()
    last = words[-1]
    if last in IRREGULAR_PLURALS:
        last = IRREGULAR_PLURALS[last]
    elif last.endswith(("s", "sh", "ch", "x")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join(words[:-1] + [last])


def with_article(noun: str) -> str:
    if noun in MASS_NOUNS:
        return "some " + noun
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def number(n: int, rng: np.random.Generator, digit_rate: float = 0.35) -> str:
    """A count as people type it: a word, sometimes a digit."""
    if n not in NUMBER_WORDS or rng.random() < digit_rate:
        return str(n)
    return NUMBER_WORDS[n]


def join_list(items: list[str], rng: np.random.Generator) -> str:
    """'a, b and c' (sometimes with an Oxford comma, sometimes with '&' or 'plus')."""
    if len(items) == 1:
        return items[0]
    last_joint = [" and ", ", and ", " & ", " plus "][int(rng.choice(4, p=[0.6, 0.2, 0.1, 0.1]))]
    return ", ".join(items[:-1]) + last_joint + items[-1]


# ---------------------------------------------------------------- segments and typing


@dataclass(frozen=True)
class Segment:
    """One dialogue act and the text that carries it."""

    act: str
    text: str

    def __post_init__(self):
        if self.act not in DIALOGUE_ACTS:
            raise ValueError(f"unknown dialogue act {self.act!r}")


@dataclass(frozen=True)
class Typed:
    """An utterance as written into a game: the typed text, its spelling-corrected form, and TEACh's da_metadata."""

    utterance: str
    corrected: str
    das: list[str]
    text_segments: list[str]
    corrected_segments: list[str]

    def da_metadata(self) -> dict:
        """TEACh's ``da_metadata``: three acts and three text segments, padded with ""."""
        return {"das": list(self.das), "text_segments": list(self.text_segments)}


KEYBOARD_NEIGHBOURS = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry",
    "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x"}
SHORT_FORMS = {"please": ("pls", "plz"), "you": ("u",), "okay": ("ok", "k"), "thanks": ("thx", "ty"),
               "are": ("r",), "going to": ("gonna",), "want to": ("wanna",), "because": ("cuz",),
               "thank you": ("ty", "thank u")}


@dataclass(frozen=True)
class TypingStyle:
    """How one person types in one game (each game draws a style per speaker, so games differ from each other
    while a speaker stays consistent within a game)."""

    lower: float  # chance an utterance is all lower case
    capitalise: float  # chance the first letter is capitalised (when not all lower case)
    drop_end_punctuation: float
    typo_per_word: float
    short_forms: float
    exclaim: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "TypingStyle":
        careful = rng.random() < 0.35
        return cls(lower=float(rng.uniform(0.05, 0.3) if careful else rng.uniform(0.5, 0.95)),
                   capitalise=float(rng.uniform(0.7, 1.0) if careful else rng.uniform(0.1, 0.5)),
                   drop_end_punctuation=float(rng.uniform(0.0, 0.3) if careful else rng.uniform(0.4, 0.9)),
                   typo_per_word=float(rng.uniform(0.0, 0.01) if careful else rng.uniform(0.01, 0.045)),
                   short_forms=float(rng.uniform(0.0, 0.1) if careful else rng.uniform(0.1, 0.5)),
                   exclaim=float(rng.uniform(0.0, 0.3)))


def typo(word: str, rng: np.random.Generator) -> str:
    """One slip of the fingers: two letters swapped, one dropped, one doubled, or a neighbouring key hit."""
    if len(word) < 4 or not word.isalpha():
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(4))
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    near = KEYBOARD_NEIGHBOURS.get(word[i].lower(), word[i])
    return word[:i] + near[int(rng.integers(len(near)))] + word[i + 1:]


def _short_forms(text: str, style: TypingStyle, rng: np.random.Generator) -> str:
    for long, shorts in SHORT_FORMS.items():
        pattern = rf"\b{long}\b"
        if re.search(pattern, text) and rng.random() < style.short_forms:
            text = re.sub(pattern, shorts[int(rng.integers(len(shorts)))], text, count=1)
    return text


def _misspell(text: str, style: TypingStyle, rng: np.random.Generator) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        core = word.strip(".,!?:;")
        if core and rng.random() < style.typo_per_word:
            words[i] = word.replace(core, typo(core, rng), 1)
    return " ".join(words)


def _case_and_punctuate(text: str, style: TypingStyle, rng: np.random.Generator, lower: bool, last: bool) -> str:
    if lower:
        text = text.lower()
    elif rng.random() < style.capitalise:
        text = text[:1].upper() + text[1:]
    text = re.sub(r"\bi\b", "I", text) if not lower else text
    if last and text and text[-1] in ".!" and rng.random() < style.drop_end_punctuation:
        text = text[:-1]
    return text


def render(segments: list[Segment], style: TypingStyle, rng: np.random.Generator) -> Typed:
    """Type ``segments`` in ``style``: short forms, typos, casing and punctuation. The corrected utterance is the
    same text with the typos undone (short forms and casing stay: they are how the person writes, not slips)."""
    if not 1 <= len(segments) <= MAX_SEGMENTS:
        raise ValueError(f"an utterance has 1 to {MAX_SEGMENTS} segments, got {len(segments)}")
    lower = rng.random() < style.lower
    typed, corrected = [], []
    for k, segment in enumerate(segments):
        text = _short_forms(segment.text.strip(), style, rng)
        if text.endswith(".") and rng.random() < style.exclaim:
            text = text[:-1] + "!"
        text = _case_and_punctuate(text, style, rng, lower, last=k == len(segments) - 1)
        corrected.append(text)
        typed.append(_misspell(text, style, rng))
    pad = [""] * (MAX_SEGMENTS - len(segments))
    return Typed(" ".join(typed), " ".join(corrected), [s.act for s in segments] + pad, typed + pad, corrected + pad)


# ---------------------------------------------------------------- measuring language


def mask_utterance(text: str, names: set[str] | None = None) -> str:
    """An utterance with object names and numbers masked ("put 2 mugs in the sink" -> "put NUM OBJ in the OBJ"),
    lower-cased and without punctuation: what counts as its template when measuring how varied a dialogue set is."""
    names = all_names() if names is None else names
    text = " " + re.sub(r"[^a-z0-9' ]+", " ", text.lower()) + " "
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(f" {name} ", " OBJ ")
        text = text.replace(f" {name} ", " OBJ ")  # neighbours share a space: a second pass catches "OBJ OBJ"
    text = re.sub(r"\b\d+\b", "NUM", text)
    for word in NUMBER_WORDS.values():
        text = re.sub(rf"\b{word}\b", "NUM", text)
    return " ".join(text.split())


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())


__all__ = ["DIALOGUE_ACTS", "MAX_SEGMENTS", "NAMES", "Segment", "Typed", "TypingStyle", "all_names", "join_list",
           "mask_utterance", "names_of", "number", "plain_name", "plural", "render", "with_article", "words_of"]
