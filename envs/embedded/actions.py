"""The actions of the embedded world: one handler per AI2-THOR action, acting on a :class:`~.world.World`.

Names, arguments and failures follow AI2-THOR 3.x (ai2thor.allenai.org/ithor/documentation: ``navigation``,
``interactive-physics``, ``object-state-changes``); a handler that cannot act raises :class:`ActionFailed` with
AI2-THOR's message where TEACh's data shows it, which ``EmbeddedEnv.step`` reports as ``lastActionSuccess`` False. An
object is targeted by ``objectId`` or by a click ``x, y`` on the last frame, resolved as TEACh's wrapper resolves clicks
(``envs.clicks``). Argument values were checked before (``envs.validation``); a missing argument raises ``ValueError``
("MissingArguments"), as AI2-THOR's client does. State changes that follow from an action (a running faucet filling
a cup) are :mod:`.rules`' business, not a handler's.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from .. import clicks
from ..base import INTERACTION_ACTIONS, NAVIGATION_ACTIONS
from ..camera import AGENT_Y, THOR_TO_ZUP
from ..event import Event
from ..ontology import WATER_BASINS, load_ontology
from ..validation import HORIZON_LIMITS
from .geometry import wrap_degrees
from .objects import SimObject
from .rules import spawn_pieces
from .world import GRID_SIZE, World

FLAG_ACTIONS = {
    "DirtyObject": ("dirtyable", "is_dirty", True, "is not dirtyable"),
    "CleanObject": ("dirtyable", "is_dirty", False, "is not dirtyable"),
    "CookObject": ("cookable", "is_cooked", True, "is not cookable"),
    "UseUpObject": ("usedUp", "is_used_up", True, "can't be used up"),
}
"""Actions that set one state flag: (affordance required, SimObject attribute, value, failure message)."""
EXTRA_ACTIONS = ("InitialRandomSpawn", "GetCoordinateFromRaycast")
ALL_ACTIONS = NAVIGATION_ACTIONS + INTERACTION_ACTIONS + EXTRA_ACTIONS


class ActionFailed(Exception):
    """Raised inside an action handler; turned into ``lastActionSuccess=False`` with this message."""


class Actions:
    """The handlers, bound to a world, the event the agent last saw (clicks and visibility are judged on it) and the
    env's seed (``InitialRandomSpawn``'s default). ``run(name, args, box)`` performs one action; ``box`` collects
    what TEACh's simbot rules need to know: the target's id (``"id"``) and the clicked world point (``"click"``)."""

    def __init__(self, world: World, event: Event | None, seed: int):
        self.world = world
        self._event = event
        self.seed = seed
        self._handlers: dict[str, Callable[..., Any]] = {
            name: functools.partial(self._set_flag, name) if name in FLAG_ACTIONS else getattr(self, f"_do_{name}")
            for name in ALL_ACTIONS}

    def run(self, name: str, args: dict, box: dict) -> Any:
        """The action's return value (``actionReturn``); raises :class:`ActionFailed` when it cannot be done."""
        return self._handlers[name](args, box)

    def _held(self) -> list[SimObject]:
        return [o for o in self.world.objects.values() if o.held]

    def _active(self) -> list[SimObject]:
        return [o for o in self.world.objects.values() if o.in_world]

    def _target(self, args: dict, action: str, box: dict) -> SimObject:
        """The object an interaction acts on: by ``objectId`` (must be visible unless ``forceAction``), or by TEACh's
        click resolution of ``x, y`` on the last frame (then within 1.5 m of the agent)."""
        force = bool(args.get("forceAction", False))
        if args.get("objectId") is not None:
            object_id = args["objectId"]
            obj = self.world.objects.get(object_id)
            if obj is None or not obj.in_world:
                raise ActionFailed("Object ID appears to be invalid.")
            if obj.disabled:
                raise ActionFailed(f"{object_id} is not interactable and (perhaps it is occluded by something).")
            if not force:
                meta = self._event.get_object(object_id) if self._event is not None else None
                if meta is None or not meta["visible"]:
                    raise ActionFailed(f"{object_id} is not interactable and (perhaps it is occluded by something).")
            box["id"] = object_id
            return obj
        if args.get("x") is not None and args.get("y") is not None:
            x, y = float(args["x"]), float(args["y"])  # in [0, 1]: envs.validation checked them
            object_id = clicks.resolve_click(self._event, x, y, action)
            if object_id is None:
                raise ActionFailed("No target found")
            if not force and not clicks.within_reach(self._event, x, y):
                raise ActionFailed(f"{object_id} is too far away to be interacted with")
            box["id"] = object_id
            box["click"] = clicks.click_world_point(self._event, x, y)
            return self.world.objects[object_id]
        raise ValueError(f"MissingArguments: {action} needs objectId or x and y")

    # --- navigation actions ----------------------------------------------------------------------------------------
    def _move(self, args: dict, heading_offset: float) -> None:
        magnitude = float(args.get("moveMagnitude", GRID_SIZE))
        agent = self.world.agent
        heading = math.radians(agent.yaw + heading_offset)
        nx, ny = agent.x + magnitude * math.sin(heading), agent.y + magnitude * math.cos(heading)
        rects = self.world.blocking_rects()
        # The end point first: a long move out of the room fails at once instead of sampling the whole path.
        if not self.world.is_free(nx, ny, rects) or not self.world.segment_free(agent.x, agent.y, nx, ny, rects):
            raise ActionFailed(f"Agent 0 is blocked from moving {heading_offset:.0f} by an obstacle or a wall")
        agent.x, agent.y = round(nx, 4), round(ny, 4)

    def _do_MoveAhead(self, args, box=None):
        self._move(args, 0.0)

    def _do_MoveBack(self, args, box=None):
        self._move(args, 180.0)

    def _do_MoveRight(self, args, box=None):
        self._move(args, 90.0)

    def _do_MoveLeft(self, args, box=None):
        self._move(args, 270.0)

    def _do_RotateRight(self, args, box=None):
        self.world.agent.yaw = wrap_degrees(self.world.agent.yaw + float(args.get("degrees", 90.0)))

    def _do_RotateLeft(self, args, box=None):
        self.world.agent.yaw = wrap_degrees(self.world.agent.yaw - float(args.get("degrees", 90.0)))

    def _look(self, delta: float) -> None:
        new = self.world.agent.horizon + delta
        if not HORIZON_LIMITS[0] - 1e-6 <= new <= HORIZON_LIMITS[1] + 1e-6:
            raise ActionFailed(f"can't look beyond the horizon limits {HORIZON_LIMITS} (would be {new:.1f})")
        self.world.agent.horizon = new

    def _do_LookUp(self, args, box=None):
        self._look(-float(args.get("degrees", 30.0)))

    def _do_LookDown(self, args, box=None):
        self._look(float(args.get("degrees", 30.0)))

    def _teleport(self, args: dict, full: bool) -> None:
        agent = self.world.agent
        position = args.get("position")
        if position is None and all(k in args for k in ("x", "z")):
            position = {"x": args["x"], "y": args.get("y", AGENT_Y), "z": args["z"]}
        rotation, horizon = args.get("rotation"), args.get("horizon")
        if full:
            missing = [k for k, v in (("position or x/y/z", position), ("rotation", rotation), ("horizon", horizon))
                       if v is None]
            if missing:
                raise ValueError(f"MissingArguments: TeleportFull needs {', '.join(missing)}")
        x, y = agent.x, agent.y
        if position is not None:
            x, y = float(position["x"]), float(position["z"])
            room = self.world.room
            outside = not (0.0 <= x <= room.width and 0.0 <= y <= room.depth)
            if outside or (not self.world.is_free(x, y) and not args.get("forceAction", False)):
                raise ActionFailed(f"Teleport to ({x:.2f}, {y:.2f}) failed: the position is "
                                   f"{'outside the room' if outside else 'blocked'}")
        agent.x, agent.y = x, y
        if rotation is not None:  # horizon and rotation were checked by envs.validation
            agent.yaw = wrap_degrees(float(rotation["y"] if isinstance(rotation, dict) else rotation))
        if horizon is not None:
            agent.horizon = float(horizon)
        if "standing" in args:
            agent.standing = bool(args["standing"])

    def _do_Teleport(self, args, box=None):
        self._teleport(args, full=False)

    def _do_TeleportFull(self, args, box=None):
        self._teleport(args, full=True)

    def _do_GetReachablePositions(self, args, box=None):
        return [{"x": float(x), "y": AGENT_Y, "z": float(y)} for x, y in self.world.reachable_positions()]

    def _do_Pass(self, args, box=None):
        return None

    def _do_Done(self, args, box=None):
        return None

    def _do_GetCoordinateFromRaycast(self, args, box=None):
        if "x" not in args or "y" not in args:
            raise ValueError("MissingArguments: GetCoordinateFromRaycast needs x and y")
        point = clicks.click_world_point(self._event, float(args["x"]), float(args["y"]))
        if point is None:
            raise ActionFailed("no depth to ray cast against")
        return {"x": float(point[0]), "y": float(point[1]), "z": float(point[2])}

    def _do_InitialRandomSpawn(self, args, box=None):
        """Scatter the pickupable objects over compatible receptacles (AI2-THOR's ``InitialRandomSpawn``)."""
        rng = np.random.default_rng(int(args.get("randomSeed", self.seed)))
        world = self.world
        onto = load_ontology()
        movable = [o for o in self._active() if o.pickupable and not o.disabled and not o.held]
        receptacles = [o for o in self._active() if o.can("receptacle") and o.shape.surfaces and not o.pickupable
                       and o.object_type != "Floor" and not o.disabled]
        # Detach everything first so movable receptacles do not drag their old contents along.
        for o in movable:
            world.detach(o)
            o.pos = np.array([0.0, 0.0, -10.0])
        for o in sorted(movable, key=lambda m: -float(np.prod(m.shape.half_extents))):
            options = [r for r in receptacles if onto.accepts(r.object_type, o.object_type)]
            rng.shuffle(options)
            for r in options:
                spot = world.find_spot(r, o, rng=rng)
                if spot is not None:
                    world.attach(o, r, spot)
                    break
            else:
                floor = next(f for f in self._active() if f.object_type == "Floor")
                spot = world.find_spot(floor, o, rng=rng)
                if spot is not None:
                    world.attach(o, floor, spot)
        return None

    # --- interaction actions ---------------------------------------------------------------------------------------
    def _require(self, obj: SimObject, affordance: str, message: str) -> None:
        if not obj.can(affordance):
            raise ActionFailed(message)

    def _do_PickupObject(self, args, box):
        obj = self._target(args, "PickupObject", box)
        self._require(obj, "pickupable", f"{obj.object_id} must have the property CanPickup to be picked up.")
        if obj.held:
            raise ActionFailed(f"{obj.object_id} is already being held")
        if self._held():
            raise ActionFailed("Agent's hand is already holding an object; drop or put it first")
        self.world.detach(obj)
        obj.held = True
        self.world.invalidate()

    def _do_PutObject(self, args, box):
        held = self._held()
        if not held:
            raise ActionFailed("Can't place an object if Agent isn't holding anything")
        obj = held[0]
        receptacle = self._target(args, "PutObject", box)
        if receptacle.object_type == "Sink":  # objects go into the basin (TEACh treats Sink and SinkBasin alike)
            basin = self.world.objects.get(f"{receptacle.object_id}|SinkBasin")
            receptacle = basin or receptacle
        if receptacle is obj or receptacle.object_id in [d.object_id for d in self.world.descendants(obj.object_id)]:
            raise ActionFailed("can't place an object into itself")
        if not receptacle.can("receptacle"):
            raise ActionFailed("This target object is NOT a receptacle!")
        onto = load_ontology()
        if receptacle.object_type != "Floor" and not onto.accepts(receptacle.object_type, obj.object_type,
                                                                   force=bool(args.get("forceAction", False))):
            raise ActionFailed(f"{obj.object_type} is not a valid Object Type to be placed in {receptacle.object_id}")
        if receptacle.object_type in onto.must_be_open and receptacle.can("openable") and not receptacle.is_open:
            raise ActionFailed(f"{receptacle.object_id} must be open to place objects in it")
        target = None
        if box.get("click") is not None and args.get("putNearXY", True):
            target = THOR_TO_ZUP @ np.asarray(box["click"], dtype=float)
        spot = self.world.find_spot(receptacle, obj, target=target, rel_yaw=0.0, pile=True)
        if spot is None:
            spot = self.world.find_spot(receptacle, obj, target=target, rel_yaw=math.pi / 2, pile=True)
        if spot is None:
            raise ActionFailed("No valid positions to place object found")
        obj.held = False
        self.world.attach(obj, receptacle, spot)
        box["id"] = receptacle.object_id

    def _do_DropHandObject(self, args, box=None):
        held = self._held()
        if not held:
            raise ActionFailed("nothing in hand to drop")
        obj = held[0]
        world = self.world
        hand = world.position(obj)
        below = []
        for r in self._active():
            if r is obj or r.disabled or not r.can("receptacle") or not r.shape.surfaces or r.held:
                continue
            lo, hi = world.aabb(r)
            if lo[0] <= hand[0] <= hi[0] and lo[1] <= hand[1] <= hi[1] and hi[2] <= hand[2] + 0.05:
                below.append((hi[2], r))
        for _, r in sorted(below, key=lambda t: -t[0]):
            spot = world.find_spot(r, obj, target=hand, rel_yaw=0.0)
            if spot is not None:
                obj.held = False
                world.attach(obj, r, spot)
                return None
        raise ActionFailed("no place below the hand to drop the object onto")

    def _do_OpenObject(self, args, box):
        obj = self._target(args, "OpenObject", box)
        self._require(obj, "openable", f"{obj.object_id} is not an Openable object")
        if obj.object_type == "Microwave" and obj.is_toggled:
            raise ActionFailed("Target must be OFF to open!")
        obj.openness = float(args.get("openness", 1.0))

    def _do_CloseObject(self, args, box):
        obj = self._target(args, "CloseObject", box)
        self._require(obj, "openable", f"{obj.object_id} is not an Openable object")
        obj.openness = 0.0

    def _do_ToggleObjectOn(self, args, box):
        obj = self._target(args, "ToggleObjectOn", box)
        self._require(obj, "toggleable", "object is not toggleable")
        if obj.is_toggled:
            raise ActionFailed("can't toggle object on if it's already on!")
        if obj.object_type == "Microwave" and obj.is_open:
            raise ActionFailed("Microwave must be closed to turn on")
        if obj.is_broken:
            raise ActionFailed(f"{obj.object_id} is broken and can't be turned on")
        obj.is_toggled = True

    def _do_ToggleObjectOff(self, args, box):
        obj = self._target(args, "ToggleObjectOff", box)
        self._require(obj, "toggleable", "object is not toggleable")
        if not obj.is_toggled:
            raise ActionFailed("can't toggle object off if it's already off!")
        obj.is_toggled = False

    def _do_SliceObject(self, args, box):
        obj = self._target(args, "SliceObject", box)
        self._require(obj, "sliceable", f"{obj.object_id} Does not have the CanBeSliced property!")
        if obj.is_sliced:
            raise ActionFailed(f"{obj.object_id} is already sliced")
        held = self._held()
        if not any("Knife" in h.object_type for h in held):  # TEACh requires a held knife for Slice
            raise ActionFailed("Agent must be holding a knife to slice")
        spawn_pieces(self.world, obj)

    def _do_BreakObject(self, args, box):
        obj = self._target(args, "BreakObject", box)
        self._require(obj, "breakable", f"{obj.object_id} is not breakable")
        if obj.object_type == "Egg":
            spawn_pieces(self.world, obj)
            return
        obj.is_broken = True
        obj.is_toggled = False

    def _set_flag(self, action: str, args, box) -> None:
        """DirtyObject, CleanObject, CookObject, UseUpObject: set one state flag on an object with the affordance."""
        affordance, attribute, value, complaint = FLAG_ACTIONS[action]
        obj = self._target(args, action, box)
        self._require(obj, affordance, f"{obj.object_id} {complaint}")
        setattr(obj, attribute, value)

    def _do_FillObjectWithLiquid(self, args, box):
        obj = self._target(args, "FillObjectWithLiquid", box)
        self._require(obj, "canFillWithLiquid", f"{obj.object_id} can't be filled with liquid")
        liquid = args.get("fillLiquid", "water")
        obj.is_filled, obj.fill_liquid = True, liquid
        if liquid == "coffee":
            obj.temperature = "Hot"

    def _do_EmptyLiquidFromObject(self, args, box):
        obj = self._target(args, "EmptyLiquidFromObject", box)
        self._require(obj, "canFillWithLiquid", f"{obj.object_id} can't hold liquid")
        obj.is_filled, obj.fill_liquid = False, None

    def _do_Pour(self, args, box):
        """TEACh's Pour: the held filled container fills the target with its liquid (a sink or bathtub just takes it),
        then the held container is empty (TEACh ``simulator_THOR.add_interaction``)."""
        held = self._held()
        if not held or not held[0].is_filled:
            raise ActionFailed("Pour needs a held object filled with liquid")
        target = self._target(args, "Pour", box)
        source = held[0]
        if target.object_type not in WATER_BASINS:
            if not target.can("canFillWithLiquid"):
                raise ActionFailed(f"{target.object_id} can't be filled with liquid")
            target.is_filled, target.fill_liquid = True, source.fill_liquid or "water"
        source.is_filled, source.fill_liquid = False, None
