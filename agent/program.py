"""Programs: what the planner makes of a dialogue and what the executor runs (DESIGN.md, "Program").

A :class:`TaskIntent` is what the planner understood: one of TEACh's twelve task families with its parameters, as
TEACh's task definitions name them (``Coffee``; ``N Slices Of X In Y`` with ``["2", "Tomato", "on", "Plate"]``), and
the places the dialogue said things are (``{"Mug": ["Cabinet"]}``), kept as search priors. :func:`agent.expand.expand`
turns an intent into a :class:`Program`: a list of :class:`SkillCall` with object-type arguments, in the spirit of
HELPER's programs over a skill library (Sarch et al., 2023), JSON-serialisable so ``python -m agent.plan`` prints it.

Skills and their arguments (every ``object``/``target`` is an AI2-THOR object type, or a TEACh custom class such as
``Drinkware`` that the executor expands into its member types):

- ``pickup(object, not_in?)``: have an ``object`` in hand (one not in/on a ``not_in`` type when given);
- ``place(target)``: put what is held in/on ``target`` (opening it first if it is shut);
- ``put_down()``: put what is held on a free counter or table;
- ``open(object)``, ``close(object)``, ``toggle_on(object)``, ``toggle_off(object)``;
- ``slice(object)``: with a knife, cut ``object`` (fetching the knife and putting it back down);
- ``pour(target)``: pour what is held into ``target``;
- ``clean(object)``: rinse ``object`` under the tap (in hand afterwards, water poured out);
- ``fill(object)``: fill ``object`` with water at the sink (in hand afterwards);
- ``empty(object)``: pour out what ``object`` holds, into the sink;
- ``cook_on_stove(object, vessel)``: ``object`` cooked in a ``vessel`` (Pan or Pot) on a lit burner;
- ``toast(object)``: ``object`` (a bread slice) toasted in the toaster, in hand afterwards;
- ``boil(object)``: ``object`` in a pot of water on a lit burner;
- ``serve(object, target, count, not_in?)``: ``count`` instances of ``object`` moved in/on one ``target``;
- ``put_all(object, target, single)``: every ``object`` in/on a ``target`` (one and the same when ``single``);
- ``clean_all(object)``: every ``object`` rinsed;
- ``stop()``: end the episode.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

SKILLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (required args, optional args)
    "pickup": (("object",), ("not_in", "prefer")),
    "place": (("target",), ()),
    "put_down": ((), ()),
    "open": (("object",), ()),
    "close": (("object",), ()),
    "toggle_on": (("object",), ()),
    "toggle_off": (("object",), ()),
    "slice": (("object",), ()),
    "pour": (("target",), ()),
    "clean": (("object",), ("not_in",)),
    "fill": (("object",), ()),
    "empty": (("object",), ()),
    "cook_on_stove": (("object", "vessel"), ("count", "not_in")),
    "toast": (("object",), ("not_in",)),
    "boil": (("object",), ()),
    "serve": (("object", "target", "count"), ("not_in", "prefer")),
    "put_all": (("object", "target", "single"), ()),
    "clean_all": (("object",), ()),
    "stop": ((), ()),
}
"""The skill vocabulary: name -> (required argument names, optional argument names)."""

TASK_FAMILIES = ("Coffee", "Water Plant", "Boil X", "Plate Of Toast", "Clean All X", "Put All X In One Y",
                 "Put All X On Y", "N Cooked Slices Of X In Y", "N Slices Of X In Y", "Salad", "Sandwich",
                 "Breakfast")
"""TEACh's twelve dataset task families, by their task names (``episodes.tasks.TASK_FAMILIES``)."""

FAMILY_NPARAMS = {"Coffee": 0, "Water Plant": 0, "Boil X": 1, "Plate Of Toast": 0, "Clean All X": 1,
                  "Put All X In One Y": 3, "Put All X On Y": 3, "N Cooked Slices Of X In Y": 4,
                  "N Slices Of X In Y": 4, "Salad": 3, "Sandwich": 2, "Breakfast": 14}
