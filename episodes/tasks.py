"""TEACh's task definitions: loading, checking, parameter substitution and composition of sub-tasks.

Follows ``alexa/teach`` ``src/teach/dataset/task_THOR.py`` (``load_tasks``, ``write_task_params``) and the Task
Definition Language of the TEACh paper (Padmakumar et al., AAAI 2022, appendix F). The definitions are TEACh's own
JSON files, copied to ``episodes/data/teach/task_definitions/`` (MIT licence beside them).

Composition as TEACh does it: a component naming ``task_name`` embeds that task, whose parameters are the
component's ``task_params`` after the parent's own ``#i`` values have been written into them. Substitution replaces
``#i`` by ``params[i]`` from the highest ``i`` down (so ``#13`` is not read as ``#1``); inside dicts a value that
becomes all digits turns into an int, except under the key ``determiner``; strings inside lists stay strings; a dict
key that changes moves to the end of its dict (TEACh deletes and re-inserts it).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from envs.jsonfile import JsonFileError, read_json

DEFINITIONS_DIR = Path(__file__).with_name("data") / "teach" / "task_definitions"

TASK_FAMILIES: dict[int, str] = {
    114: "Water Plant",
    102: "Coffee",
    112: "Boil X",
    106: "Plate Of Toast",
    115: "Clean All X",
    111: "Put All X In One Y",
    110: "Put All X On Y",
    107: "N Cooked Slices Of X In Y",
    108: "N Slices Of X In Y",
    303: "Salad",
    302: "Sandwich",
    301: "Breakfast",
}
"""The 12 task families of the TEACh dataset (task id -> task name); the other definitions are their sub-tasks."""



@dataclass(frozen=True)
class BreakfastParams:
    """Breakfast's 14 ``task_params`` by name: ``#0``..``#13`` of TEACh's ``301__breakfast.json``, in that order. Each
    served item has a count (0 or 1) and then the parameters of its sub-task; ``serving_spot`` is the receptacle type
    every item must end up on."""

    coffee: int = 0
    toast: int = 0
    potatoes: int = 0
    potato_dish: str = "Plate"
    apple: int = 0
    apple_dish: str = "Plate"
    sandwich: int = 0
    sandwich_lettuce: int = 0
    sandwich_tomato: int = 0
    salad: int = 0
    salad_lettuce: int = 0
    salad_tomato: int = 0
    salad_potato: int = 0
    serving_spot: str = "CounterTop"

    def to_params(self) -> list[str]:
        """The task_params list, as TEACh stores it (all strings)."""
        return [str(getattr(self, f.name)) for f in dataclasses.fields(self)]

    @classmethod
    def from_params(cls, params: list[str] | tuple) -> "BreakfastParams":
        fields = dataclasses.fields(cls)
        if len(params) != len(fields):
            raise TaskDefinitionError(f"Breakfast takes {len(fields)} params, got {len(params)}")
        return cls(**{f.name: int(value) if f.type == "int" else str(value) for f, value in zip(fields, params)})


_REQUIRED_KEYS = ("task_id", "task_name", "task_nparams", "task_anchor_object", "desc", "components", "relations")
_ATOMIC_KEYS = ("determiner", "primary_condition", "instance_shareable", "conditions", "condition_failure_descs")
_RELATION_KEYS = ("property", "tail_entity_list", "tail_determiner_list", "head_entity_list", "head_determiner_list")


class TaskDefinitionError(ValueError):
    """A task definition or instantiation that TEACh's loader would reject; names the file or task and field."""


@dataclass(frozen=True)
class TaskDefinition:
    """One task definition file, unsubstituted (``#i`` placeholders intact)."""

    task_id: int
    task_name: str
    task_nparams: int
    task_anchor_object: str | None
    desc: str
    components: dict
    relations: list
    source: str = ""

    @property
    def subtask_names(self) -> list[str]:
        return [c["task_name"] for c in self.components.values() if "task_name" in c]


