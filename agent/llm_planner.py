"""A language-model planner: a TEACh dialogue -> :class:`~agent.program.TaskIntent` by an OpenAI-compatible chat model.

HELPER (Sarch et al., 2023) parses a dialogue with a large language model whose prompt holds the few solved examples
most similar to the dialogue at hand, retrieved from a memory (retrieval-augmented prompting). This planner does the
same over this project's example library (``agent/data/planner_examples.json``, the one
:class:`agent.planner.RetrievalPlanner` votes with) but asks the model for a task *intent* rather than a program: one
of TEACh's twelve task families with its parameters, as TEACh's task definitions name them
(``episodes/data/teach/task_definitions``), plus where the dialogue said things are. :func:`agent.expand.expand` then
writes the program, so a model can never ask for a skill the executor lacks.

Off by default: it runs only with ``--planner llm`` and an endpoint (``--llm-url`` or ``AGENT_LLM_URL``).

Endpoint
--------
Any server speaking OpenAI's chat-completions API (vLLM, llama.cpp's server, Ollama, LM Studio, OpenAI itself).
``url`` is the API's base URL, with or without the version segment: ``http://localhost:8000/v1`` and
``http://localhost:8000`` both POST to ``http://localhost:8000/v1/chat/completions``. The rule: a URL already ending
in ``/chat/completions`` is used as it is; a URL whose path has a version segment (``/v1``, ``/v1beta/openai``) gets
``/chat/completions`` appended; any other gets ``/v1/chat/completions``. Configuration comes from the arguments, else
the environment: ``AGENT_LLM_URL``, ``AGENT_LLM_MODEL``, ``AGENT_LLM_API_KEY`` (sent as ``Authorization: Bearer``).
Only the standard library is used (``urllib.request``).

Reply handling
--------------
The first JSON object in the reply (a ```json fence is looked in first; ``<think>`` blocks are dropped) is validated
into a :class:`TaskIntent`: a known family, its number of parameters, counts that are whole numbers, ``in``/``on``
relations and object types of the AI2-THOR ontology (spelling normalised through :mod:`agent.lexicon`), and the
program must expand. An invalid reply is sent back once with the error appended; a second invalid reply, or a network
error or timeout, falls back to :class:`agent.planner.RetrievalPlanner` (``fallback=True``, the default), whose
intent then carries ``evidence[0] == "llm failed: <why>"``; with ``fallback=False`` an :class:`LLMPlannerError` is
raised instead.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from .expand import expand
from .program import FAMILY_NPARAMS, TASK_FAMILIES, Program, ProgramError, TaskIntent

ENV_URL = "AGENT_LLM_URL"
ENV_MODEL = "AGENT_LLM_MODEL"
ENV_API_KEY = "AGENT_LLM_API_KEY"

MAX_TOKENS = 400
"""Room for the JSON answer (a Breakfast intent with hints is about 150 tokens) and a little preamble."""

PARAM_MEANINGS: dict[str, list[str]] = {
    "Coffee": [],
    "Water Plant": [],
    "Plate Of Toast": [],
    "Boil X": ["object type to boil (Potato or Egg)"],
    "Clean All X": ["object type or TEACh class to rinse, every instance (e.g. Plate, Mug, Cookware, Dishware)"],
    "Put All X On Y": ["object type or class to move, every instance (e.g. Newspaper, RemoteControl)",
                       "'on' or 'in'", "receptacle type; any instance of it will do (e.g. Sofa, Drawer)"],
    "Put All X In One Y": ["object type or class to move, every instance",
                           "'on' or 'in'", "receptacle type; all of them in/on one and the same instance"],
    "N Cooked Slices Of X In Y": ["number of slices", "food to slice and cook (Potato)", "'on' or 'in'",
                                  "dish to serve them in/on (Plate or Bowl)"],
    "N Slices Of X In Y": ["number of slices", "food to slice (Tomato, Lettuce, Apple, Potato, Bread)",
                           "'on' or 'in'", "dish to serve them in/on (Plate or Bowl)"],
    "Salad": ["number of lettuce slices", "number of tomato slices", "number of cooked potato slices"],
    "Sandwich": ["number of lettuce slices", "number of tomato slices"],
    "Breakfast": ["number of coffees (0 or 1)", "number of plates of toast (0 or 1)",
                  "number of cooked potato dishes (0 or 1; two cooked potato slices)",
                  "dish for the potato (Plate)", "number of apple dishes (0 or 1; one apple slice)",
                  "dish for the apple (Plate)", "number of sandwiches (0 or 1)", "lettuce slices per sandwich",
                  "tomato slices per sandwich", "number of salads (0 or 1)", "lettuce slices per salad",
                  "tomato slices per salad", "cooked potato slices per salad",
                  "where every breakfast item is served (e.g. DiningTable, CounterTop)"],
}
"""What each family's parameters mean, in order (TEACh's task definitions: ``comments_task_params`` where they have
them, the ``desc`` placeholders otherwise)."""

_COUNT, _TYPE, _RELATION = "count", "type", "relation"
PARAM_KINDS: dict[str, list[str]] = {
    "Coffee": [], "Water Plant": [], "Plate Of Toast": [],
    "Boil X": [_TYPE], "Clean All X": [_TYPE],
    "Put All X On Y": [_TYPE, _RELATION, _TYPE], "Put All X In One Y": [_TYPE, _RELATION, _TYPE],
    "N Cooked Slices Of X In Y": [_COUNT, _TYPE, _RELATION, _TYPE],
    "N Slices Of X In Y": [_COUNT, _TYPE, _RELATION, _TYPE],
    "Salad": [_COUNT] * 3, "Sandwich": [_COUNT] * 2,
    "Breakfast": [_COUNT, _COUNT, _COUNT, _TYPE, _COUNT, _TYPE] + [_COUNT] * 7 + [_TYPE],
}

HINTS_DEMO = ('{"family": "N Slices Of X In Y", "params": ["2", "Tomato", "on", "Plate"], '
              '"hints": {"Tomato": ["Fridge"], "Knife": ["Drawer"]}}')


class LLMPlannerError(RuntimeError):
    """The language model could not be used (unreachable, bad answer) and no fallback was allowed."""


# ---------------------------------------------------------------- the endpoint


def chat_completions_url(url: str) -> str:
    """The chat-completions endpoint for a base ``url`` (module docstring, "Endpoint")."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"url: expected the chat-completions base URL (--llm-url or {ENV_URL}), got {url!r}")
    url = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url: expected an http(s) URL such as http://localhost:8000/v1 (--llm-url or {ENV_URL}), "
                         f"got {url!r}")
    if parts.path.endswith("/chat/completions"):
        return url
    if any(re.fullmatch(r"v\d+[a-z0-9]*", segment) for segment in parts.path.split("/")):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


