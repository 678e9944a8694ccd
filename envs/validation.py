"""What callers hand a simulator, checked before it acts: action argument values and TEACh states.

**One rule for bad argument values, on every action and both backends.** An argument whose *value* cannot be used (a
wrong type, NaN or infinity, a value outside its range) fails the action the way AI2-THOR reports a failed action:
``lastActionSuccess`` False, ``errorCode`` ``"InvalidArgument"`` and an ``errorMessage`` that names the action, the
argument and the value; the world does not change. AI2-THOR's actions report out-of-range values so (e.g.
``OpenObject`` with an openness outside [0, 1]); its Python client raises ``ValueError`` when Unity cannot even
deserialise an argument (errorCode ``InvalidArgument``, ``ai2thor/controller.py`` ``Controller.step`` at 3.1.0), which
here is reported like any other bad value, so an agent's malformed output costs it one failed action, as TEACh counts
failed actions, instead of ending the episode. Malformed *calls* still raise ``ValueError``, as AI2-THOR's client does:
an unknown action name (``InvalidAction``) and a missing required argument (``MissingArguments``). ``None`` counts as
not given.

:func:`state_problems` checks a TEACh state (``alexa/teach`` ``src/teach/dataset/initialization.py`` at 903191e:
``time_start``, ``agents``, ``objects``, ``custom_object_metadata``) for the fields a simulator reads when it restores
one; the episode loaders and the embedded simulator both use it, so a file is rejected on the same grounds as a state
handed to ``reset``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import numpy as np

FILL_LIQUIDS = ("water", "coffee", "wine")
"""AI2-THOR's liquids (``FillObjectWithLiquid``'s ``fillLiquid``)."""
HORIZON_LIMITS = (-30.0, 60.0)
"""The camera tilt AI2-THOR allows (degrees, positive looks down)."""


def is_number(value: Any) -> bool:
    """A real number that is not a bool (``True`` is an int in Python, never a distance)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_finite_number(value: Any) -> bool:
    return is_number(value) and math.isfinite(float(value))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- argument checks: each returns None when the value is usable, else why not ----------------------------------------
def _finite(value: Any) -> str | None:
    return None if is_finite_number(value) else "must be a finite number"


def _positive(value: Any) -> str | None:
    if not is_finite_number(value):
        return "must be a finite number"
    return None if value > 0 else "must be > 0"


def _unit(value: Any) -> str | None:
    if not is_finite_number(value):
        return "must be a finite number in [0, 1]"
    return None if 0.0 <= value <= 1.0 else "must be in [0, 1] (a fraction of the frame)"


def _openness(value: Any) -> str | None:
    if not is_finite_number(value):
        return "must be a finite number in (0, 1]"
    return None if 0.0 < value <= 1.0 else "must be in (0, 1]"


def _horizon(value: Any) -> str | None:
    if not is_finite_number(value):
        return "must be a finite number of degrees"
    lo, hi = HORIZON_LIMITS
    return None if lo - 1e-6 <= value <= hi + 1e-6 else f"must be in [{lo:g}, {hi:g}] degrees"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, (bool, np.bool_)) else "must be True or False"