@dataclass
class Task:
    """A task with its parameters written in and every sub-task resolved into ``component["task"]``."""

    task_id: int
    task_name: str
    task_params: list[str]
    task_anchor_object: str | None
    desc: str
    components: dict[str, dict]
    relations: list[dict]
    task_nparams: int = 0
    comments: str = ""

    def subtask(self, component_key: str) -> "Task":
        """The resolved sub-task of a task component."""
        return self.components[component_key]["task"]

    def to_record(self) -> dict:
        """The task as a game file stores it (TEACh ``Task_THOR.to_dict`` without episodes): sub-tasks nested under
        ``components[key]["task"]``."""
        components = {}
        for key, component in self.components.items():
            entry = {k: copy.deepcopy(v) for k, v in component.items() if k != "task"}
            if "task" in component:
                entry["task"] = component["task"].to_record()
                entry["task"]["episodes"] = []
            components[key] = entry
        return {
            "task_id": self.task_id,
            "task_name": self.task_name,
            "task_params": list(self.task_params),
            "task_nparams": self.task_nparams,
            "task_anchor_object": self.task_anchor_object,
            "desc": self.desc,
            "components": components,
            "relations": copy.deepcopy(self.relations),
            "comments": self.comments,
        }


# ---------------------------------------------------------------- substitution (TEACh write_task_params)


def substitute_params_in_str(text: str, params: list[str]) -> str:
    for i in range(len(params) - 1, -1, -1):
        text = text.replace(f"#{i}", params[i])
    return text


def _substitute_in_list(items: list, params: list[str]) -> list:
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(substitute_params_in_str(item, params))
        elif isinstance(item, list):
            out.append(_substitute_in_list(item, params))
        elif isinstance(item, dict):
            out.append(_substitute_in_dict(item, params))
        else:
            out.append(copy.deepcopy(item))
    return out


def _substitute_in_dict(record: dict, params: list[str]) -> dict:
    kept, moved = {}, {}
    for key, value in record.items():
        new_key = substitute_params_in_str(key, params) if isinstance(key, str) else key
        if isinstance(value, str):
            new_value: Any = substitute_params_in_str(value, params)
            # A filled-in simulator property value such as isToggled "#1" -> "1" must compare as TEACh's int 1/0.
            if new_value.isnumeric() and new_key != "determiner":
                new_value = int(new_value)
        elif isinstance(value, list):
            new_value = _substitute_in_list(value, params)
        elif isinstance(value, dict):
            new_value = _substitute_in_dict(value, params)
        else:
            new_value = copy.deepcopy(value)
        (kept if new_key == key else moved)[new_key] = new_value
    return {**kept, **moved}


# ---------------------------------------------------------------- the library


class TaskLibrary:
    """All task definitions, by id and by name, validated and with every sub-task reference resolvable."""

    def __init__(self, definitions: list[TaskDefinition]):
        self.by_id: dict[int, TaskDefinition] = {}
        self.by_name: dict[str, TaskDefinition] = {}
        for definition in definitions:
            if definition.task_id in self.by_id:
                raise TaskDefinitionError(f"{definition.source}: duplicate task_id {definition.task_id}")
            if definition.task_name in self.by_name:
                raise TaskDefinitionError(f"{definition.source}: duplicate task_name {definition.task_name!r}")
            self.by_id[definition.task_id] = definition
            self.by_name[definition.task_name] = definition
        for definition in definitions:
            for name in definition.subtask_names:
                if name not in self.by_name:
                    raise TaskDefinitionError(f"{definition.source}: component task_name {name!r} names no task")
        for definition in definitions:
            self._check_acyclic(definition, ())

    def _check_acyclic(self, definition: TaskDefinition, chain: tuple) -> None:
        if definition.task_name in chain:
            raise TaskDefinitionError(f"task {definition.task_name!r} contains itself: {' -> '.join(chain)}")
        for name in definition.subtask_names:
            self._check_acyclic(self.by_name[name], chain + (definition.task_name,))

    def get(self, task: int | str) -> TaskDefinition:
        table = self.by_id if isinstance(task, int) else self.by_name
        try:
            return table[task]
        except KeyError:
            raise KeyError(f"unknown TEACh task {task!r}; known: {sorted(self.by_name)}") from None

    def families(self) -> list[TaskDefinition]:
        return [self.by_id[i] for i in TASK_FAMILIES]

    def instantiate(self, task: int | str, params: list[str] | tuple = ()) -> Task:
        """The task with ``params`` written in and sub-tasks resolved, as TEACh's checker sees it."""
        definition = self.get(task)
        params = [str(p) for p in params]
        if len(params) != definition.task_nparams:
            raise TaskDefinitionError(f"task {definition.task_name!r} takes {definition.task_nparams} params "
                                      f"but got {len(params)}: {params}")
        components = _substitute_in_dict(definition.components, params)
        for key, component in components.items():
            if "task_name" in component:
                component["task"] = self.instantiate(component["task_name"], component.get("task_params", []))
        anchor = definition.task_anchor_object
        return Task(
            task_id=definition.task_id,
            task_name=definition.task_name,
            task_params=params,
            task_anchor_object=substitute_params_in_str(anchor, params) if anchor is not None else None,
            desc=substitute_params_in_str(definition.desc, params),
            components=components,
            relations=_substitute_in_list(definition.relations, params),
            task_nparams=definition.task_nparams,
        )