# ---------------------------------------------------------------- dialogue and examples


def dialogue_turns(dialogue) -> list[tuple[str, str]]:
    """(speaker, utterance) pairs from TEACh's ``dialog_history`` shapes (the retrieval planner's reader, speakers
    other than Commander/Driver kept as written), utterances stripped."""
    from .planner import _normalise

    return [(speaker, text.strip()) for speaker, text in _normalise(dialogue, strict_speakers=False)]


def format_dialogue(turns: list[tuple[str, str]]) -> str:
    return "\n".join(f"{speaker}: {text}" for speaker, text in turns if text)


class ExampleRetriever:
    """The ``k`` library examples nearest a dialogue's Commander text (HELPER's example memory).

    With a :class:`~agent.planner.RetrievalPlanner` at hand its sentence encoder and its encoded library are reused
    (cosine similarity of L2-normalised MiniLM embeddings); without one, or with the planner on its TF-IDF fallback,
    :class:`agent.planner.TfidfRetriever` ranks the library. Ties keep the library's order, so retrieval is
    deterministic."""

    def __init__(self, examples: list[dict], encode=None, matrix=None):
        from .planner import TfidfRetriever

        if not examples:
            raise ValueError("examples: the example library is empty")
        self.examples = examples
        self.encode = encode if matrix is not None else None
        self.matrix = matrix
        self.tfidf = TfidfRetriever([e["text"].lower() for e in examples])

    @classmethod
    def from_planner(cls, planner) -> "ExampleRetriever":
        return cls(planner.examples, getattr(planner, "encode", None), getattr(planner, "matrix", None))

    def similarities(self, text: str):
        import numpy as np

        if self.encode is not None:
            query = np.asarray(self.encode([text.lower()]), dtype=np.float32)[0]
            return np.asarray(self.matrix, dtype=np.float32) @ query
        return self.tfidf.similarities(text.lower())

    def retrieve(self, turns: list[tuple[str, str]], k: int) -> list[tuple[dict, float]]:
        if k <= 0:
            return []
        text = " ".join(t for s, t in turns if s == "Commander" and t) or " ".join(t for _, t in turns)
        if not text.strip():
            return []
        sims = self.similarities(text)
        order = sorted(range(len(self.examples)), key=lambda j: (-float(sims[j]), j))[:k]
        return [(self.examples[j], float(sims[j])) for j in order]


