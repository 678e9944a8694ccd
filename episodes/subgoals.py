"""EDH ``history_subgoals`` / ``future_subgoals`` from a driver's actions.

TEACh's EDH instances list the driver's subgoals before and after the cut with runs of navigation collapsed into
"Navigate" plus the object the run leads to (fact sheet on ``alexa/teach`` 903191e, EDH keys; the element type is
UNVERIFIED there). We write them as one flat list of strings, action then object type, e.g.
``["Navigate", "Mug", "Pickup", "Mug", "Navigate", "CoffeeMachine", "Place", "CoffeeMachine"]``, the form a
third-party reader of the release tokenises word by word. Object types come from object ids by TEACh's rule: the first
``|`` field of a four-field id, else the last field cut at ``_`` (``Bread|...|BreadSliced_1`` -> ``BreadSliced``).
Failed actions are left out: they change nothing, as TEACh's replay skips them.
"""

from __future__ import annotations

NAVIGATE = "Navigate"


def object_type_of(object_id: str) -> str:
    """TEACh's type of an object id (``Mug|+0.1|+0.9|-1.2`` -> ``Mug``; slices -> ``BreadSliced``)."""
    fields = object_id.split("|")
    if len(fields) <= 4:
        return fields[0]
    return fields[-1].split("_")[0]


def _steps(actions: list[dict]) -> list[tuple[str, str | None]]:
    steps = []
    for action in actions:
        oid = action.get("oid")
        steps.append((action["action_name"], object_type_of(oid) if action.get("obj_interaction_action") and oid
                      else None))
    return steps


def subgoals(actions: list[dict], successes: list[bool] | None = None, split_at: int | None = None
             ) -> tuple[list[str], list[str]]:
    """(history, future) subgoals of ``actions`` cut before action ``split_at`` (everything is history when None).

    A navigation run is named after the object the driver next interacts with (over the whole sequence, so a run
    that the cut ends still names its goal); a run that leads to no interaction is dropped."""
    split_at = len(actions) if split_at is None else split_at
    history: list[str] = []
    future: list[str] = []
    kept = [(k, name, obj) for k, (name, obj) in enumerate(_steps(actions))
            if successes is None or successes[k]]
    pending: list[int] = []  # indices of the current navigation run (the first one decides its side of the cut)
    for k, name, obj in kept:
        if obj is None:
            pending.append(k)
            continue
        side = history if (pending[0] if pending else k) < split_at else future
        if pending:
            side.extend([NAVIGATE, obj])
            pending = []
        (history if k < split_at else future).extend([name, obj])
    return history, future


__all__ = ["NAVIGATE", "object_type_of", "subgoals"]
