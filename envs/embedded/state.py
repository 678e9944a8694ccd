"""TEACh states in and out of the embedded world.

A state is what TEACh saves (``alexa/teach`` ``src/teach/dataset/initialization.py`` at 903191e): ``agents``
[commander, driver], ``objects`` (AI2-THOR object dicts with the simbot properties) and ``custom_object_metadata``.
Loading sets the driver's pose, which objects exist (cut originals, their pieces), every listed object's state flags
and then the poses and parents of the movable ones; openness comes before poses, since a drawer's contents are placed
in the frame of the drawer as it stands. Exported states are rounded to ``STATE_DECIMALS`` (:func:`rounded`), and the
env sets its world to the rounded state before it reports it, so export -> reset -> export gives the same dict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..camera import THOR_TO_ZUP
from ..ontology import SLICED_TYPE
from ..validation import HORIZON_LIMITS
from .geometry import object_yaw_from_thor, wrap_degrees
from .layout import Scene
from .objects import SimObject
from .world import World

STATE_DECIMALS = 6
"""Decimals of the floats in an exported state (micrometres, micro-degrees)."""


def check_agent_fits(state: dict, scene: Scene) -> None:
    """Refuse a (well-formed, ``envs.validation.check_state``) TEACh state whose driver stands outside ``scene``'s
    floor or tilts beyond AI2-THOR's limits, with one ``ValueError`` naming the field."""
    agents = state.get("agents") or []
    if not agents:
        return
    index = 1 if len(agents) > 1 else 0
    x, z = float(agents[index]["position"]["x"]), float(agents[index]["position"]["z"])
    room = scene.world.room
    if not (0.0 <= x <= room.width and 0.0 <= z <= room.depth):
        raise ValueError(f"initial_state: field 'agents[{index}].position': x={x:.3f}, z={z:.3f} is outside "
                         f"{scene.name}'s floor [0, {room.width:.2f}] x [0, {room.depth:.2f}]")
    horizon = agents[index].get("cameraHorizon", 0.0)
    if not HORIZON_LIMITS[0] - 1e-6 <= horizon <= HORIZON_LIMITS[1] + 1e-6:
        raise ValueError(f"initial_state: field 'agents[{index}].cameraHorizon': {horizon} is outside "
                         f"{list(HORIZON_LIMITS)} degrees")


def add_copies(world: World, state: dict) -> list[str]:
    """Make the duplicates a state lists: an entry whose objectId this world lacks and whose ``name`` is a
    pickupable object's name with Unity's "(Copy)" suffix becomes a copy of that object (same type and shape) under
    the entry's id, as AI2-THOR's ``SetObjectPoses`` spawns a copy for a repeated object name. Called before the
    scene is rendered (the render model is fixed then). Returns the ids made."""
    from .metadata import object_name

    by_name = {object_name(o): o for o in world.objects.values() if o.pickupable and o.spawned_from is None
               and o.copy_of is None}
    made = []
    for entry in state.get("objects") or []:
        name = str(entry.get("name") or "")
        if entry["objectId"] in world.objects or not name.endswith("(Copy)"):
            continue
        original = by_name.get(name[: -len("(Copy)")])
        if original is None or original.object_type != entry.get("objectType"):
            continue
        world.objects[entry["objectId"]] = SimObject(object_id=entry["objectId"], object_type=original.object_type,
                                                     shape=original.shape, pos=np.zeros(3),
                                                     copy_of=original.object_id)
        made.append(entry["objectId"])
    return made


def unknown_objects(world: World, state: dict) -> list[str]:
    """objectIds the state lists and ``world`` lacks (a real AI2-THOR scene's, say), sorted."""
    return sorted({entry["objectId"] for entry in state["objects"]} - set(world.objects))


def load_state(world: World, state: dict) -> None:
    """Set ``world`` to a checked TEACh state; objects ``world`` lacks are left out (see :func:`unknown_objects`)."""
    agents = state.get("agents") or []
    if agents:
        _load_agent(world, agents[1] if len(agents) > 1 else agents[0])
    listed = {entry["objectId"]: entry for entry in state["objects"] if entry["objectId"] in world.objects}
    _load_presence(world, listed)
    _load_flags(world, listed)
    world.invalidate()
    _load_poses(world, listed)
    world.invalidate()