# ---------------------------------------------------------------- the prompt


def _family_lines() -> list[str]:
    descriptions: dict[str, str] = {}
    try:
        from episodes.tasks import load_task_library

        library = load_task_library()
        descriptions = {name: library.get(name).desc for name in TASK_FAMILIES}
    except Exception:  # the descriptions only decorate the prompt; the parameter table below is self-contained
        descriptions = {}
    lines = []
    for family in TASK_FAMILIES:
        meanings = PARAM_MEANINGS[family]
        head = f'- "{family}" ({FAMILY_NPARAMS[family]} params)'
        if descriptions.get(family):
            head += f": {descriptions[family]}"
        lines.append(head)
        lines += [f"    #{i}: {meaning}" for i, meaning in enumerate(meanings)]
    return lines


def system_prompt(examples: list[tuple[dict, float]]) -> str:
    """The instructions, the twelve families with their parameters, the output schema and the retrieved examples."""
    lines = [
        "You read a dialogue between a Commander, who wants a household task done, and a Driver, a robot that does "
        "it (the TEACh benchmark). Decide which task the Commander wants and its parameters.",
        "",
        "Task families (TEACh task definitions; parameters in order, '#i' in the description is parameter i):",
        *_family_lines(),
        "",
        "Answer with exactly one JSON object and nothing else:",
        '{"family": <one family name above, spelled exactly>, "params": [<strings, as many as the family takes>], '
        '"hints": {<ObjectType>: [<receptacle types where the dialogue says it is, most recent first>]}}',
        "Rules: numbers are written as strings (\"2\"); object types are AI2-THOR types in CamelCase (Mug, Potato, "
        "DiningTable, CounterTop, SinkBasin, RemoteControl) or TEACh classes (Drinkware, Dishware, Cookware); "
        "relations are \"on\" or \"in\". When the dialogue does not say, use one slice, a Plate, Salad 1 lettuce and 1 "
        "tomato slice, Sandwich 1 and 1, Breakfast served on the DiningTable. Later corrections by the Commander "
        "override earlier statements. hints may be {}.",
        f"Example with hints: {HINTS_DEMO}",
    ]
    if examples:
        lines += ["", "Solved examples similar to this dialogue:"]
        for example, _ in examples:
            answer = {"family": example["family"], "params": list(example["params"]), "hints": {}}
            lines += ["", f"Commander: {example['text']}", f"Answer: {json.dumps(answer)}"]
    return "\n".join(lines)


# ---------------------------------------------------------------- reading the reply


def extract_json_object(text: str) -> dict:
    """The first JSON object in ``text``: inside a ```json (or bare ```) fence when there is one, else the first
    ``{...}`` that decodes; ``<think>...</think>`` reasoning is skipped."""
    if not isinstance(text, str) or not text.strip():
        raise ProgramError("reply: empty answer; expected one JSON object")
    text = re.sub(r"<think>.*?(</think>|$)", "", text, flags=re.S | re.I)
    candidates = [m.group(1) for m in re.finditer(r"```(?:json|JSON)?\s*\n?(.*?)```", text, flags=re.S)]
    candidates.append(text)
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for match in re.finditer(r"\{", candidate):
            try:
                value, _ = decoder.raw_decode(candidate, match.start())
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    raise ProgramError(f"reply: no JSON object found in {text[:200]!r}")


def _normalise_type(value: Any, field: str) -> str:
    from .lexicon import find_mentions, is_known, vocabulary

    name = str(value).strip()
    if name and is_known(name):
        return name
    types, classes = vocabulary()
    by_lower = {n.lower(): n for n in types | classes}
    squashed = re.sub(r"[\s_\-]", "", name).lower()
    if squashed in by_lower:
        return by_lower[squashed]
    mentions = find_mentions(name)
    if len(mentions) == 1:
        return mentions[0].name
    raise ProgramError(f"{field}: {name!r} is not an AI2-THOR object type or TEACh class (e.g. Mug, Potato, "
                       f"DiningTable, Drinkware)")


def _normalise_count(value: Any, field: str) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not re.fullmatch(r"\d+", text):
        raise ProgramError(f"{field}: expected a whole number written as a string, got {value!r}")
    return str(int(text))


