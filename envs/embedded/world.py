"""The embedded world's geometry: object poses, receptacle surfaces, placement, the room and navigation.

Frames: everything here is the right-handed z-up frame (``envs.camera`` "zup"); metadata converts to AI2-THOR's frame.
Attached objects derive their pose from their parent's link (``SimObject.local``), so moving or opening a receptacle
carries its contents. Placement follows AI2-THOR's rule that an object rests on a receptacle when its footprint lies on a
supporting surface (``ReceptacleRestrictions``: on-receptacles check the bottom corners) with room above it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..camera import AGENT_Y, THOR_TO_ZUP, camera_to_world_zup
from .geometry import footprint, link_transform, rects_overlap, transform, yaw_of
from .objects import SimObject

AGENT_RADIUS = 0.2
GRID_SIZE = 0.25
PLACEMENT_STEP = 0.025
PLACEMENT_GAP = 0.005
CENTRED_RECEPTACLES = frozenset({"StoveBurner", "CoffeeMachine", "Toaster", "ToiletPaperHanger", "TowelHolder",
                                 "HandTowelHolder", "Bowl", "Cup", "Mug", "Pot", "Pan", "Plate"})
"""Receptacles that take an object whose centre lies on them (it may overhang): appliances and holders, and the dishes
that AI2-THOR checks by the bottom corners only (an apple rests in a bowl narrower than the apple's box)."""
STACKING_RECEPTACLES = frozenset({"Plate"})
"""When a plate is full, further pieces stack on top (bread, lettuce and tomato slices make a sandwich)."""
PILING_RECEPTACLES = frozenset({"Bowl", "Pot", "Pan"})
"""Dishes a put piles pieces in, up to the dish's clearance, once the floor is taken: AI2-THOR checks only an object's
bottom corners inside these dishes (../shared/reference/ai2thor/ai2thor.md, placement) and its physics lets slices pile
up, and TEACh's "N Cooked Slices Of X In Y" asks for two or more slices in one bowl. Only agents' puts pile
(``find_spot(pile=True)``); scene layouts are built without it, so they stay as they were."""


@dataclass
class Room:
    """An axis-aligned rectangular room [0, width] x [0, depth] (z-up x, y) with walls of ``height``."""

    width: float
    depth: float
    height: float
    # Extra floor-standing obstacles not tied to objects (stove body, vanity), as (cx, cy, hx, hy).
    obstacles: list = field(default_factory=list)


@dataclass
class Agent:
    x: float = 0.0  # z-up position of the agent's vertical axis
    y: float = 0.0
    yaw: float = 0.0  # AI2-THOR degrees, clockwise from +z_thor
    horizon: float = 0.0  # degrees, positive looks down
    standing: bool = True

    def thor_position(self) -> dict:
        return {"x": self.x, "y": AGENT_Y, "z": self.y}

    def camera_zup(self) -> np.ndarray:
        height = AGENT_Y + (0.675 if self.standing else 0.675 - 0.22)
        return np.array([self.x, self.y, height])

    def camera_to_world(self) -> np.ndarray:
        return camera_to_world_zup(THOR_TO_ZUP @ self.camera_zup(), self.yaw, self.horizon)


class World:
    def __init__(self, room: Room, objects: list[SimObject], agent: Agent):
        self.room = room
        self.objects: dict[str, SimObject] = {o.object_id: o for o in objects}
        self.agent = agent
        self._pose_cache: dict[str, np.ndarray] = {}
        self._aabb_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._children_map: dict[str, list[SimObject]] | None = None

    # --- poses -------------------------------------------------------------------------------------------------------
    def invalidate(self) -> None:
        self._pose_cache.clear()
        self._aabb_cache.clear()
        self._children_map = None

    def pose(self, obj: SimObject) -> np.ndarray:
        """4x4 world transform of the object frame."""
        cached = self._pose_cache.get(obj.object_id)
        if cached is not None:
            return cached
        if obj.held:
            t = self.hand_pose(obj)
        elif obj.parent is not None and obj.local is not None and obj.parent in self.objects:
            parent = self.objects[obj.parent]
            frame = self.surface_link_pose(parent, obj.surface)
            t = frame @ transform(obj.local[:3], obj.local[3])
        else:
            t = transform(obj.pos, obj.yaw)
        self._pose_cache[obj.object_id] = t
        return t

    def link_pose(self, obj: SimObject, link_name: str) -> np.ndarray:
        base = self.pose(obj)
        if link_name == "base":
            return base
        for link in obj.shape.links:
            if link.name == link_name:
                return base @ link_transform(link.joint, link.axis, link.anchor, link.open_amount * obj.openness)
        return base

    def surface_link_pose(self, obj: SimObject, surface: int) -> np.ndarray:
        surfaces = obj.shape.surfaces
        link = surfaces[surface].link if 0 <= surface < len(surfaces) else "base"
        return self.link_pose(obj, link)

    def hand_pose(self, obj: SimObject | None = None) -> np.ndarray:
        """Held objects float in front of the camera, low and slightly right, upright, as AI2-THOR's hand holds them;
        without ``obj``, where the empty hand is."""
        cam = self.agent.camera_to_world()
        forward = cam[:3, 2].copy()
        forward[2] = 0.0
        forward /= np.linalg.norm(forward)
        right = cam[:3, 0]
        half = obj.shape.half_extents if obj is not None else (0.0, 0.0, 0.0)
        hz = half[2]
        reach = 0.45 + max(half[0], half[1])
        centre = cam[:3, 3] + reach * forward + 0.12 * right
        centre[2] = cam[2, 3] - 0.35 - hz
        return transform(centre, math.atan2(forward[1], forward[0]) - math.pi / 2)

    def position(self, obj: SimObject) -> np.ndarray:
        return self.pose(obj)[:3, 3]

    def aabb(self, obj: SimObject) -> tuple[np.ndarray, np.ndarray]:
        """World axis-aligned box of the object's parts (closed pose), AI2-THOR's ``axisAlignedBoundingBox``."""
        cached = self._aabb_cache.get(obj.object_id)
        if cached is not None:
            return cached
        t = self.pose(obj)
        lo, hi = obj.local_bounds
        centre = t[:3, :3] @ ((lo + hi) / 2) + t[:3, 3]
        extent = np.abs(t[:3, :3]) @ ((hi - lo) / 2)
        box = (centre - extent, centre + extent)
        self._aabb_cache[obj.object_id] = box
        return box

    # --- receptacle relations -------------------------------------------------------------------------------------
    def children(self, object_id: str) -> list[SimObject]:
        if self._children_map is None:
            table: dict[str, list[SimObject]] = {}
            for o in self.objects.values():
                if o.parent is not None and not o.disabled and not o.held:
                    table.setdefault(o.parent, []).append(o)
            self._children_map = table
        return self._children_map.get(object_id, [])

    def descendants(self, object_id: str) -> list[SimObject]:
        out, stack = [], [object_id]
        while stack:
            for child in self.children(stack.pop()):
                out.append(child)
                stack.append(child.object_id)
        return out

    def ancestors(self, obj: SimObject) -> list[str]:
        chain, seen = [], set()
        current = obj
        while current.parent is not None and current.parent in self.objects and current.parent not in seen:
            seen.add(current.parent)
            chain.append(current.parent)
            current = self.objects[current.parent]
        return chain

    # --- placement -------------------------------------------------------------------------------------------------
    def find_spot(self, receptacle: SimObject, obj: SimObject, surface: int | None = None, target=None,
                  rng: np.random.Generator | None = None, rel_yaw: float | None = None, pile: bool = False):
        """A free resting pose for ``obj`` on one of ``receptacle``'s surfaces, as (surface, local x, y, z, yaw).

        Candidates lie on a 2.5 cm lattice inside the surface, inset by the object's footprint; occupied footprints and
        the surface's clearance exclude candidates. ``target`` (a z-up world point) picks the candidate nearest to it
        (TEACh's ``putNearXY``); otherwise ``rng`` picks one at random, or the one nearest the surface's back-left corner.
        Returns None when nothing fits ("No valid positions to place object found"). ``pile``: a full bowl, pot or
        pan takes a piece on top of what is in it (``PILING_RECEPTACLES``), as a full plate always does.
        """
        surfaces = list(range(len(receptacle.shape.surfaces))) if surface is None else [surface]
        best, best_score = None, math.inf
        height = 2.0 * obj.shape.half_extents[2]
        for s in surfaces:
            surf = receptacle.shape.surfaces[s]
            if height > surf.clearance + 1e-6:
                continue
            yaw = rel_yaw if rel_yaw is not None else (0.0 if rng is None else rng.choice([0.0, math.pi / 2, math.pi, -math.pi / 2]))
            half = footprint(obj.shape.half_extents, yaw)
            # Appliances and holders take their one kind of object centred on them (a pot overhangs its burner).
            contain = np.zeros(2) if receptacle.object_type in CENTRED_RECEPTACLES else half
            cx, cy, cz = surf.center
            hx, hy = surf.half_size
            if contain[0] > hx + 1e-6 or contain[1] > hy + 1e-6:
                continue
            step = min(PLACEMENT_STEP, max(0.01, min(hx, hy) / 10.0))  # finer on small surfaces (microwave plate)
            xs = _lattice(cx, hx - contain[0], step)
            ys = _lattice(cy, hy - contain[1], step)
            occupied = [self._occupant_rect(o) for o in self.children(receptacle.object_id)
                        if o.surface == s and o is not obj]
            frame = self.surface_link_pose(receptacle, s)
            local_target = None
            if target is not None:
                inv = np.linalg.inv(frame)
                local_target = (inv @ np.append(np.asarray(target, dtype=float), 1.0))[:2]
            candidates = [(x, y) for x in xs for y in ys
                          if not any(rects_overlap((x, y), half, c, h, PLACEMENT_GAP) for c, h in occupied)]
            if not candidates and (receptacle.object_type in STACKING_RECEPTACLES
                                   or pile and receptacle.object_type in PILING_RECEPTACLES):
                stacked = self._stack_spot(receptacle, s, obj, yaw)
                if stacked is not None and best is None:
                    best, best_score = stacked, math.inf
                continue
            if not candidates:
                continue
            if local_target is not None:
                scores = [math.hypot(x - local_target[0], y - local_target[1]) for x, y in candidates]
            elif rng is not None:
                scores = list(rng.random(len(candidates)))
            else:  # pack from the back-left corner so later objects still find room
                scores = [math.hypot(x - (cx - hx), y - (cy - hy)) for x, y in candidates]
            i = int(np.argmin(scores))
            if scores[i] < best_score:
                best_score = scores[i]
                best = (s, candidates[i][0], candidates[i][1], cz, yaw)
        return best

    def _stack_spot(self, receptacle: SimObject, surface: int, obj: SimObject, yaw: float):
        """On a full plate (or bowl, pot, pan), a piece rests on top of what is already there, centred (a sandwich is
        a stack)."""
        surf = receptacle.shape.surfaces[surface]
        on_it = [o for o in self.children(receptacle.object_id) if o.surface == surface and o is not obj]
        top = max((o.local[2] + float(o.local_bounds[1][2]) for o in on_it), default=surf.center[2])
        if top + 2.0 * obj.shape.half_extents[2] - surf.center[2] > surf.clearance:
            return None
        return (surface, surf.center[0], surf.center[1], top + 0.002, yaw)

    def _occupant_rect(self, o: SimObject):
        half = footprint(o.shape.half_extents, o.local[3])
        return (o.local[0], o.local[1]), half

    def attach(self, obj: SimObject, receptacle: SimObject, spot) -> None:
        s, x, y, z, yaw = spot
        obj.parent, obj.surface = receptacle.object_id, s
        obj.local = np.array([x, y, z, yaw], dtype=float)
        obj.held = False
        self.invalidate()

    def detach(self, obj: SimObject) -> None:
        """Freeze the current world pose and cut the link to the parent."""
        t = self.pose(obj)
        obj.pos, obj.yaw = t[:3, 3].copy(), yaw_of(t)
        obj.parent, obj.surface, obj.local = None, -1, None
        self.invalidate()

    def relocalise(self, obj: SimObject, parent: SimObject, world_pos, world_yaw: float) -> None:
        """Attach ``obj`` to ``parent`` keeping the given world pose (used when restoring a saved state)."""
        best_s, best_d = 0, math.inf
        for s, surf in enumerate(parent.shape.surfaces):
            frame = self.surface_link_pose(parent, s)
            local = np.linalg.inv(frame) @ np.append(world_pos, 1.0)
            d = abs(local[2] - surf.center[2]) + max(0.0, abs(local[0] - surf.center[0]) - surf.half_size[0]) \
                + max(0.0, abs(local[1] - surf.center[1]) - surf.half_size[1])
            if d < best_d:
                best_s, best_d = s, d
        frame = self.surface_link_pose(parent, best_s) if parent.shape.surfaces else self.pose(parent)
        local = np.linalg.inv(frame) @ np.append(world_pos, 1.0)
        obj.parent, obj.surface = parent.object_id, best_s
        obj.local = np.array([local[0], local[1], local[2], world_yaw - yaw_of(frame)])
        self.invalidate()

    # --- navigation ------------------------------------------------------------------------------------------------
    def blocking_rects(self) -> list[tuple]:
        """Footprints (cx, cy, hx, hy) of everything standing on the floor that the agent cannot walk through."""
        rects = list(self.room.obstacles)
        for o in self.objects.values():
            if o.disabled or o.held or o.pickupable or o.object_type in ("Floor", "Window", "Painting", "LightSwitch",
                                                                         "Mirror", "TowelHolder", "HandTowelHolder",
                                                                         "ToiletPaperHanger"):
                continue
            lo, hi = self.aabb(o)
            if lo[2] > 1.2:  # wall cabinets and shelves above head height of the agent's body
                continue
            rects.append(((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (hi[0] - lo[0]) / 2, (hi[1] - lo[1]) / 2))
        return rects

    def is_free(self, x: float, y: float, rects=None) -> bool:
        r = AGENT_RADIUS
        if not (r - 1e-6 <= x <= self.room.width - r + 1e-6 and r - 1e-6 <= y <= self.room.depth - r + 1e-6):
            return False
        for cx, cy, hx, hy in (rects if rects is not None else self.blocking_rects()):
            dx = max(abs(x - cx) - hx, 0.0)
            dy = max(abs(y - cy) - hy, 0.0)
            if dx * dx + dy * dy < r * r - 1e-9:
                return False
        return True

    def segment_free(self, x0, y0, x1, y1, rects=None) -> bool:
        rects = rects if rects is not None else self.blocking_rects()
        steps = max(1, int(math.ceil(math.hypot(x1 - x0, y1 - y0) / 0.05)))
        return all(self.is_free(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps, rects)
                   for t in range(1, steps + 1))

    def grid_points(self) -> list[tuple[float, float]]:
        rects = self.blocking_rects()
        nx = int(self.room.width / GRID_SIZE)
        ny = int(self.room.depth / GRID_SIZE)
        return [(i * GRID_SIZE, j * GRID_SIZE) for i in range(nx + 1) for j in range(ny + 1)
                if self.is_free(i * GRID_SIZE, j * GRID_SIZE, rects)]

    def reachable_positions(self, start: tuple[float, float] | None = None) -> list[tuple[float, float]]:
        """Grid points (0.25 m) connected to ``start`` (default: the agent) by free straight moves, as AI2-THOR's
        ``GetReachablePositions`` floods the grid from the agent."""
        free = {(round(x / GRID_SIZE), round(y / GRID_SIZE)) for x, y in self.grid_points()}
        sx, sy = start if start is not None else (self.agent.x, self.agent.y)
        seed = (round(sx / GRID_SIZE), round(sy / GRID_SIZE))
        if seed not in free:
            return sorted((i * GRID_SIZE, j * GRID_SIZE) for i, j in free)
        seen, stack = {seed}, [seed]
        while stack:
            i, j = stack.pop()
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                n = (i + di, j + dj)
                if n in free and n not in seen:
                    seen.add(n)
                    stack.append(n)
        return sorted((i * GRID_SIZE, j * GRID_SIZE) for i, j in seen)


def _lattice(centre: float, half_range: float, step: float) -> list[float]:
    if half_range <= 1e-9:
        return [centre]
    n = int(half_range / step)
    return [centre + k * step for k in range(-n, n + 1)] + [centre - half_range, centre + half_range]
