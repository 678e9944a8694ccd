"""Objects of the embedded world and their AI2-THOR identity.

A :class:`SimObject` is the logical state of one AI2-THOR object: its type, id, shape (from ``shapes.make_shape``), pose
and the state flags AI2-THOR reports (isOpen, isToggled, isDirty, ...). Poses live in the right-handed z-up frame; an
object resting on a receptacle stores its pose *relative to the receptacle's link* (so the contents of a drawer slide
with it and a carried plate carries its apple), see :mod:`envs.embedded.world`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ontology import load_ontology
from .shapes import part_aabb


def format_coordinate(value: float) -> str:
    """AI2-THOR's objectId number format: sign, zero-padded, two decimals (``+00.59``, ``-02.43``)."""
    value = round(float(value), 2)
    if value == 0:
        value = 0.0  # no "-00.00"
    return f"{value:+06.2f}"


def make_object_id(object_type: str, thor_position) -> str:
    """``Type|x|y|z`` with the spawn position in AI2-THOR's frame, as AI2-THOR names scene objects."""
    x, y, z = thor_position
    return f"{object_type}|{format_coordinate(x)}|{format_coordinate(y)}|{format_coordinate(z)}"


@dataclass
class SimObject:
    object_id: str
    object_type: str
    shape: object  # shapes.ShapeSpec
    pos: np.ndarray  # z-up position of the object frame origin (bottom centre), used when not attached
    yaw: float = 0.0  # z-up yaw (radians, counter-clockwise)
    parent: str | None = None  # the receptacle it rests on/in (direct support)
    surface: int = -1  # index of the parent's surface it rests on
    local: np.ndarray | None = None  # (x, y, z, yaw) in the parent's surface link frame
    held: bool = False
    disabled: bool = False  # not drawn, not interactable: sliced originals (still in metadata), unspawned slices
    in_world: bool = True  # listed in metadata; False for slices not yet cut
    openness: float = 0.0
    is_toggled: bool = False
    is_dirty: bool = False
    is_filled: bool = False
    fill_liquid: str | None = None
    is_cooked: bool = False
    is_sliced: bool = False
    is_broken: bool = False
    is_used_up: bool = False
    temperature: str = "RoomTemp"
    controls: list[str] = field(default_factory=list)  # StoveKnob -> its StoveBurner(s)
    spawned_from: str | None = None  # slices: the sliced object's id
    copy_of: str | None = None  # a duplicate made from a state (AI2-THOR's "(Copy)" objects): the original's id
    body: str = ""  # MuJoCo body name

    _affordances: dict = field(default_factory=dict, repr=False)
    _bounds: tuple | None = field(default=None, repr=False)

    # --- affordances, from the ontology ------------------------------------------------------------------------------
    def can(self, affordance: str) -> bool:
        cached = self._affordances.get(affordance)
        if cached is None:
            cached = _can(self.object_type, affordance)
            self._affordances[affordance] = cached
        return cached

    @property
    def local_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) of the closed object's parts in its own frame: the box its AABB is computed from."""
        if self._bounds is None:
            lows, highs = [], []
            for part in self.shape.parts:
                lo, hi = part_aabb(part)
                lows.append(lo)
                highs.append(hi)
            if lows:
                self._bounds = (np.min(lows, axis=0), np.max(highs, axis=0))
            else:
                half = np.asarray(self.shape.half_extents, dtype=float)
                self._bounds = (np.array([-half[0], -half[1], 0.0]), np.array([half[0], half[1], 2 * half[2]]))
        return self._bounds

    @property
    def is_open(self) -> bool:
        return self.openness > 0.0

    @property
    def pickupable(self) -> bool:
        return self.can("pickupable")


def _can(object_type: str, affordance: str) -> bool:
    if object_type == "StoveBurner" and affordance == "toggleable":
        return False  # switched by its StoveKnob (AI2-THOR CanToggleOnOff.SelfControlled = false)
    onto = load_ontology()
    if object_type not in onto:
        return False
    return onto[object_type].can(affordance)
