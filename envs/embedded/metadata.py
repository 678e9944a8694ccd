"""What the agent gets back from the embedded world: the rendered frames and AI2-THOR's metadata, as an Event.

Keys and meanings follow AI2-THOR's metadata (``ai2thor/tests/data/metadata-schema.json`` in ``allenai/ai2thor``;
the Event of ``ai2thor/server.py``): per object its pose, axis-aligned box, visibility (rendered pixels within the
visibility distance), affordances and states, parents and contents; the agent's pose; the held object's pose;
``currentTime``; the scene's bounds and colours. One :class:`SceneMetadata` serves one loaded scene and keeps what is
fixed for it (colours, per-object static fields) and a cache of the object list, keyed by ``version``, which the env
bumps whenever the world may have changed.
"""

from __future__ import annotations

import math
import time
import zlib
from typing import Any

import numpy as np

from ..camera import AGENT_Y, THOR_TO_ZUP
from ..event import Event
from ..ontology import load_ontology
from ..simbot import SimbotTracker
from .geometry import object_yaw_to_thor, wrap_degrees
from .layout import Scene
from .objects import SimObject
from .renderer import SceneRenderer



def object_name(o) -> str:
    """AI2-THOR's ``name`` of a scene object: type and a CRC-32 of its id (stable across processes); a duplicate
    carries its original's name with Unity's "(Copy)" suffix, as AI2-THOR names the copies it spawns."""
    if o.copy_of is not None:
        return f"{o.object_type}_{zlib.crc32(o.copy_of.encode()):08x}(Copy)"
    return f"{o.object_type}_{zlib.crc32(o.object_id.encode()):08x}"

class SceneMetadata:
    """Renders one loaded scene and writes its Events. ``simbot``'s properties are merged into every object list."""

    def __init__(self, scene: Scene, renderer: SceneRenderer, simbot: SimbotTracker, fov: float, width: int,
                 height: int, visibility_distance: float, render_depth: bool = True,
                 render_instance_segmentation: bool = True):
        self.scene, self.world, self.renderer, self.simbot = scene, scene.world, renderer, simbot
        self.fov, self.width, self.height = fov, width, height
        self.visibility_distance = visibility_distance
        self.render_depth, self.render_instance_segmentation = render_depth, render_instance_segmentation
        self.version = 0  # bumped by the env whenever the world may have changed; keys the object-list cache
        self.loaded_at = time.monotonic()  # metadata currentTime: seconds since the scene was loaded
        self._colours = instance_colours(renderer.instance_names)
        self._pixel_counts: np.ndarray | None = None
        self._raw_cache: tuple | None = None
        self._static_cache: dict[str, dict] = {}  # per object: metadata fixed by its type and shape
        self._seg_lut: np.ndarray | None = None  # instance index -> segmentation colour

    def raw_objects(self) -> list[dict]:
        """AI2-THOR object metadata (without simbot properties). Cached until the world or the last frame changes:
        TEACh's per-interaction rules read the objects several times per step."""
        key = (self.version, id(self._pixel_counts))
        if self._raw_cache is None or self._raw_cache[0] != key:
            counts = self._pixel_counts
            index = {oid: i for i, oid in enumerate(self.renderer.instance_names)}
            objects = [self._object_metadata(o, counts[index[o.object_id]] if counts is not None else 0)
                       for o in self.world.objects.values() if o.in_world]
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
                "name": object_name(o),
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

    def emit(self, action: str, success: bool, error: str, result: Any, error_code: str = "ActionFailed") -> Event:
        """Render the world and build the Event of an action's outcome."""
        world = self.world
        self.renderer.sync(world)
        rgb, depth, instance = self.renderer.render()
        n = len(self.renderer.instance_names)
        self._pixel_counts = np.bincount(instance[instance >= 0].ravel(), minlength=n)
        objects = self.simbot.merged(self.raw_objects())
        agent = world.agent
        camera = THOR_TO_ZUP @ agent.camera_zup()
        held = [o for o in world.objects.values() if o.held]
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
            "currentTime": time.monotonic() - self.loaded_at,
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
        return Event(metadata, frame=rgb, depth_frame=depth if self.render_depth else None,
                     instance_segmentation_frame=seg, object_id_to_color=self._colours if seg is not None else None,
                     instance_index=instance if seg is not None else None,
                     instance_index_names=self.renderer.instance_names if seg is not None else None)

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


def instance_colours(names: list[str]) -> dict[str, tuple]:
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
