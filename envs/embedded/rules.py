"""The embedded world's state-change rules: what follows from the state of things after every action, and slicing.

AI2-THOR's contextual state changes (ai2thor.allenai.org/ithor/documentation/object-state-changes): a stove knob
switches its burner, and a burner that is on heats (and cooks) what is on it; a running faucet cleans and fills with
water what is in its basin; a closed microwave that is on heats and cooks its contents, but does not toast bread; a
toaster that is on toasts bread slices; a coffee machine that is on fills a mug with coffee; a closed fridge cools
its contents. Slicing swaps an object for its pieces inside its bounds, as AI2-THOR swaps in a sliced prefab at the
object's pose (``SliceObject.cs`` in ``allenai/ai2thor``'s Unity scripts).
"""

from __future__ import annotations

import math

import numpy as np

from ..ontology import SLICED_TYPE
from .objects import SimObject
from .shapes import make_shape
from .world import World

SLICE_COUNTS = {"Apple": 4, "Bread": 6, "Lettuce": 5, "Potato": 4, "Tomato": 5, "Egg": 1}
"""Pieces per sliced object. AI2-THOR does not document its counts per prefab; these are ours."""


def apply_state_rules(world: World) -> None:
    """Bring every object's state flags in line with the rules above (run after every action)."""
    objects = [o for o in world.objects.values() if o.in_world and not o.disabled]
    by_type: dict[str, list[SimObject]] = {}
    for o in objects:
        by_type.setdefault(o.object_type, []).append(o)
    for burner in by_type.get("StoveBurner", []):
        burner.is_toggled = False
    for knob in by_type.get("StoveKnob", []):
        for burner_id in knob.controls:
            if burner_id in world.objects and knob.is_toggled:
                world.objects[burner_id].is_toggled = True
    faucets = by_type.get("Faucet", [])
    for basin in by_type.get("SinkBasin", []) + by_type.get("BathtubBasin", []):
        if faucets and _nearest(world, basin, faucets).is_toggled:
            for o in world.descendants(basin.object_id):
                o.is_dirty = False if o.can("dirtyable") else o.is_dirty
                if o.can("canFillWithLiquid") and not o.is_filled:
                    o.is_filled, o.fill_liquid = True, "water"
    for burner in by_type.get("StoveBurner", []):
        burner.temperature = "Hot" if burner.is_toggled else "RoomTemp"
        if burner.is_toggled:
            _heat(world.descendants(burner.object_id), toast=False)
    for microwave in by_type.get("Microwave", []):
        if microwave.is_toggled and not microwave.is_open:
            _heat(world.descendants(microwave.object_id), toast=False)
    for toaster in by_type.get("Toaster", []):
        if toaster.is_toggled:
            _heat([o for o in world.descendants(toaster.object_id) if o.object_type == "BreadSliced"], toast=True)
    for machine in by_type.get("CoffeeMachine", []):
        if machine.is_toggled:
            for o in world.descendants(machine.object_id):
                if o.can("canFillWithLiquid") and not o.is_filled:
                    o.is_filled, o.fill_liquid, o.temperature = True, "coffee", "Hot"
    for fridge in by_type.get("Fridge", []):
        if not fridge.is_open:
            for o in world.descendants(fridge.object_id):
                o.temperature = "Cold"


def _heat(objects: list[SimObject], toast: bool) -> None:
    for o in objects:
        o.temperature = "Hot"
        if o.can("cookable") and (toast or o.object_type != "BreadSliced"):
            o.is_cooked = True


def _nearest(world: World, obj: SimObject, candidates: list[SimObject]) -> SimObject:
    p = world.position(obj)
    return min(candidates, key=lambda c: float(np.linalg.norm(world.position(c)[:2] - p[:2])))


def reassert(world: World, action: str, object_id: str, fill_liquid: str | None = None) -> bool:
    """TEACh's Sink rule issues CleanObject / FillObjectWithLiquid; the rules above already did the same, so these
    only re-assert the state. Returns whether the object exists (and so may have changed)."""
    obj = world.objects.get(object_id)
    if obj is None:
        return False
    if action == "CleanObject" and obj.can("dirtyable"):
        obj.is_dirty = False
    elif action == "FillObjectWithLiquid" and obj.can("canFillWithLiquid"):
        obj.is_filled, obj.fill_liquid = True, fill_liquid or "water"
    return True


def add_slice_pieces(world: World, seed: int) -> None:
    """Pre-build the pieces of every sliceable object (hidden until cut), so the render model never changes."""
    rng = np.random.default_rng(seed)
    for obj in list(world.objects.values()):
        piece_type = SLICED_TYPE.get(obj.object_type)
        if piece_type is None:
            continue
        for k in range(SLICE_COUNTS[obj.object_type]):
            piece = SimObject(object_id=f"{obj.object_id}|{piece_type}_{k}", object_type=piece_type,
                              shape=make_shape(piece_type, rng), pos=np.zeros(3), disabled=True, in_world=False,
                              spawned_from=obj.object_id)
            world.objects[piece.object_id] = piece


def spawn_pieces(world: World, obj: SimObject) -> None:
    """Cut ``obj``: its pieces appear inside its bounds, side by side along its longer side, overlapping and resting
    on one another when they do not fit side by side (a small apple's slices lie in a pile)."""
    pieces = [o for o in world.objects.values() if o.spawned_from == obj.object_id]
    pose = world.pose(obj)
    parent = world.objects.get(obj.parent) if obj.parent else None
    for piece, local in zip(pieces, piece_spots(obj, pieces)):
        piece.in_world, piece.disabled = True, False
        piece.is_cooked = obj.is_cooked
        world_pos = pose @ np.append(local, 1.0)
        if obj.held:
            piece.held = False
        if parent is not None:
            world.relocalise(piece, parent, world_pos[:3], math.atan2(pose[1, 0], pose[0, 0]))
        else:
            piece.pos, piece.yaw = world_pos[:3], math.atan2(pose[1, 0], pose[0, 0])
    obj.disabled, obj.is_sliced = True, True
    if obj.held:
        obj.held = False
    world.invalidate()


def piece_spots(obj: SimObject, pieces: list[SimObject]) -> list[np.ndarray]:
    """Frame origins (bottom centres), in ``obj``'s frame, for its pieces: spread along its longer horizontal side with
    every piece inside its footprint; where they overlap, each rests on the one before it."""
    lo, hi = obj.local_bounds
    axis = 0 if hi[0] - lo[0] >= hi[1] - lo[1] else 1
    centre = (lo + hi) / 2
    n = len(pieces)
    spots = []
    height = float(lo[2])
    for k, piece in enumerate(pieces):
        half = float(piece.shape.half_extents[axis])
        reach = max(0.0, (hi[axis] - lo[axis]) / 2 - half)  # how far a piece's centre may go and stay inside
        spacing = min(2.0 * half, 2.0 * reach / (n - 1)) if n > 1 else 0.0
        spot = np.array([centre[0], centre[1], height])
        spot[axis] += (k - (n - 1) / 2) * spacing
        spots.append(spot)
        if spacing < 2.0 * half - 1e-9:  # the next piece overlaps this one: it lies on top
            height += 2.0 * float(piece.shape.half_extents[2])
    return spots