def _object_id(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be an objectId string"


def _integer(value: Any) -> str | None:
    return None if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else "must be an integer"


def _liquid(value: Any) -> str | None:
    return None if value in FILL_LIQUIDS else f"must be one of {', '.join(FILL_LIQUIDS)}"


def _position(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be a dict with finite numbers x, y, z"
    for key in ("x", "z"):
        if not is_finite_number(value.get(key)):
            return f"must have a finite number {key}"
    if value.get("y") is not None and not is_finite_number(value["y"]):
        return "must have a finite number y"
    return None


def _rotation(value: Any) -> str | None:
    if is_finite_number(value):
        return None
    if isinstance(value, dict) and is_finite_number(value.get("y")):
        return None
    return "must be a finite number of degrees or a dict with a finite number y"


Check = Callable[[Any], "str | None"]
_MOVE = {"moveMagnitude": _positive, "forceAction": _boolean}
_TURN = {"degrees": _finite}
_TELEPORT = {"position": _position, "x": _finite, "y": _finite, "z": _finite, "rotation": _rotation,
             "horizon": _horizon, "standing": _boolean, "forceAction": _boolean}
_TARGET = {"objectId": _object_id, "x": _unit, "y": _unit, "forceAction": _boolean}
ARGUMENT_CHECKS: dict[str, dict[str, Check]] = {
    **{name: _MOVE for name in ("MoveAhead", "MoveBack", "MoveLeft", "MoveRight")},
    **{name: _TURN for name in ("RotateLeft", "RotateRight", "LookUp", "LookDown")},
    "Teleport": _TELEPORT,
    "TeleportFull": _TELEPORT,
    **{name: _TARGET for name in ("PickupObject", "DropHandObject", "CloseObject", "ToggleObjectOn",
                                  "ToggleObjectOff", "SliceObject", "DirtyObject", "CleanObject",
                                  "EmptyLiquidFromObject", "Pour", "BreakObject", "CookObject", "UseUpObject")},
    "PutObject": {**_TARGET, "putNearXY": _boolean, "placeStationary": _boolean},
    "OpenObject": {**_TARGET, "openness": _openness},
    "FillObjectWithLiquid": {**_TARGET, "fillLiquid": _liquid},
    "GetCoordinateFromRaycast": {"x": _unit, "y": _unit},
    "InitialRandomSpawn": {"randomSeed": _integer, "forceVisible": _boolean},
}
"""Per action, the arguments it reads and what a usable value is. Arguments not listed are not read."""


def invalid_argument(action: str, args: dict) -> str | None:
    """The error message for the first argument of ``action`` whose value is unusable, or None when all are usable."""
    for name, check in ARGUMENT_CHECKS.get(action, {}).items():
        value = args.get(name)
        if value is None:
            continue
        problem = check(value)
        if problem is not None:
            return f"{action}: invalid argument {name}={_show(value)}: {problem}"
    return None


# --- TEACh states -----------------------------------------------------------------------------------------------------
def _xyz_problem(value: Any, keys: str = "xyz") -> str | None:
    if not isinstance(value, dict):
        return f"expected a dict with finite numbers {', '.join(keys)}, got {type(value).__name__} {_show(value)}"
    for key in keys:
        if not is_finite_number(value.get(key)):
            return f"{key} must be a finite number, got {_show(value.get(key))}"
    return None


def state_problems(state: Any, require_agents: bool = False) -> list[tuple[str, str]]:
    """(field path, problem) for each field of a TEACh state a simulator cannot restore: ``agents`` entries without a
    finite position x/y/z, rotation y or cameraHorizon (or a horizon outside AI2-THOR's limits), ``objects`` entries
    without an objectId, an objectType, a finite position or rotation y. With ``require_agents``, an empty agent list is
    a problem too (a recorded state always has the commander and the driver)."""
    if not isinstance(state, dict):
        return [("<state>", f"expected a dict (a TEACh state), got {type(state).__name__}")]
    problems: list[tuple[str, str]] = []
    agents = state.get("agents")
    if agents is None and not require_agents:
        agents = []
    if not isinstance(agents, list):
        problems.append(("agents", f"expected a list, got {type(agents).__name__}"))
    elif require_agents and not agents:
        problems.append(("agents", "empty; a recorded state lists the commander and the driver"))
    else:
        for i, agent in enumerate(agents):
            problems.extend(_agent_problems(agent, f"agents[{i}]"))
    objects = state.get("objects")
    if not isinstance(objects, list):
        problems.append(("objects", f"expected a list of AI2-THOR object dicts, got {type(objects).__name__}"))
        return problems
    for i, obj in enumerate(objects):
        problems.extend(_object_problems(obj, f"objects[{i}]"))
    return problems


def check_state(state: Any, require_agents: bool = False) -> None:
    """Raise one ``ValueError`` naming the first field of :func:`state_problems` (and how many more there are)."""
    problems = state_problems(state, require_agents)
    if problems:
        field, problem = problems[0]
        more = f" (+{len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ValueError(f"initial_state: field {field!r}: {problem}{more}")


def _agent_problems(agent: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(agent, dict):
        return [(where, f"expected a dict, got {type(agent).__name__}")]
    problems = []
    for key, keys in (("position", "xyz"), ("rotation", "y")):
        problem = _xyz_problem(agent.get(key), keys)
        if problem:
            problems.append((f"{where}.{key}", problem))
    horizon = agent.get("cameraHorizon")
    if horizon is not None and not is_finite_number(horizon):
        problems.append((f"{where}.cameraHorizon", f"must be a finite number, got {_show(horizon)}"))
    return problems


def _object_problems(obj: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(obj, dict):
        return [(where, f"expected a dict, got {type(obj).__name__}")]
    problems = []
    for key in ("objectId", "objectType"):
        if not isinstance(obj.get(key), str):
            problems.append((f"{where}.{key}", f"expected a string, got {_show(obj.get(key))}"))
    for key, keys in (("position", "xyz"), ("rotation", "y")):
        if key == "rotation" and obj.get(key) is None:
            continue  # AI2-THOR always writes it; a hand-written state may leave it out (rotation 0)
        problem = _xyz_problem(obj.get(key), keys)
        if problem:
            problems.append((f"{where}.{key}", problem))
    return problems
