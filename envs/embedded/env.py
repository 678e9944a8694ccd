"""``EmbeddedEnv``: our AI2-THOR-compatible household simulator (procedural rooms, MuJoCo rendering, CPU, headless).

Action names, arguments, failure reporting and state changes follow AI2-THOR 3.x as its documentation describes them
(ai2thor.allenai.org/ithor/documentation: ``navigation``, ``interactive-physics``, ``object-state-changes``) and its
client reports them (``ai2thor/controller.py`` and ``ai2thor/server.py`` of the ``ai2thor`` 3.1.0 wheel); object
interaction by screen coordinates ``x, y`` in [0, 1] is
resolved as TEACh's wrapper resolves clicks (``envs.clicks``: exact pixel first, then a +-10 px square; reach 1.5 m),
and the TEACh custom "simbot" properties are maintained by ``envs.simbot`` after every interaction, as TEACh does.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
import zlib
from typing import Any, Callable

import numpy as np

from .. import clicks
from ..base import INTERACTION_ACTIONS, NAVIGATION_ACTIONS, Env, normalise_step_args
from ..camera import AGENT_Y, THOR_TO_ZUP
from ..event import Event
from ..ontology import SLICED_TYPE, WATER_BASINS, load_ontology
from ..scenes import parse_scene
from ..simbot import SimbotTracker, custom_metadata_from_state
from ..validation import HORIZON_LIMITS, check_state, invalid_argument
from .geometry import object_yaw_from_thor, object_yaw_to_thor, wrap_degrees
from .layout import Scene, build_scene
from .objects import SimObject
from .renderer import SceneRenderer
from .shapes import make_shape
from .world import GRID_SIZE

STATE_DECIMALS = 6
"""Decimals of the floats in an exported state (micrometres, micro-degrees)."""
SLICE_COUNTS = {"Apple": 4, "Bread": 6, "Lettuce": 5, "Potato": 4, "Tomato": 5, "Egg": 1}
"""Pieces per sliced object. AI2-THOR's counts per prefab are not documented (ai2thor.md, UNVERIFIED); these are ours."""

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


