"""TEACh's goal-condition checker: success, goal conditions satisfied and total, from a list of object dicts.

A re-implementation of ``alexa/teach`` ``src/teach/dataset/task_THOR.py`` (``check_episode_progress``,
``check_component_n_instances``, ``check_component_all_instances``, ``check_relation``, ``obj_satisfies_props``,
``get_parent_receptacles``) and ``src/teach/utils.py:create_task_thor_from_state_diff`` (the EDH check task), both at
903191e, with their counting rules, quirks included:

- relation counts with tail determiner "a" are not capped; "all" components that succeed without steps add nothing;
- the "Sliced" rule: a whole object that could be sliced into the primary type sets the instances to check to 1;
- EDH components count one condition per (type, property, value) and a determiner that is an int.

It reads AI2-THOR object metadata dicts (``event.metadata["objects"]`` or a saved state's ``objects``) with TEACh's
``simbot*`` custom properties merged in, so it works on both backends. Deliberate differences, each only where
TEACh would crash: a parent id that names no object matches nothing (TEACh raises TypeError); a
``simbotLastParentReceptacle`` cycle stops (TEACh recurses forever); a task component whose sub-task has no anchor
offers no objects to relations (TEACh adds None to a list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from envs.simbot import object_classes as teach_object_classes

from .tasks import Task, TaskDefinitionError, _substitute_in_dict, make_task

_BASIN_TWINS = {"Sink": "SinkBasin", "SinkBasin": "Sink", "Bathtub": "BathtubBasin", "BathtubBasin": "Bathtub"}

EDH_CHECKED_PROPERTIES = (
    "isToggled", "isBroken", "isFilledWithLiquid", "isDirty", "isUsedUp", "isCooked", "isOpen", "isPickedUp",
    "objectType", "simbotLastParentReceptacle", "simbotIsCooked", "simbotIsFilledWithWater", "simbotIsBoiled",
    "simbotIsFilledWithCoffee", "simbotPickedUp",
)
"""State-change properties an EDH check task is built from (TEACh ``create_task_thor_from_state_diff``)."""

EDH_PROPERTY_OVERRIDES = {
    "simbotPickedUp": ("isPickedUp",),
    "simbotIsCooked": ("isCooked",),
    "simbotIsFilledWithWater": ("isFilledWithLiquid",),
    "simbotIsFilledWithCoffee": ("isFilledWithLiquid",),
    "simbotIsBoiled": ("isCooked", "simbotIsCooked"),
}
"""A changed custom property drops the AI2-THOR property it duplicates, so one change is not counted twice."""


# ---------------------------------------------------------------- objects


def prepare_objects(objects: Iterable[dict], custom_object_metadata: dict | None = None) -> list[dict]:
    """Copies of ``objects`` with ``custom_object_metadata`` merged in (TEACh ``update_objs_with_custom_metadata``) and
    ``simbotObjectClass`` filled in where missing, as TEACh's simulator always provides it."""
    custom = custom_object_metadata or {}
    prepared = []
    for obj in objects:
        merged = dict(obj)
        merged.update(custom.get(obj["objectId"], {}))
        if "simbotObjectClass" not in merged:
            merged["simbotObjectClass"] = teach_object_classes(merged["objectType"])
        prepared.append(merged)
    return prepared


def state_objects(state: dict) -> list[dict]:
    """The checkable objects of a saved TEACh state (``initial_state`` / ``final_state``)."""
    return prepare_objects(state.get("objects", []), state.get("custom_object_metadata"))


def object_type_from_id(object_id: str) -> str:
    """TEACh ``get_obj_type_from_oid``: the first field of ``Type|x|y|z``, else the last field up to "_"
    (``Bread|..|BreadSliced_1`` -> ``BreadSliced``)."""
    parts = object_id.split("|")
    return parts[0] if len(parts) == 4 else parts[-1].split("_")[0]


def type_matches(object_type: str, wanted: object) -> bool:
    """Equality, with Sink = SinkBasin and Bathtub = BathtubBasin (TEACh ``check_object_type``)."""
    return object_type == wanted or _BASIN_TWINS.get(object_type) == wanted