def parse_task_definition(data: Any, source: str) -> TaskDefinition:
    """Validate one task definition dict with TEACh's ``load_tasks`` rules plus the relation and determiner shapes the
    checker relies on."""
    if not isinstance(data, dict):
        raise TaskDefinitionError(f"{source}: a task definition must be a JSON object with keys {_REQUIRED_KEYS}")
    for key in _REQUIRED_KEYS:
        if key not in data:
            raise TaskDefinitionError(f"{source}: field {key!r}: missing")
    if not isinstance(data["components"], dict):
        raise TaskDefinitionError(f"{source}: field 'components': expected an object")
    for name, component in data["components"].items():
        if not isinstance(component, dict) or "determiner" not in component:
            raise TaskDefinitionError(f"{source}: field 'components.{name}': needs a 'determiner'")
        if "task_name" in component:
            if not isinstance(component.get("task_params", []), list):
                raise TaskDefinitionError(f"{source}: field 'components.{name}.task_params': expected a list")
            continue
        missing = [k for k in _ATOMIC_KEYS if k not in component]
        if missing:
            raise TaskDefinitionError(f"{source}: field 'components.{name}': missing {missing}")
        if component["primary_condition"] not in component["conditions"]:
            raise TaskDefinitionError(f"{source}: field 'components.{name}.primary_condition': "
                                      f"{component['primary_condition']!r} is not one of its conditions")
    if not isinstance(data["relations"], list):
        raise TaskDefinitionError(f"{source}: field 'relations': expected a list")
    for r, relation in enumerate(data["relations"]):
        missing = [k for k in _RELATION_KEYS if k not in relation]
        if missing:
            raise TaskDefinitionError(f"{source}: field 'relations[{r}]': missing {missing}")
        if len(relation["tail_entity_list"]) != 1:
            raise TaskDefinitionError(f"{source}: field 'relations[{r}].tail_entity_list': TEACh supports exactly "
                                      f"one tail entity")
        if len(relation["head_entity_list"]) != len(relation["head_determiner_list"]):
            raise TaskDefinitionError(f"{source}: field 'relations[{r}].head_determiner_list': one per head entity")
    return TaskDefinition(
        task_id=data["task_id"], task_name=data["task_name"], task_nparams=data["task_nparams"],
        task_anchor_object=data["task_anchor_object"], desc=data["desc"], components=data["components"],
        relations=data["relations"], source=source,
    )


@lru_cache(maxsize=4)
def load_task_library(directory: str | None = None) -> TaskLibrary:
    """Every ``*.json`` task definition under ``directory`` (default: TEACh's, shipped with this package)."""
    root = Path(directory) if directory else DEFINITIONS_DIR
    definitions = []
    for path in sorted(root.glob("*.json")):
        try:
            data = read_json(path)
        except JsonFileError as exc:
            raise TaskDefinitionError(str(exc)) from None
        definitions.append(parse_task_definition(data, str(path)))
    if not definitions:
        raise TaskDefinitionError(f"{root}: no task definition files (*.json)")
    return TaskLibrary(definitions)


def make_task(task: int | str, params: list[str] | tuple = ()) -> Task:
    """Shortcut: instantiate a task from TEACh's shipped definitions."""
    return load_task_library().instantiate(task, params)


def task_record(task: int | str, params: list[str] | tuple = ()) -> dict:
    """The game-file task record for a task and its params (input to :func:`episodes.formats.make_game`)."""
    return make_task(task, params).to_record()