"""How many parameters each family's TEACh definition takes (``task_nparams``)."""


class ProgramError(ValueError):
    """A program or intent that does not fit the skill vocabulary or the task families; names the field."""


@dataclass
class TaskIntent:
    """What the planner understood from the dialogue."""

    family: str
    params: list[str] = field(default_factory=list)
    hints: dict[str, list[str]] = field(default_factory=dict)
    """Object type -> receptacle types the dialogue placed it in/on, most recent first (search priors)."""
    landmarks: dict[str, dict[str, str]] = field(default_factory=dict)
    """Object type -> {receptacle type: landmark type} where the dialogue placed the receptacle by a landmark ("the
    pot is in the cabinet below the sink" -> {"Pot": {"Cabinet": "Sink"}}): of several such receptacles, search the
    one nearest the landmark first."""
    score: float = 0.0
    """The planner's confidence in ``family`` (retrieval similarity), for reports."""
    evidence: list[str] = field(default_factory=list)
    """Why: retrieved example ids, matched phrases (for reports and debugging)."""

    def __post_init__(self) -> None:
        if self.family not in TASK_FAMILIES:
            raise ProgramError(f"TaskIntent.family: unknown task family {self.family!r}; expected one of "
                               f"{TASK_FAMILIES}")
        if len(self.params) != FAMILY_NPARAMS[self.family]:
            raise ProgramError(f"TaskIntent.params: {self.family!r} takes {FAMILY_NPARAMS[self.family]} parameters, "
                               f"got {len(self.params)}: {self.params}")
        self.params = [str(p) for p in self.params]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "TaskIntent":
        if not isinstance(data, dict) or "family" not in data:
            raise ProgramError("TaskIntent: expected an object with a 'family' field")
        return cls(family=data["family"], params=list(data.get("params") or []),
                   hints={str(k): list(v) for k, v in (data.get("hints") or {}).items()},
                   landmarks={str(k): {str(r): str(l) for r, l in dict(v).items()}
                              for k, v in (data.get("landmarks") or {}).items()},
                   score=float(data.get("score", 0.0)), evidence=list(data.get("evidence") or []))


@dataclass
class SkillCall:
    skill: str
    args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.skill not in SKILLS:
            raise ProgramError(f"skill: unknown skill {self.skill!r}; expected one of {sorted(SKILLS)}")
        required, optional = SKILLS[self.skill]
        missing = [a for a in required if a not in self.args]
        if missing:
            raise ProgramError(f"{self.skill}: missing argument(s) {missing}")
        extra = [a for a in self.args if a not in required and a not in optional]
        if extra:
            raise ProgramError(f"{self.skill}: unknown argument(s) {extra}; takes {list(required + optional)}")

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.skill}({inner})"


@dataclass
class Program:
    steps: list[SkillCall]
    intent: TaskIntent | None = None

    def to_json(self) -> dict:
        return {"intent": self.intent.to_json() if self.intent else None,
                "steps": [{"skill": s.skill, "args": dict(s.args)} for s in self.steps]}

    def dumps(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_json(), indent=indent)

    @classmethod
    def from_json(cls, data: dict) -> "Program":
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
            raise ProgramError("Program: expected an object with a 'steps' list")
        steps = []
        for n, step in enumerate(data["steps"]):
            if not isinstance(step, dict) or "skill" not in step:
                raise ProgramError(f"steps[{n}]: expected an object with 'skill' and 'args'")
            try:
                steps.append(SkillCall(step["skill"], dict(step.get("args") or {})))
            except ProgramError as error:
                raise ProgramError(f"steps[{n}].{error}") from None
        intent = TaskIntent.from_json(data["intent"]) if data.get("intent") else None
        return cls(steps, intent)

    def __str__(self) -> str:
        return "\n".join(str(s) for s in self.steps)


__all__ = ["FAMILY_NPARAMS", "Program", "ProgramError", "SKILLS", "SkillCall", "TASK_FAMILIES", "TaskIntent"]