class EmbeddedEnv(Env):
    def __init__(self, width: int = 300, height: int = 300, fov: float = 90, seed: int = 0,
                 scene: str | None = None, visibility_distance: float = 1.5, grid_size: float = GRID_SIZE,
                 render_depth: bool = True, render_instance_segmentation: bool = True, **unknown: Any):
        if unknown:
            raise ValueError(f"EmbeddedEnv: unknown option(s) {sorted(unknown)}; expected width, height, fov, seed, "
                             "scene, visibility_distance, grid_size, render_depth, render_instance_segmentation")
        for name, value in (("width", width), ("height", height)):
            if not isinstance(value, int) or not 16 <= value <= 2048:
                raise ValueError(f"EmbeddedEnv: {name} must be an int in [16, 2048], got {value!r}")
        if not 10 <= float(fov) <= 170:
            raise ValueError(f"EmbeddedEnv: fov must be in [10, 170] degrees, got {fov!r}")
        if abs(grid_size - GRID_SIZE) > 1e-9:
            raise ValueError(f"EmbeddedEnv: only gridSize {GRID_SIZE} is supported, got {grid_size}")
        self.width, self.height, self.fov = width, height, float(fov)
        self.seed = int(seed)
        self.visibility_distance = float(visibility_distance)
        self.render_depth = render_depth
        self.render_instance_segmentation = render_instance_segmentation
        self.rng = np.random.default_rng(self.seed)
        self.scene: Scene | None = None
        self.renderer: SceneRenderer | None = None
        self.simbot = SimbotTracker()
        self._event: Event | None = None
        self._colours: dict[str, tuple] = {}
        self._pixel_counts: np.ndarray | None = None
        self._version = 0  # bumped whenever the world may have changed; keys the metadata cache
        self._raw_cache: tuple | None = None
        self.unknown_state_objects: list[str] = []
        self._reset_time = time.monotonic()
        """objectIds of the last ``initial_state`` that this world lacks (left out, with a warning)."""
        self._static_cache: dict[str, dict] = {}  # per object: metadata fixed by its type and shape
        self._seg_lut: np.ndarray | None = None  # instance index -> segmentation colour, per scene
        self._handlers: dict[str, Callable[..., Any]] = {
            name: functools.partial(self._set_flag, name) if name in FLAG_ACTIONS else getattr(self, f"_do_{name}")
            for name in ALL_ACTIONS}
        if scene is not None:
            self.reset(scene=scene)

    # --- Env protocol --------------------------------------------------------------------------------------------------
    @property
    def last_event(self) -> Event:
        if self._event is None:
            raise RuntimeError("EmbeddedEnv: call reset(scene=...) before reading last_event")
        return self._event

    def reset(self, scene: str | None = None, initial_state: dict | None = None, seed: int | None = None,
              **options: Any) -> Event:
        if options:
            raise ValueError(f"reset(): unknown option(s) {sorted(options)}")
        if seed is not None:
            self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        name = scene or (self.scene.name if self.scene else "FloorPlan1")
        name = str(parse_scene(name))
        if initial_state is not None:  # checked before anything changes: a refused state leaves the env as it was
            check_state(initial_state)
        scene = build_scene(name)
        if initial_state is not None:
            _check_agent_fits(initial_state, scene)
        if self.renderer is not None:
            self.renderer.close()
        self.scene = scene
        self.unknown_state_objects = []
        self._reset_time = time.monotonic()  # metadata currentTime: seconds since the scene was loaded
        self._pixel_counts, self._raw_cache = None, None  # both belong to the previous scene
        self._static_cache, self._seg_lut = {}, None
        self._add_slice_pieces()
        self.renderer = SceneRenderer(self.scene, self.width, self.height, self.fov)
        self._colours = _instance_colours(self.renderer.instance_names)
        self._update_physics()
        self.simbot.reset(self._raw_objects())
        self.simbot.apply_step_rules(self._raw_objects, self._follow_up)  # TEACh runs its rules at episode start
        if initial_state is not None:
            self._load_state(initial_state)
            self._report_unknown_objects(initial_state)
        return self._emit("Initialize", True, "", None)

    def step(self, action: str | dict | None = None, **args: Any) -> Event:
        if self.scene is None:
            raise RuntimeError("EmbeddedEnv: call reset(scene=...) before step()")
        name, args = normalise_step_args(action, args)
        if name not in self._handlers:
            raise ValueError(f"InvalidAction: {name!r} is not an action of the embedded simulator; known: "
                             f"{', '.join(sorted(self._handlers))}")
        for flag in ("renderInstanceSegmentation", "renderDepthImage", "renderImage"):
            args.pop(flag, None)
        args = {key: value for key, value in args.items() if value is not None}  # None = not given, as in AI2-THOR
        problem = invalid_argument(name, args)
        if problem is not None:  # envs.validation: a bad value fails the action and changes nothing
            return self._emit(name, False, problem, None, error_code="InvalidArgument")
        interaction = name in INTERACTION_ACTIONS
        held_before = [o.object_id for o in self._held()]
        if interaction:
            self.simbot.before_interaction(self._raw_objects())
        target_box: dict = {}
        try:
            result = self._handlers[name](args, target_box)
            success, error = True, ""
        except ActionFailed as failure:
            result, success, error = None, False, str(failure)
        self.scene.world.invalidate()
        self._update_physics()
        if interaction:
            self.simbot.after_interaction(name, success, target_box.get("id"), held_before, self._raw_objects,
                                          self._follow_up)
        return self._emit(name, success, error, result)

    def export_state(self) -> dict:
        """The world as a TEACh state: ``agents`` [commander, driver], ``objects`` (metadata with simbot properties)
        and ``custom_object_metadata``, floats rounded to ``STATE_DECIMALS``. The world is first set to that rounded
        state itself (objects move by less than 1e-6 m), so ``reset(initial_state=state)`` rebuilds exactly the world
        the state describes: export -> reset -> export gives the same dict to the letter."""
        self.simbot.add_classes(self._raw_objects())  # as TEACh re-derives classes when it captures a state
        self._load_state(self._captured_state())
        m = self.last_event.metadata
        self._emit(m["lastAction"], m["lastActionSuccess"], m["errorMessage"], m["actionReturn"])
        return self._captured_state()

    def _captured_state(self) -> dict:
        """The state as the last render shows it: a deep copy, floats rounded to ``STATE_DECIMALS``."""
        agent = self.last_event.metadata["agent"]
        return _rounded({"time_start": 0, "agents": [agent, agent], "objects": self.simbot.merged(self._raw_objects()),
                         "custom_object_metadata": self.simbot.custom})

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None

    # --- shortcuts -------------------------------------------------------------------------------------------------
    @property
    def world(self):
        return self.scene.world

    def _held(self) -> list[SimObject]:
        return [o for o in self.world.objects.values() if o.held]

    def _active(self) -> list[SimObject]:
        return [o for o in self.world.objects.values() if o.in_world]

    # --- slices ------------------------------------------------------------------------------------------------------
    def _add_slice_pieces(self) -> None:
        """Pre-build the pieces of every sliceable object (hidden until cut), so the render model never changes."""
        world = self.world
        rng = np.random.default_rng(self.scene.seed + 1)
        for obj in list(world.objects.values()):
            piece_type = SLICED_TYPE.get(obj.object_type)
            if piece_type is None:
                continue
            for k in range(SLICE_COUNTS[obj.object_type]):
                piece = SimObject(object_id=f"{obj.object_id}|{piece_type}_{k}", object_type=piece_type,
                                  shape=make_shape(piece_type, rng), pos=np.zeros(3), disabled=True, in_world=False,
                                  spawned_from=obj.object_id)
                world.objects[piece.object_id] = piece

    def _spawn_pieces(self, obj: SimObject) -> None:
        """Cut ``obj``: its pieces appear inside its bounds, as AI2-THOR swaps in a sliced prefab at the object's pose
        (``SliceObject.cs``): side by side along its longer side, overlapping and resting on one another when they do
        not fit side by side (a small apple's slices lie in a pile)."""
        world = self.world
        pieces = [o for o in world.objects.values() if o.spawned_from == obj.object_id]
        pose = world.pose(obj)
        parent = world.objects.get(obj.parent) if obj.parent else None
        for piece, local in zip(pieces, _piece_spots(obj, pieces)):
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

    # --- rules ----------------------------------------------------------------------------------------------------------
    def _update_physics(self) -> None:
        """AI2-THOR's contextual state changes, applied after every action (ai2thor.md section 4)."""
        self._version += 1
        world = self.world
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
            if faucets and self._nearest(basin, faucets).is_toggled:
                for o in world.descendants(basin.object_id):
                    o.is_dirty = False if o.can("dirtyable") else o.is_dirty
                    if o.can("canFillWithLiquid") and not o.is_filled:
                        o.is_filled, o.fill_liquid = True, "water"
        for burner in by_type.get("StoveBurner", []):
            burner.temperature = "Hot" if burner.is_toggled else "RoomTemp"
            if burner.is_toggled:
                self._heat(world.descendants(burner.object_id), toast=False)
        for microwave in by_type.get("Microwave", []):
            if microwave.is_toggled and not microwave.is_open:
                self._heat(world.descendants(microwave.object_id), toast=False)
        for toaster in by_type.get("Toaster", []):
            if toaster.is_toggled:
                self._heat([o for o in world.descendants(toaster.object_id) if o.object_type == "BreadSliced"],
                           toast=True)
        for machine in by_type.get("CoffeeMachine", []):
            if machine.is_toggled:
                for o in world.descendants(machine.object_id):
                    if o.can("canFillWithLiquid") and not o.is_filled:
                        o.is_filled, o.fill_liquid, o.temperature = True, "coffee", "Hot"
        for fridge in by_type.get("Fridge", []):
            if not fridge.is_open:
                for o in world.descendants(fridge.object_id):
                    o.temperature = "Cold"

    @staticmethod
    def _heat(objects: list[SimObject], toast: bool) -> None:
        for o in objects:
            o.temperature = "Hot"
            if o.can("cookable") and (toast or o.object_type != "BreadSliced"):
                o.is_cooked = True

    def _nearest(self, obj: SimObject, candidates: list[SimObject]) -> SimObject:
        p = self.world.position(obj)
        return min(candidates, key=lambda c: float(np.linalg.norm(self.world.position(c)[:2] - p[:2])))

    def _follow_up(self, action: str, objectId: str, fillLiquid: str | None = None, **_: Any) -> None:
        """TEACh's Sink rule issues CleanObject / FillObjectWithLiquid; our physics already did the same, so these only
        re-assert the state (no render, no new event)."""
        obj = self.world.objects.get(objectId)
        if obj is None:
            return
        self._version += 1
        if action == "CleanObject" and obj.can("dirtyable"):
            obj.is_dirty = False
        elif action == "FillObjectWithLiquid" and obj.can("canFillWithLiquid"):
            obj.is_filled, obj.fill_liquid = True, fillLiquid or "water"

    # --- metadata --------------------------------------------------------------------------------------------------
    def _raw_objects(self) -> list[dict]:
        """AI2-THOR object metadata (without simbot properties). Cached until the world or the last frame changes:
        TEACh's per-interaction rules read the objects several times per step."""
        key = (self._version, id(self._pixel_counts))
        if self._raw_cache is None or self._raw_cache[0] != key:
            counts = self._pixel_counts
            index = {oid: i for i, oid in enumerate(self.renderer.instance_names)}
            objects = [self._object_metadata(o, counts[index[o.object_id]] if counts is not None else 0)
                       for o in self._active()]
            self._raw_cache = (key, objects)
        return [dict(o) for o in self._raw_cache[1]]

    def _static_metadata(self, o: SimObject) -> dict:
        """The metadata fields fixed by an object's type and shape (affordances, name, mass): computed once per
        object and scene, since every step lists every object."""
        cached = self._static_cache.get(o.object_id)
        if cached is None:
            kind = load_ontology().types.get(o.object_type)
            cached = {
                "objectId": o.object_id,
                "objectType": o.object_type,
                "name": f"{o.object_type}_{zlib.crc32(o.object_id.encode()):08x}",  # stable across processes
                "pickupable": o.pickupable,
                "moveable": bool(kind is not None and not o.pickupable
                                 and o.object_type not in ("Floor", "CounterTop")),
                "receptacle": o.can("receptacle"),
                "openable": o.can("openable"),
                "toggleable": o.can("toggleable"),
                "sliceable": o.can("sliceable"),
                "cookable": o.can("cookable"),
                "dirtyable": o.can("dirtyable"),
                "canFillWithLiquid": o.can("canFillWithLiquid"),
                "breakable": o.can("breakable"),
                "canBeUsedUp": o.can("usedUp"),
                "isColdSource": o.object_type == "Fridge",
                "heatSource": o.object_type in ("StoveBurner", "Microwave", "Toaster", "CoffeeMachine", "Candle"),
                "mass": 0.0 if not o.pickupable else round(float(np.prod(o.shape.half_extents)) * 8000.0, 3),
            }
            self._static_cache[o.object_id] = cached
        return cached

    def _object_metadata(self, o: SimObject, pixels: int) -> dict:
        world = self.world
        static = self._static_metadata(o)
        lo, hi = world.aabb(o)
        thor_lo, thor_hi = THOR_TO_ZUP @ lo, THOR_TO_ZUP @ hi
        centre = (thor_lo + thor_hi) / 2
        size = np.abs(thor_hi - thor_lo)
        hx, hy, hz = thor_hi.tolist()
        lx, ly, lz = thor_lo.tolist()
        corners = [[x, y, z] for x in (hx, lx) for y in (hy, ly) for z in (hz, lz)]
        pose = world.pose(o)
        thor_pos = THOR_TO_ZUP @ pose[:3, 3]
        agent = world.agent
        dx = max(lo[0] - agent.x, 0.0, agent.x - hi[0])
        dy = max(lo[1] - agent.y, 0.0, agent.y - hi[1])
        horizontal = math.hypot(dx, dy)
        visible = bool(pixels > 0 and horizontal <= self.visibility_distance and not o.disabled)
        cx, cy, cz = centre.tolist()
        distance = math.sqrt((cx - agent.x) ** 2 + (cy - AGENT_Y) ** 2 + (cz - agent.y) ** 2)
        parents = world.ancestors(o) if not (o.held or o.disabled) else []  # sliced/cracked originals left the world
        receptacle = static["receptacle"]
        px, py, pz = thor_pos.tolist()
        sx, sy, sz = size.tolist()
        meta = {
            "objectId": static["objectId"],
            "objectType": static["objectType"],
            "name": static["name"],
            "position": {"x": px, "y": py, "z": pz},
            "rotation": {"x": 0.0, "y": float(object_yaw_to_thor(math.atan2(pose[1, 0], pose[0, 0]))), "z": 0.0},
            "axisAlignedBoundingBox": {"cornerPoints": corners,
                                       "center": {"x": cx, "y": cy, "z": cz},
                                       "size": {"x": sx, "y": sy, "z": sz}},
            "objectOrientedBoundingBox": None,
            "visible": visible,
            "obstructed": not visible,
            "distance": distance,
            "pickupable": static["pickupable"],
            "isPickedUp": o.held,
            "moveable": static["moveable"],
            "receptacle": receptacle,
            "receptacleObjectIds": [c.object_id for c in world.descendants(o.object_id)] if receptacle else None,
            "parentReceptacles": parents or None,
            "openable": static["openable"],
            "isOpen": o.is_open,
            "openness": float(o.openness),
            "toggleable": static["toggleable"],
            "isToggled": bool(o.is_toggled),
            "sliceable": static["sliceable"],
            "isSliced": o.is_sliced,
            "cookable": static["cookable"],
            "isCooked": o.is_cooked,
            "dirtyable": static["dirtyable"],
            "isDirty": o.is_dirty,
            "canFillWithLiquid": static["canFillWithLiquid"],
            "isFilledWithLiquid": o.is_filled,
            "fillLiquid": o.fill_liquid if o.is_filled else None,
            "breakable": static["breakable"],
            "isBroken": o.is_broken,
            "canBeUsedUp": static["canBeUsedUp"],
            "isUsedUp": o.is_used_up,
            "ObjectTemperature": o.temperature,
            "temperature": o.temperature,
            "isHeatSource": bool(o.is_toggled and static["heatSource"]),
            "isColdSource": static["isColdSource"],
            "mass": static["mass"],
            "salientMaterials": None,
            "isMoving": False,
        }
        if o.controls:
            meta["controlledObjects"] = list(o.controls)
        return meta

    def _emit(self, action: str, success: bool, error: str, result: Any, error_code: str = "ActionFailed") -> Event:
        world = self.world
        self.renderer.sync(world)
        rgb, depth, instance = self.renderer.render()
        n = len(self.renderer.instance_names)
        self._pixel_counts = np.bincount(instance[instance >= 0].ravel(), minlength=n)
        objects = self.simbot.merged(self._raw_objects())
        agent = world.agent
        camera = THOR_TO_ZUP @ agent.camera_zup()
        held = self._held()
        metadata = {
            "sceneName": self.scene.name,
            "lastAction": action,
            "lastActionSuccess": bool(success),
            "errorMessage": error,
            "errorCode": "" if success else error_code,
            "actionReturn": result,
            "agent": {"name": "agent", "position": agent.thor_position(),
                      "rotation": {"x": 0.0, "y": float(agent.yaw), "z": 0.0},
                      "cameraHorizon": float(agent.horizon), "isStanding": agent.standing,
                      "inHighFrictionArea": False},
            "cameraPosition": {"x": float(camera[0]), "y": float(camera[1]), "z": float(camera[2])},
            "fov": self.fov,
            "screenWidth": self.width,
            "screenHeight": self.height,
            "objects": objects,
            "inventoryObjects": [{"objectId": o.object_id, "objectType": o.object_type} for o in held],
            "heldObjectPose": self._held_object_pose(held),
            "currentTime": time.monotonic() - self._reset_time,
            "sceneBounds": self._scene_bounds(),
            "colors": [{"name": name, "color": list(colour)} for name, colour in self._colours.items()],
            "collided": False,
            "collidedObjects": [],
            "isSceneAtRest": True,
            "agentId": 0,
        }
        seg = None
        if self.render_instance_segmentation:
            if self._seg_lut is None:
                self._seg_lut = np.zeros((n + 1, 3), dtype=np.uint8)
                for i, name in enumerate(self.renderer.instance_names):
                    self._seg_lut[i] = self._colours[name]
            seg = self._seg_lut[instance]  # index -1 (nothing) reads the last row, black
        self._event = Event(metadata, frame=rgb, depth_frame=depth if self.render_depth else None,
                            instance_segmentation_frame=seg, object_id_to_color=self._colours if seg is not None else None,
                            instance_index=instance if seg is not None else None,
                            instance_index_names=self.renderer.instance_names if seg is not None else None)
        return self._event

    def _held_object_pose(self, held: list[SimObject]) -> dict:
        """AI2-THOR's ``heldObjectPose``: the held object's pose (the empty hand's when nothing is held) in the world
        and relative to the agent (``localPosition``: x right, y up, z ahead of the agent's position; ``localRotation``
        y: yaw relative to the agent's)."""
        world, agent = self.world, self.world.agent
        pose = world.pose(held[0]) if held else world.hand_pose()
        x, y, z = (THOR_TO_ZUP @ pose[:3, 3]).tolist()
        yaw = object_yaw_to_thor(math.atan2(pose[1, 0], pose[0, 0]))
        heading = math.radians(agent.yaw)
        dx, dz = x - agent.x, z - agent.y
        return {"position": {"x": x, "y": y, "z": z}, "rotation": {"x": 0.0, "y": yaw, "z": 0.0},
                "localPosition": {"x": dx * math.cos(heading) - dz * math.sin(heading), "y": y - AGENT_Y,
                                  "z": dx * math.sin(heading) + dz * math.cos(heading)},
                "localRotation": {"x": 0.0, "y": wrap_degrees(yaw - agent.yaw), "z": 0.0}}

    def _scene_bounds(self) -> dict:
        room = self.world.room
        lo = np.array([0.0, 0.0, 0.0])
        hi = np.array([room.width, room.height, room.depth])
        corners = [[float(x), float(y), float(z)] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        c = (lo + hi) / 2
        return {"center": {"x": c[0], "y": c[1], "z": c[2]}, "size": {"x": hi[0], "y": hi[1], "z": hi[2]},
                "cornerPoints": corners}

    # --- targeting -------------------------------------------------------------------------------------------------
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
        spot = self.world.find_spot(receptacle, obj, target=target, rel_yaw=0.0)
        if spot is None:
            spot = self.world.find_spot(receptacle, obj, target=target, rel_yaw=math.pi / 2)
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
        self._spawn_pieces(obj)

    def _do_BreakObject(self, args, box):
        obj = self._target(args, "BreakObject", box)
        self._require(obj, "breakable", f"{obj.object_id} is not breakable")
        if obj.object_type == "Egg":
            self._spawn_pieces(obj)
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

    # --- state in / out --------------------------------------------------------------------------------------------
    def _load_state(self, state: dict) -> None:
        """Set the world to a TEACh state (checked by ``reset``): the driver's pose, which objects exist,
        their state flags, then their poses and parents. Openness comes before poses, since a drawer's contents are
        placed in the frame of the drawer as it stands."""
        listed = {entry["objectId"]: entry for entry in state["objects"]}
        agents = state.get("agents") or []
        if agents:
            self._load_agent(agents[1] if len(agents) > 1 else agents[0])
        known = {oid: entry for oid, entry in listed.items() if oid in self.world.objects}
        self._load_presence(known)
        self._load_flags(known)
        self.world.invalidate()
        self._load_poses(known)
        self.world.invalidate()
        self._update_physics()
        self.simbot.reset(self._raw_objects(), custom_metadata_from_state(state))
        self.simbot.apply_step_rules(self._raw_objects, self._follow_up)

    def _report_unknown_objects(self, state: dict) -> None:
        """Objects of a state this world lacks (a real AI2-THOR scene's, say) are left out: say which, in
        ``unknown_state_objects`` and a warning, rather than let them vanish silently."""
        self.unknown_state_objects = sorted({entry["objectId"] for entry in state["objects"]} - set(self.world.objects))
        if self.unknown_state_objects:
            more = len(self.unknown_state_objects) - 5
            warnings.warn(f"initial_state: {len(self.unknown_state_objects)} object(s) that {self.scene.name} lacks "
                          f"are left out: {', '.join(self.unknown_state_objects[:5])}"
                          f"{f' (+{more} more)' if more > 0 else ''}", stacklevel=3)

    def _load_agent(self, entry: dict) -> None:
        agent = self.world.agent
        agent.x, agent.y = float(entry["position"]["x"]), float(entry["position"]["z"])
        agent.yaw = wrap_degrees(float(entry["rotation"]["y"]))
        agent.horizon = float(entry.get("cameraHorizon", 0.0))
        agent.standing = bool(entry.get("isStanding", True))

    def _load_presence(self, listed: dict[str, dict]) -> None:
        """Slices listed in the state exist and their originals are cut; unlisted slices are not cut yet."""
        for oid, entry in listed.items():
            obj = self.world.objects[oid]
            obj.in_world = True
            obj.disabled = bool(entry.get("isSliced", False)) and obj.object_type in SLICED_TYPE
            if obj.spawned_from is not None:
                obj.disabled = False
        for obj in self.world.objects.values():
            if obj.spawned_from is not None and obj.object_id not in listed:
                obj.in_world, obj.disabled = False, True

    def _load_flags(self, listed: dict[str, dict]) -> None:
        for oid, entry in listed.items():
            obj = self.world.objects[oid]
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

    def _load_poses(self, listed: dict[str, dict]) -> None:
        """Every movable object at its world pose first, then attached to its direct parent keeping that pose,
        parents before children."""
        world = self.world
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


def _piece_spots(obj: SimObject, pieces: list[SimObject]) -> list[np.ndarray]:
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


def _check_agent_fits(state: dict, scene: Scene) -> None:
    """Refuse a (well-formed) TEACh state whose driver stands outside ``scene``'s floor or tilts beyond AI2-THOR's
    limits, with one ``ValueError`` naming the field."""
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


def _rounded(value: Any) -> Any:
    """A copy of a state with every float rounded to ``STATE_DECIMALS`` (and -0.0 made 0.0): a restored world
    reproduces poses to about 1e-15 m, so the saved numbers come back to the letter."""
    if isinstance(value, float):
        return round(value, STATE_DECIMALS) + 0.0
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item) for item in value]
    return value


def _instance_colours(names: list[str]) -> dict[str, tuple]:
    """A distinct, deterministic RGB colour per instance name (AI2-THOR gives each object its own colour)."""
    rng = np.random.default_rng(12345)
    used, colours = set(), {}
    for name in names:
        while True:
            colour = tuple(int(c) for c in rng.integers(1, 255, 3))
            if colour not in used:
                break
        used.add(colour)
        colours[name] = colour
    return colours
