"""The ``Env`` protocol every backend implements: AI2-THOR's ``Controller`` surface, reduced to what the harness uses.

``step(action="MoveAhead", **args)`` returns an :class:`~envs.event.Event` exactly as ``ai2thor.controller.Controller.step``
does: a failed action is reported by ``metadata["lastActionSuccess"] = False`` and ``metadata["errorMessage"]``, never by
an exception. An argument value that cannot be used (a wrong type, NaN, out of range) fails the action too, with
``errorCode`` ``"InvalidArgument"`` and an ``errorMessage`` naming the argument (:mod:`envs.validation`, the one rule
both backends apply). Only malformed calls (an unknown action name, a missing required argument) raise ``ValueError``,
as AI2-THOR's client does for its ``InvalidAction``/``MissingArguments`` error codes.
"""

from __future__ import annotations

import abc
from typing import Any

from .event import Event

NAVIGATION_ACTIONS = (
    "MoveAhead", "MoveBack", "MoveLeft", "MoveRight", "RotateLeft", "RotateRight", "LookUp", "LookDown",
    "Teleport", "TeleportFull", "GetReachablePositions", "Pass", "Done",
)
INTERACTION_ACTIONS = (
    "PickupObject", "PutObject", "DropHandObject", "OpenObject", "CloseObject", "ToggleObjectOn", "ToggleObjectOff",
    "SliceObject", "DirtyObject", "CleanObject", "FillObjectWithLiquid", "EmptyLiquidFromObject", "Pour",
    "BreakObject", "CookObject", "UseUpObject",
)


class Env(abc.ABC):
    """A world that speaks AI2-THOR: ``reset``, ``step``, ``last_event``, ``close``; a context manager."""

    width: int
    height: int
    fov: float

    @abc.abstractmethod
    def reset(self, scene: str | None = None, initial_state: dict | None = None, **options: Any) -> Event:
        """Load ``scene`` (e.g. ``"FloorPlan1"``), then, if given, set it to a TEACh ``initial_state``."""

    @abc.abstractmethod
    def step(self, action: str | dict | None = None, **args: Any) -> Event:
        """Run one AI2-THOR action; ``step(dict(action=..., ...))`` and ``step("MoveAhead")`` also work."""

    @abc.abstractmethod
    def export_state(self) -> dict:
        """The current world as a TEACh state dict: ``agents``, ``objects`` (AI2-THOR object dicts with the simbot
        properties merged in) and ``custom_object_metadata``."""

    @property
    @abc.abstractmethod
    def last_event(self) -> Event:
        """The Event of the most recent ``reset`` or ``step``."""

    def close(self) -> None:
        """Release the backend's resources; idempotent."""

    def __enter__(self) -> "Env":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def normalise_step_args(action: str | dict | None, args: dict) -> tuple[str, dict]:
    """Accept AI2-THOR's three call forms and return ``(action_name, arguments)``."""
    if isinstance(action, dict):
        merged = dict(action)
        merged.update(args)
        args = merged
        action = args.pop("action", None)
    elif action is None:
        args = dict(args)
        action = args.pop("action", None)
    if not isinstance(action, str) or not action:
        raise ValueError(f"step() needs an action name, got {action!r}")
    if "renderObjectImage" in args:  # AI2-THOR's old name for renderInstanceSegmentation
        args.setdefault("renderInstanceSegmentation", args.pop("renderObjectImage"))
    rotation = args.get("rotation")
    if isinstance(rotation, (int, float)):  # ai2thor rewrites a float rotation to dict(y=...)
        args["rotation"] = dict(x=0.0, y=float(rotation), z=0.0)
    return action, args