def _load_agent(world: World, entry: dict) -> None:
    agent = world.agent
    agent.x, agent.y = float(entry["position"]["x"]), float(entry["position"]["z"])
    agent.yaw = wrap_degrees(float(entry["rotation"]["y"]))
    agent.horizon = float(entry.get("cameraHorizon", 0.0))
    agent.standing = bool(entry.get("isStanding", True))


def _load_presence(world: World, listed: dict[str, dict]) -> None:
    """Slices listed in the state exist and their originals are cut; unlisted slices are not cut yet. A state of
    this world (one that lists a pickupable object this world has) that leaves a pickupable object out removes it,
    as AI2-THOR's ``SetObjectPoses`` removes the movable objects its list leaves out; a state of another world
    (a released TEACh game's ids) removes nothing."""
    if any(world.objects[oid].pickupable and world.objects[oid].spawned_from is None for oid in listed):
        for obj in world.objects.values():
            if obj.pickupable and obj.spawned_from is None and obj.object_id not in listed:
                obj.in_world, obj.disabled, obj.held = False, True, False
    for oid, entry in listed.items():
        obj = world.objects[oid]
        obj.in_world = True
        obj.disabled = bool(entry.get("isSliced", False)) and obj.object_type in SLICED_TYPE
        if obj.spawned_from is not None:
            obj.disabled = False
    for obj in world.objects.values():
        if obj.spawned_from is not None and obj.object_id not in listed:
            obj.in_world, obj.disabled = False, True


def _load_flags(world: World, listed: dict[str, dict]) -> None:
    for oid, entry in listed.items():
        obj = world.objects[oid]
        obj.openness = float(entry.get("openness", 1.0)) if entry.get("isOpen") else 0.0
        obj.is_toggled = bool(entry.get("isToggled", False))
        obj.is_dirty = bool(entry.get("isDirty", False))
        obj.is_filled = bool(entry.get("isFilledWithLiquid", False))
        obj.fill_liquid = entry.get("fillLiquid") if obj.is_filled else None
        obj.is_cooked = bool(entry.get("isCooked", False))
        obj.is_sliced = bool(entry.get("isSliced", False))
        obj.is_broken = bool(entry.get("isBroken", False))
        obj.is_used_up = bool(entry.get("isUsedUp", False))
        obj.temperature = entry.get("ObjectTemperature") or entry.get("temperature") or "RoomTemp"


def _load_poses(world: World, listed: dict[str, dict]) -> None:
    """Every movable object at its world pose first, then attached to its direct parent keeping that pose, parents
    before children."""
    movable = [world.objects[oid] for oid, entry in listed.items()
               if world.objects[oid].pickupable or entry.get("parentReceptacles")]
    for obj in movable:
        entry = listed[obj.object_id]
        p = entry["position"]
        obj.held = bool(entry.get("isPickedUp", False))
        obj.parent, obj.local = None, None
        obj.pos = THOR_TO_ZUP @ np.array([float(p["x"]), float(p["y"]), float(p["z"])])
        obj.yaw = object_yaw_from_thor(float((entry.get("rotation") or {}).get("y", 0.0)))
    world.invalidate()
    for obj in sorted(movable, key=lambda o: len(listed[o.object_id].get("parentReceptacles") or [])):
        parents = [pid for pid in (listed[obj.object_id].get("parentReceptacles") or []) if pid in world.objects]
        if not obj.held and parents:
            world.relocalise(obj, world.objects[parents[0]], obj.pos, obj.yaw)


def rounded(value: Any) -> Any:
    """A copy of a state with every float rounded to ``STATE_DECIMALS`` (and -0.0 made 0.0): a restored world
    reproduces poses to about 1e-15 m, so the saved numbers come back to the letter."""
    if isinstance(value, float):
        return round(value, STATE_DECIMALS) + 0.0
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item) for item in value]
    return value