def intent_from_answer(answer: dict) -> TaskIntent:
    """Validate a model's JSON answer into a :class:`TaskIntent` (raises :class:`ProgramError` naming the field)."""
    if not isinstance(answer, dict):
        raise ProgramError("reply: expected a JSON object with 'family', 'params' and 'hints'")
    family = answer.get("family")
    if not isinstance(family, str) or family.strip() not in TASK_FAMILIES:
        by_lower = {f.lower(): f for f in TASK_FAMILIES}
        if isinstance(family, str) and family.strip().lower() in by_lower:
            family = by_lower[family.strip().lower()]
        else:
            raise ProgramError(f"family: unknown task family {family!r}; expected one of {list(TASK_FAMILIES)}")
    family = family.strip()
    params = answer.get("params", [])
    if params is None:
        params = []
    if not isinstance(params, list):
        raise ProgramError(f"params: expected a list, got {type(params).__name__}")
    if len(params) != FAMILY_NPARAMS[family]:
        raise ProgramError(f"params: {family!r} takes {FAMILY_NPARAMS[family]} parameters "
                           f"({'; '.join(PARAM_MEANINGS[family]) or 'none'}), got {len(params)}: {params}")
    checked = []
    for i, (value, kind) in enumerate(zip(params, PARAM_KINDS[family])):
        field = f"params[{i}] ({PARAM_MEANINGS[family][i]})"
        if isinstance(value, (list, dict)) or value is None:
            raise ProgramError(f"{field}: expected a string, got {value!r}")
        if kind == _COUNT:
            checked.append(_normalise_count(value, field))
        elif kind == _RELATION:
            relation = str(value).strip().lower()
            if relation not in ("in", "on"):
                raise ProgramError(f"{field}: expected 'in' or 'on', got {value!r}")
            checked.append(relation)
        else:
            checked.append(_normalise_type(value, field))
    hints_in = answer.get("hints") or {}
    if not isinstance(hints_in, dict):
        raise ProgramError(f"hints: expected an object of type -> [receptacle types], got {type(hints_in).__name__}")
    hints: dict[str, list[str]] = {}
    for key, places in hints_in.items():
        if isinstance(places, str):
            places = [places]
        if not isinstance(places, list):
            raise ProgramError(f"hints[{key!r}]: expected a list of receptacle types, got {places!r}")
        try:
            subject = _normalise_type(key, f"hints[{key!r}]")
            normalised = [_normalise_type(p, f"hints[{key!r}]") for p in places]
        except ProgramError:
            continue  # hints are only search priors: an unknown name is dropped, not worth a retry
        hints[subject] = list(dict.fromkeys(p for p in normalised if p != subject))
    return TaskIntent(family=family, params=checked, hints={k: v for k, v in hints.items() if v})


# ---------------------------------------------------------------- the planner