class _Scene:
    """Objects with a first-occurrence id index, as TEACh's ``get_obj_by_id`` scans them."""

    def __init__(self, objects: list[dict], distance: Callable[[dict], float] | None):
        self.objects = objects
        self.by_id: dict[str, dict] = {}
        for obj in objects:
            self.by_id.setdefault(obj["objectId"], obj)
        self.distance = distance

    def get(self, object_id) -> dict | None:
        return self.by_id.get(object_id) if isinstance(object_id, str) else None

    def parent_receptacles(self, obj: dict, _seen: frozenset = frozenset()) -> list[str] | None:
        """AI2-THOR's ``parentReceptacles`` when not null, else the ``simbotLastParentReceptacle`` followed by that
        parent's own parent receptacles (found the same way)."""
        if obj.get("parentReceptacles") is not None:
            return obj["parentReceptacles"]
        parent_id = obj.get("simbotLastParentReceptacle")
        seen = _seen | {obj["objectId"]}
        if parent_id is None or parent_id in seen:
            return None
        chain = [parent_id]
        parent = self.get(parent_id)
        if parent is not None:
            chain += self.parent_receptacles(parent, seen) or []
        return chain

    def is_of(self, obj: dict | None, wanted: object) -> bool:
        """``obj`` has type ``wanted`` or lists it among its ``simbotObjectClass``."""
        if obj is None:
            return False
        return type_matches(obj["objectType"], wanted) or wanted in obj.get("simbotObjectClass", ())


def satisfied_conditions(obj: dict, conditions: dict, scene: _Scene) -> dict[str, bool]:
    """One bool per condition (TEACh ``obj_satisfies_props``): a missing property fails; objectType matches basin
    twins; receptacle conditions match the parent's type or class; int 1/0 (not bool) compares truthiness; a list
    property tests membership; anything else equality."""
    result = {}
    for prop, wanted in conditions.items():
        if prop not in obj:
            result[prop] = False
        elif prop == "objectType":
            result[prop] = type_matches(obj["objectType"], wanted)
        elif prop == "simbotLastParentReceptacle" and wanted is not None:
            result[prop] = scene.is_of(scene.get(obj[prop]), wanted)
        elif prop == "parentReceptacles":
            parents = scene.parent_receptacles(obj) or []
            result[prop] = any(scene.is_of(scene.get(p), wanted) for p in parents)
        elif type(wanted) is int and wanted in (0, 1):
            result[prop] = bool(obj[prop]) == bool(wanted)
        elif isinstance(obj[prop], list):
            result[prop] = wanted in obj[prop]
        else:
            result[prop] = wanted == obj[prop]
    return result


# ---------------------------------------------------------------- results


@dataclass
class SubgoalStatus:
    """One component or relation of a task: its goal conditions and the objects behind them.

    ``problems`` maps an object id to the conditions it still fails (for a relation: the relation property), for the
    objects TEACh would report as problems; ``subtask`` is the sub-task's own status for task components.
    """

    key: str
    kind: str
    success: bool
    goal_conditions_total: int
    goal_conditions_satisfied: int
    satisfied_objects: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)
    subtask: "TaskStatus | None" = None


@dataclass
class TaskStatus:
    """TEACh ``check_episode_progress`` output: success, goal-condition counts and the subgoals they sum over."""

    task_name: str
    description: str
    success: bool
    goal_conditions_total: int
    goal_conditions_satisfied: int
    subgoals: list[SubgoalStatus]
    satisfied_objects: list[dict] | None = None
    candidate_objects: list[dict] | None = None

    def component(self, key: str) -> SubgoalStatus:
        for subgoal in self.subgoals:
            if subgoal.key == key:
                return subgoal
        raise KeyError(f"no subgoal {key!r}; subgoals: {[s.key for s in self.subgoals]}")


@dataclass
class _ComponentResult:
    success: bool
    total: int
    satisfied_count: int
    satisfied: list[dict]
    candidates: list[dict]
    problems: dict[str, list[str]]
    has_steps: bool = True


# ---------------------------------------------------------------- components


