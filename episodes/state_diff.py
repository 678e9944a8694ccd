"""State diffs as TEACh's EDH instances store them: ``init_state_diff``, ``final_state_diff`` and ``state_changes``.

Follows ``alexa/teach`` ``src/teach/utils.py``: ``get_state_changes`` (a saved state against the game's initial
state, custom properties merged in), ``get_state_diff_changes`` (what changed between two such diffs, restricted to
the properties the EDH check task reads) and ``are_prop_values_equal``. A slice ``Type|x|y|z|TypeSliced_1`` is
compared with the whole object it came from (its first four id fields), except basins in the second step.

One deliberate choice: TEACh's ``get_state_changes`` compares each agent with itself (alexa/teach#12), so the
released files always hold ``"agents": {}``; ours do the same, since nothing reads agent changes.

A second: properties that describe the object as the Driver happens to see it (``VIEW_DEPENDENT``: its distance to
the agent, whether it is in view or obstructed) are left out of every diff. They change with each step the Driver
takes, so they flooded ``init_state_diff`` with thousands of entries that changed nothing about the world, and no
reader of the diffs uses them (TEACh's EDH check task keeps ``EDH_CHECKED_PROPERTIES``; its replay restores states,
not diffs). An object whose only changes are such properties is not in the diff.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from .checker import EDH_CHECKED_PROPERTIES

VIEW_DEPENDENT = frozenset({"distance", "visible", "obstructed", "isInteractable"})
"""Per-view properties of an AI2-THOR object dict: they follow the agent's pose, not the world's state."""


def prop_values_equal(a: Any, b: Any) -> bool:
    """TEACh ``are_prop_values_equal``: same type, lists and dicts element-wise, floats with ``isclose``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(prop_values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(k in a and prop_values_equal(a[k], b[k]) for k in b)
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-8)  # numpy.isclose's defaults, as TEACh uses
    return a == b


def _merged_objects(state: dict) -> dict[str, dict]:
    custom = state.get("custom_object_metadata") or {}
    merged = {}
    for obj in state.get("objects", []):
        entry = copy.deepcopy(obj)
        entry.update(copy.deepcopy(custom.get(obj["objectId"], {})))
        merged[obj["objectId"]] = entry
    return merged


def _base_id(object_id: str) -> str:
    return "|".join(object_id.split("|")[:4])


def state_changes_from_initial(initial_state: dict, state: dict) -> dict:
    """TEACh ``get_state_changes(initial_state, state)``: per object id, the properties whose values differ from the
    initial state (slices against their whole object). An object absent at the start reports every property (TEACh
    raises KeyError there)."""
    initial = _merged_objects(initial_state)
    changes: dict[str, dict] = {}
    for object_id, final in _merged_objects(state).items():
        source = object_id
        if object_id not in initial and len(object_id.split("|")) > 4:
            source = _base_id(object_id)
        start = initial.get(source, {})
        if start == final:
            continue
        diff = _changed_properties(start, final)
        if diff:
            changes[object_id] = diff
    return {"agents": {}, "objects": changes}


def _changed_properties(start: dict, final: dict) -> dict:
    """The properties of ``final`` that ``start`` lacks or holds with another value (per-view ones left out)."""
    return {p: v for p, v in final.items()
            if p not in VIEW_DEPENDENT and (p not in start or not prop_values_equal(start[p], v))}


def diff_between(init_state_diff: dict, final_state_diff: dict) -> dict:
    """TEACh ``get_state_diff_changes``: the checked properties that the future changed, from the diff at the end
    of the history and the diff at the end of the expert's actions (the EDH ``state_changes``)."""
    checked = set(EDH_CHECKED_PROPERTIES)

    def restrict(diff: dict) -> dict[str, dict]:
        kept = {}
        for object_id, props in diff.get("objects", {}).items():
            entry = {p: v for p, v in props.items() if p in checked}
            if entry:
                kept[object_id] = entry
        return kept

    before, after = restrict(init_state_diff), restrict(final_state_diff)
    changes: dict[str, dict] = {}
    for object_id, final in after.items():
        if object_id in before:
            source = object_id
        elif len(object_id.split("|")) > 4 and "Basin" not in object_id:
            source = _base_id(object_id)
        else:
            source = object_id
        if source not in before:
            changes[object_id] = final  # untouched at the start of the instance: every change is the future's
            continue
        start = before[source]
        if start == final:
            continue
        diff = _changed_properties(start, final)
        if diff:
            changes[object_id] = diff
    return {"agents": {}, "objects": changes}