class LLMPlanner:
    """Dialogue -> :class:`TaskIntent` -> :class:`Program` with an OpenAI-compatible chat model (module docstring).

    ``url``/``model``/``api_key`` default to ``AGENT_LLM_URL``/``AGENT_LLM_MODEL``/``AGENT_LLM_API_KEY``; a URL is
    required. ``model`` may be left unset for servers that serve one model (llama.cpp); the field is then omitted.
    ``examples`` is how many library examples are retrieved into the prompt; ``fallback`` lets the
    :class:`~agent.planner.RetrievalPlanner` answer when the model cannot. ``retrieval_planner`` is that planner
    (built lazily with ``encoder``, ``"minilm"`` by default, when not given); it also supplies the retrieval encoder.
    """

    def __init__(self, url: str | None = None, model: str | None = None, api_key: str | None = None,
                 timeout: float = 30.0, examples: int = 5, fallback: bool = True, *, retrieval_planner=None,
                 encoder="minilm", examples_path: str | Path | None = None, temperature: float = 0.0):
        url = url or os.environ.get(ENV_URL)
        if not url:
            raise ValueError(f"LLMPlanner: no endpoint; pass --llm-url (or set {ENV_URL}) to the base URL of an "
                             f"OpenAI-compatible chat-completions server, e.g. http://localhost:8000/v1")
        self.url = url
        self.endpoint = chat_completions_url(url)
        self.model = model or os.environ.get(ENV_MODEL) or None
        self.api_key = api_key or os.environ.get(ENV_API_KEY) or None
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout: expected seconds > 0, got {timeout!r}")
        if not isinstance(examples, int) or examples < 0:
            raise ValueError(f"examples: expected a count >= 0, got {examples!r}")
        self.timeout = float(timeout)
        self.k = examples
        self.fallback = bool(fallback)
        self.temperature = float(temperature)
        self.encoder = encoder
        self.examples_path = examples_path
        self._retrieval_planner = retrieval_planner
        self._retriever: ExampleRetriever | None = None
        self._retrieved: list[tuple[dict, float]] = []
        self.last_messages: list[dict] = []
        """The messages of the latest request (for reports and debugging)."""

    # ---- collaborators (lazy: the encoder takes a moment to load) ------------------------------------------------
    @property
    def retrieval_planner(self):
        if self._retrieval_planner is None:
            from .planner import RetrievalPlanner

            self._retrieval_planner = RetrievalPlanner(self.examples_path, encoder=self.encoder)
        return self._retrieval_planner

    @property
    def retriever(self) -> ExampleRetriever:
        if self._retriever is None:
            self._retriever = ExampleRetriever.from_planner(self.retrieval_planner)
        return self._retriever

    # ---- public API ----------------------------------------------------------------------------------------------
    def plan(self, dialogue) -> Program:
        return expand(self.parse(dialogue))

    def parse(self, dialogue) -> TaskIntent:
        turns = dialogue_turns(dialogue)
        if not any(text for _, text in turns):
            raise ValueError("dialogue: no utterance to parse (empty or only blank turns)")
        try:
            return self._ask(turns)
        except (LLMPlannerError, ProgramError) as error:
            reason = str(error)
            if not self.fallback:
                if isinstance(error, LLMPlannerError):
                    raise
                raise LLMPlannerError(f"LLM planner ({self.endpoint}): {reason}") from error
        intent = self.retrieval_planner.parse(dialogue)
        intent.evidence = [f"llm failed: {reason}"] + list(intent.evidence)
        return intent

    # ---- the exchange --------------------------------------------------------------------------------------------
    def messages(self, turns: list[tuple[str, str]]) -> list[dict]:
        examples = self.retriever.retrieve(turns, self.k) if self.k else []
        self._retrieved = examples
        return [{"role": "system", "content": system_prompt(examples)},
                {"role": "user", "content": format_dialogue(turns)}]

    def _ask(self, turns: list[tuple[str, str]]) -> TaskIntent:
        messages = self.messages(turns)
        error: ProgramError | None = None
        for attempt in range(2):
            self.last_messages = messages
            reply = self.complete(messages)
            try:
                intent = intent_from_answer(extract_json_object(reply))
                expand(intent)  # a recipe may still refuse the parameters (e.g. a count it cannot read)
            except ProgramError as bad:
                error = bad
                messages = messages + [
                    {"role": "assistant", "content": reply},
                    {"role": "user", "content": f"That answer is invalid: {bad}. Reply again with exactly one JSON "
                                                f"object {{\"family\", \"params\", \"hints\"}} and nothing else."}]
                continue
            intent.evidence = [f"llm:{self.model or 'default'}"] + (["llm-retry"] if attempt else []) + [
                f"example:{ex['id']}({sim:.2f})" for ex, sim in self._retrieved]
            return intent
        raise ProgramError(f"invalid answer twice; last error: {error}")

    def complete(self, messages: list[dict]) -> str:
        """One chat-completions request; the assistant message's text (raises :class:`LLMPlannerError`)."""
        body: dict[str, Any] = {"messages": messages, "temperature": self.temperature, "max_tokens": MAX_TOKENS,
                                "stream": False}
        if self.model:
            body["model"] = self.model
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.endpoint, data=json.dumps(body).encode("utf-8"), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode("utf-8", "replace") if error.fp else ""
            raise LLMPlannerError(f"{self.endpoint}: HTTP {error.code} {error.reason}"
                                  + (f": {detail}" if detail else "")) from None
        except urllib.error.URLError as error:
            raise LLMPlannerError(f"cannot reach {self.endpoint} ({error.reason}); check --llm-url / "
                                  f"{ENV_URL}") from None
        except TimeoutError:
            raise LLMPlannerError(f"{self.endpoint}: no answer within {self.timeout:g} s (timeout)") from None
        except OSError as error:  # connection reset and the like
            raise LLMPlannerError(f"{self.endpoint}: {error}") from None
        try:
            data = json.loads(raw)
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMPlannerError(f"{self.endpoint}: not a chat-completions response: {raw[:200]!r}") from None
        if not isinstance(content, str):
            raise LLMPlannerError(f"{self.endpoint}: choices[0].message.content is not text: {content!r}")
        return content


__all__ = ["ENV_API_KEY", "ENV_MODEL", "ENV_URL", "ExampleRetriever", "LLMPlanner", "LLMPlannerError",
           "PARAM_MEANINGS", "chat_completions_url", "extract_json_object", "intent_from_answer", "system_prompt"]