def _check_n_instances(scene: _Scene, component: dict, n: int) -> _ComponentResult:
    """TEACh ``check_component_n_instances`` (progress check: no state change allowed)."""
    if component["instance_shareable"]:
        n = 1
    conditions = component["conditions"]
    primary = component["primary_condition"]
    primary_value = conditions[primary]
    to_check = n
    success = False
    satisfied: list[dict] = []
    ranked: list[tuple[int, float, int, dict, dict]] = []
    for order, obj in enumerate(scene.objects):
        sat = satisfied_conditions(obj, conditions, scene)
        if all(sat.values()):
            satisfied.append(obj)
            if len(satisfied) >= n:
                success = True
            continue
        if success:
            continue
        base_matches = isinstance(primary_value, str) and any(
            suffix in primary_value and obj.get(primary) == primary_value.replace(suffix, "")
            for suffix in ("Sliced", "Cracked"))
        if not (sat[primary] or base_matches):
            continue
        others_hold = all(v for k, v in sat.items() if k != primary)
        if others_hold and isinstance(primary_value, str) and "Sliced" in primary_value:
            # One whole object can be sliced into many pieces, so TEACh then asks for a single instance.
            to_check = 1
        distance = scene.distance(obj) if scene.distance else 0.0
        ranked.append((-sum(sat.values()), distance, order, obj, sat))
    ranked.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
    needed = max(0, to_check - len(satisfied))
    problem_entries = ranked[: min(len(ranked), needed)]
    per_object = len(conditions)
    satisfied_count = per_object * min(n, len(satisfied)) + sum(-entry[0] for entry in problem_entries)
    problems = {e[3]["objectId"]: [k for k, v in e[4].items() if not v] for e in problem_entries}
    return _ComponentResult(success, per_object * n, satisfied_count, satisfied, [e[3] for e in ranked], problems)


def _check_all_instances(scene: _Scene, component: dict) -> _ComponentResult:
    """TEACh ``check_component_all_instances``: every object meeting the primary condition must meet the rest."""
    conditions = component["conditions"]
    primary = component["primary_condition"]
    satisfied, problem_entries = [], []
    for obj in scene.objects:
        sat = satisfied_conditions(obj, conditions, scene)
        if not sat[primary]:
            continue
        if all(sat.values()):
            satisfied.append(obj)
        else:
            problem_entries.append((obj, sat))
    per_object = len(conditions)
    satisfied_count = per_object * len(satisfied) + sum(sum(s.values()) for _, s in problem_entries)
    success = not problem_entries
    failure_keys = component.get("condition_failure_descs", {})
    # TEACh reports a step per described condition: a failure step for problem objects, else a success step when
    # something satisfies it; a succeeding "all" component only counts when it has such steps.
    has_steps = bool(failure_keys) and bool(satisfied or problem_entries)
    return _ComponentResult(
        success, per_object * (len(satisfied) + len(problem_entries)), satisfied_count, satisfied,
        [obj for obj, _ in problem_entries],
        {obj["objectId"]: [k for k, v in s.items() if not v] for obj, s in problem_entries}, has_steps)


# ---------------------------------------------------------------- relations


def _entity_objects(entity: str, satisfied: dict, candidates: dict) -> list[dict]:
    return list(satisfied.get(entity) or []) + list(candidates.get(entity) or [])


def _partition(objects: list[dict], holds: Callable[[dict], bool]) -> tuple[list[dict], list[dict]]:
    ok, bad = [], []
    for obj in objects:
        (ok if holds(obj) else bad).append(obj)
    return ok, bad


def _check_relation(scene: _Scene, relation: dict, satisfied: dict, candidates: dict, m: int) -> _ComponentResult:
    """TEACh ``check_relation`` for one tail entity: tail "a" (any tail object) or "the" (one tail object per task
    instance holds all heads)."""
    prop = relation["property"]
    heads = [(_entity_objects(entity, satisfied, candidates), determiner)
             for entity, determiner in zip(relation["head_entity_list"], relation["head_determiner_list"])]
    total = sum(m * (1 if determiner == "a" else len(objects) if determiner == "all" else int(determiner))
                for objects, determiner in heads)
    tails = _entity_objects(relation["tail_entity_list"][0], satisfied, candidates)
    if not tails:
        return _ComponentResult(False, total, 0, [], [], {})

    def holders(head: dict) -> list:
        values = scene.parent_receptacles(head) if prop == "parentReceptacles" else head.get(prop)
        return values or []

    heads = [(objects, determiner) for objects, determiner in heads if determiner != "0"]
    tail_determiner = relation["tail_determiner_list"][0]
    if tail_determiner == "a":
        return _any_tail_holds_the_heads(prop, heads, {t["objectId"] for t in tails}, holders, total, m)
    if tail_determiner != "the":
        raise TaskDefinitionError(f"tail determiner {tail_determiner!r} is not 'a' or 'the'")
    return _one_tail_holds_all_heads(prop, heads, tails, holders, total, m)


def _any_tail_holds_the_heads(prop: str, heads: list, tail_ids: set, holders: Callable, total: int,
                              m: int) -> _ComponentResult:
    """Tail determiner "a": each head object counts when any tail object holds it."""
    success, count, held, problems = True, 0, [], {}
    for objects, determiner in heads:
        ok, bad = _partition(objects, lambda h: any(v in tail_ids for v in holders(h)))
        count += len(ok)
        held += ok
        needed = len(ok) + len(bad) if determiner == "all" else m * (1 if determiner == "a" else int(determiner))
        if (determiner == "all" and bad) or len(ok) < needed:
            success = False
            for h in bad[: max(0, needed - len(ok))]:
                problems.setdefault(h["objectId"], []).append(prop)
    return _ComponentResult(success, total, count, held, [], problems)


def _one_tail_holds_all_heads(prop: str, heads: list, tails: list, holders: Callable, total: int,
                              m: int) -> _ComponentResult:
    """Tail determiner "the": ``m`` tail objects must each hold all the heads; the tails that come closest count
    towards the goal conditions and name the problems."""
    satisfied_tails, ranked_tails = [], []
    for tail in tails:
        status = _tail_status(tail, heads, holders)
        if all(h["success"] for h in status["heads"]):
            satisfied_tails.append(status)
            if len(satisfied_tails) >= m:
                break
            continue
        position = next((i for i, other in enumerate(ranked_tails)
                         if status["n_heads"] > other["n_heads"] or status["n_instances"] > other["n_instances"]),
                        len(ranked_tails))
        ranked_tails.insert(position, status)
        del ranked_tails[max(0, m - len(satisfied_tails)):]
    count = sum(h["gc"] for status in satisfied_tails[:m] for h in status["heads"])
    held = [obj for status in satisfied_tails for h in status["heads"] for obj in h["ok"]]
    problems: dict[str, list[str]] = {}
    for status in ranked_tails[: max(0, m - len(satisfied_tails))]:
        for h in status["heads"]:
            count += h["gc"]
            for obj in h["bad"][: max(0, h["needed"] - len(h["ok"]))]:
                problems.setdefault(obj["objectId"], []).append(prop)
    return _ComponentResult(len(satisfied_tails) >= m, total, count, held, [], problems)


def _tail_status(tail: dict, heads: list, holders: Callable) -> dict:
    """How far one tail object is from holding every head: per head the objects it holds and lacks."""
    per_head = []
    for objects, determiner in heads:
        ok, bad = _partition(objects, lambda h: tail["objectId"] in holders(h))
        needed = len(objects) if determiner == "all" else 1 if determiner == "a" else int(determiner)
        per_head.append({"ok": ok, "bad": bad, "needed": needed, "gc": min(needed, len(ok)),
                         "success": len(ok) >= needed})
    return {"tail": tail, "heads": per_head,
            "n_heads": sum(h["success"] for h in per_head), "n_instances": sum(h["gc"] for h in per_head)}


# ---------------------------------------------------------------- tasks


def check_task(task: Task, objects: list[dict], num_instances: int = 1,
               distance_to_agent: Callable[[dict], float] | None = None,
               use_task_candidates_in_relations: bool = False) -> TaskStatus:
    """TEACh ``check_episode_progress`` on ``objects`` (see :func:`prepare_objects`); ``num_instances`` copies of the
    task are needed; ``distance_to_agent`` only orders candidate objects (TEACh uses 0 without a simulator)."""
    return _check(task, _Scene(objects, distance_to_agent), num_instances, use_task_candidates_in_relations)


def _check(task: Task, scene: _Scene, n: int, use_task_candidates: bool) -> TaskStatus:
    subgoals: list[SubgoalStatus] = []
    satisfied: dict[str, list[dict]] = {}
    candidates: dict[str, list[dict]] = {}
    anchor_satisfied = anchor_candidates = None
    for key, component in task.components.items():
        determiner = component["determiner"]
        if determiner == "0":
            continue
        if determiner == "all":
            if "task_name" in component:
                raise TaskDefinitionError(f"task {task.task_name!r}, component {key!r}: determiner 'all' is not "
                                          f"supported on a task component")
            result = _check_all_instances(scene, component)
            if not result.success or result.has_steps:
                subgoals.append(_subgoal(key, "component", result))
            satisfied[key], candidates[key] = result.satisfied, result.candidates
        elif "task_name" in component:
            needed = n if determiner == "a" else n * int(determiner)
            child = _check(component["task"], scene, needed, use_task_candidates)
            subgoals.append(SubgoalStatus(
                key, "task", all(s.success for s in child.subgoals), child.goal_conditions_total,
                child.goal_conditions_satisfied, [o["objectId"] for o in child.satisfied_objects or []],
                subtask=child))
            satisfied[key] = child.satisfied_objects or []
            if use_task_candidates:
                candidates[key] = child.candidate_objects or []
            if key == task.task_anchor_object:
                anchor_satisfied, anchor_candidates = child.satisfied_objects, child.candidate_objects
            continue
        else:
            needed = n if determiner == "a" else n * int(determiner)
            result = _check_n_instances(scene, component, needed)
            subgoals.append(_subgoal(key, "component", result))
            satisfied[key], candidates[key] = result.satisfied, result.candidates
        if key == task.task_anchor_object:
            anchor_satisfied, anchor_candidates = satisfied[key], candidates[key]
    for r, relation in enumerate(task.relations):
        result = _check_relation(scene, relation, satisfied, candidates, n)
        subgoals.append(_subgoal(f"relation[{r}]", "relation", result))
    return TaskStatus(
        task_name=task.task_name, description=task.desc, success=all(s.success for s in subgoals),
        goal_conditions_total=sum(s.goal_conditions_total for s in subgoals),
        goal_conditions_satisfied=sum(s.goal_conditions_satisfied for s in subgoals),
        subgoals=subgoals, satisfied_objects=anchor_satisfied, candidate_objects=anchor_candidates)


def _subgoal(key: str, kind: str, result: _ComponentResult) -> SubgoalStatus:
    return SubgoalStatus(key, kind, result.success, result.total, result.satisfied_count,
                         [o["objectId"] for o in result.satisfied], result.problems)


def goal_conditions(task: int | str | Task, params: list[str] | tuple, objects: list[dict],
                    prepare: bool = True) -> TaskStatus:
    """Status of a task family with ``params`` on an object list (raw metadata when ``prepare``), per component:
    what a scripted expert asks after each step."""
    resolved = task if isinstance(task, Task) else make_task(task, params)
    return check_task(resolved, prepare_objects(objects) if prepare else objects)


# ---------------------------------------------------------------- the EDH check task


def edh_check_task(state_changes: dict) -> Task:
    """TEACh ``create_task_thor_from_state_diff``: one component per (object type, property, value) in the instance's
    ``state_changes["objects"]``; repeats raise the (int) determiner. Properties are visited in sorted order (TEACh
    iterates a set), which changes only the listing order of subgoals, never a count."""
    components: dict[str, dict] = {}
    for object_id, props in state_changes.get("objects", {}).items():
        object_type = object_type_from_id(object_id)
        overridden = {o for prop in props if prop in EDH_PROPERTY_OVERRIDES for o in EDH_PROPERTY_OVERRIDES[prop]}
        for prop in sorted(set(props) & set(EDH_CHECKED_PROPERTIES) - overridden):
            value = props[prop]
            key = str((object_type, prop, value))
            if key in components:
                components[key]["determiner"] = int(components[key]["determiner"]) + 1
                continue
            wanted = value.split("|")[0] if prop == "simbotLastParentReceptacle" and value is not None else value
            components[key] = {
                "determiner": 1,
                "primary_condition": "objectType",
                "instance_shareable": False,
                "conditions": {"objectType": object_type, prop: wanted},
                "condition_failure_descs": {prop: f"{prop} needs to be {value} for {object_type}"},
            }
    # TEACh runs parameter substitution (with no params) on this task too; it turns all-digit strings into ints.
    return Task(task_id=0, task_name="edh_custom", task_params=[], task_anchor_object=None, desc="custom EDH task",
                components=_substitute_in_dict(components, []), relations=[], task_nparams=0)
