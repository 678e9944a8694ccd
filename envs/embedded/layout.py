"""Procedural, seeded floorplans of AI2-THOR's four room kinds.

``build_scene("FloorPlan7")`` always returns the same room: its size, furniture, appliances, wall fixtures and the
default arrangement of small objects are drawn from a generator seeded by the scene name (``FloorPlan<N>_v<k>`` gives
further layouts of the same kind for training). Kitchens get counter runs with base and wall cabinets, drawers, a sink
(Sink + SinkBasin + Faucet), a stove (StoveBurners switched by StoveKnobs), a fridge, a microwave, a toaster and a coffee
machine; living rooms, bedrooms and bathrooms get their furniture likewise. Small objects are spread over compatible
receptacles (AI2-THOR's placement restrictions), some inside closed cabinets, drawers and the fridge.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from ..camera import THOR_TO_ZUP
from ..ontology import load_ontology
from ..scenes import parse_scene
from .objects import SimObject, make_object_id
from .shapes import Surface, make_shape
from .world import Agent, Room, World

WALL_YAW = {"south": 0.0, "north": math.pi, "west": -math.pi / 2, "east": math.pi / 2}
"""Yaw that turns an object's front (+y) to face into the room from each wall."""

COUNTER_HEIGHT = 0.9
COUNTER_DEPTH = 0.62
BASE_DEPTH = 0.56


@dataclass
class Structure:
    """Geometry that is not an AI2-THOR object (walls, ceiling, stove body): boxes with a segmentation name."""

    name: str
    center: tuple
    half: tuple
    rgba: tuple
    texture: str = "plain"


@dataclass
class Scene:
    name: str
    kind: str
    world: World
    structures: list[Structure]
    lights: list[dict] = field(default_factory=list)
    seed: int = 0


class _Builder:
    def __init__(self, name: str, kind: str, rng: np.random.Generator):
        self.name, self.kind, self.rng = name, kind, rng
        self.objects: list[SimObject] = []
        self.structures: list[Structure] = []
        self.ids: set[str] = set()
        self.obstacles: list = []
        self.pending: list[tuple[SimObject, tuple]] = []  # (object, receptacles to try): placed at the back, later

    def shape_rng(self) -> np.random.Generator:
        """A generator of its own for each object's shape, so changing a shape builder leaves the layout unchanged."""
        return np.random.default_rng(int(self.rng.integers(2**63)))

    def on_top_later(self, obj: SimObject, *receptacles: SimObject) -> None:
        self.pending.append((obj, receptacles))

    # --- objects ---------------------------------------------------------------------------------------------------
    def new(self, object_type: str, pos, yaw: float, size: dict | None = None, shape=None) -> SimObject:
        shape = shape or make_shape(object_type, self.shape_rng(), size)
        pos = np.asarray(pos, dtype=float)
        thor = THOR_TO_ZUP @ pos
        object_id = make_object_id(object_type, thor)
        bump = 0
        while object_id in self.ids:  # two objects of one type at one rounded spot: nudge the id, as spawn positions differ
            bump += 1
            object_id = make_object_id(object_type, thor + np.array([0.01 * bump, 0.0, 0.0]))
        self.ids.add(object_id)
        obj = SimObject(object_id=object_id, object_type=object_type, shape=shape, pos=pos, yaw=yaw)
        self.objects.append(obj)
        return obj

    def against_wall(self, object_type: str, wall: str, along: float, room: Room, z: float = 0.0,
                     size: dict | None = None, gap: float = 0.0) -> SimObject:
        shape = make_shape(object_type, self.shape_rng(), size)
        hy = shape.half_extents[1]
        inset = hy + gap
        if wall == "south":
            pos = (along, inset, z)
        elif wall == "north":
            pos = (along, room.depth - inset, z)
        elif wall == "west":
            pos = (inset, along, z)
        else:
            pos = (room.width - inset, along, z)
        return self.new(object_type, pos, WALL_YAW[wall], shape=shape)

    def box(self, name, center, half, rgba, texture="plain"):
        self.structures.append(Structure(name, tuple(center), tuple(half), tuple(rgba), texture))


def _wall_point(room: Room, wall: str, along: float, inset: float) -> tuple[float, float]:
    return {"south": (along, inset), "north": (along, room.depth - inset), "west": (inset, along),
            "east": (room.width - inset, along)}[wall]


def _wall_length(room: Room, wall: str) -> float:
    return room.width if wall in ("south", "north") else room.depth


def build_scene(name: str) -> Scene:
    scene_name = parse_scene(name)
    seed = zlib.crc32(str(scene_name).encode())
    rng = np.random.default_rng(seed)
    kind = scene_name.kind
    sizes = {"Kitchen": ((4.0, 6.0), (3.5, 5.5)), "LivingRoom": ((4.5, 7.0), (4.0, 6.5)),
             "Bedroom": ((3.75, 5.5), (3.5, 5.0)), "Bathroom": ((2.75, 4.0), (2.5, 3.75))}[kind]
    width = round(float(rng.uniform(*sizes[0])) / 0.25) * 0.25
    depth = round(float(rng.uniform(*sizes[1])) / 0.25) * 0.25
    room = Room(width=width, depth=depth, height=float(rng.uniform(2.5, 2.9)))
    b = _Builder(str(scene_name), kind, rng)
    floor = b.new("Floor", (0.0, 0.0, 0.0), 0.0, shape=_floor_shape(room))
    floor.pos = np.array([room.width / 2, room.depth / 2, 0.0])
    {"Kitchen": _kitchen, "LivingRoom": _living_room, "Bedroom": _bedroom, "Bathroom": _bathroom}[kind](b, room)
    _walls(b, room)
    room.obstacles = b.obstacles
    world = World(room, b.objects, Agent())
    _ensure_connected(world)
    _spread_small_objects(b, world, kind)
    _place_agent(world, rng)
    lights = _lights(room, rng)
    return Scene(str(scene_name), kind, world, b.structures, lights, seed)


# --- structure ---------------------------------------------------------------------------------------------------------
def _floor_shape(room: Room):
    from .shapes import ShapeSpec

    surface = Surface(center=(0.0, 0.0, 0.0), half_size=(room.width / 2 - 0.05, room.depth / 2 - 0.05),
                      clearance=math.inf)
    return ShapeSpec("Floor", parts=[], links=[], surfaces=[surface], half_extents=(room.width / 2, room.depth / 2, 0.0))


def _walls(b: _Builder, room: Room) -> None:
    palette = [(0.92, 0.9, 0.85), (0.85, 0.88, 0.9), (0.9, 0.85, 0.78), (0.8, 0.85, 0.8), (0.95, 0.95, 0.95)]
    colour = np.array(palette[b.rng.integers(len(palette))]) * b.rng.uniform(0.85, 1.05)
    rgba = (*np.clip(colour, 0, 1), 1.0)
    t, h = 0.1, room.height
    b.box("Wall_south", (room.width / 2, -t / 2, h / 2), (room.width / 2 + t, t / 2, h / 2), rgba)
    b.box("Wall_north", (room.width / 2, room.depth + t / 2, h / 2), (room.width / 2 + t, t / 2, h / 2), rgba)
    b.box("Wall_west", (-t / 2, room.depth / 2, h / 2), (t / 2, room.depth / 2, h / 2), rgba)
    b.box("Wall_east", (room.width + t / 2, room.depth / 2, h / 2), (t / 2, room.depth / 2, h / 2), rgba)
    b.box("Ceiling", (room.width / 2, room.depth / 2, h + t / 2), (room.width / 2 + t, room.depth / 2 + t, t / 2),
          (0.97, 0.97, 0.97, 1.0))


def _lights(room: Room, rng: np.random.Generator) -> list[dict]:
    n = 2 if room.width * room.depth < 20 else 3
    lights = []
    for i in range(n):
        x = room.width * (i + 1) / (n + 1) + rng.uniform(-0.3, 0.3)
        y = room.depth * rng.uniform(0.3, 0.7)
        warm = rng.uniform(0.8, 1.0)
        level = rng.uniform(0.22, 0.34)  # varied brightness and warmth per room
        lights.append({"pos": (x, y, room.height - 0.2), "diffuse": (level * warm, level * warm * 0.96, level * rng.uniform(0.8, 1.0))})
    return lights


def _wall_fixtures(b: _Builder, room: Room, walls: list[str], types: list[str]) -> None:
    """Window, Painting, LightSwitch, Mirror... on walls at sensible heights, spread along free wall space."""
    heights = {"Window": 1.0, "Painting": 1.4, "LightSwitch": 1.2, "Mirror": 1.15, "TowelHolder": 1.2,
               "HandTowelHolder": 1.1, "ToiletPaperHanger": 0.7}
    for object_type in types:
        wall = walls[b.rng.integers(len(walls))]
        length = _wall_length(room, wall)
        along = float(b.rng.uniform(0.5, length - 0.5))
        b.against_wall(object_type, wall, along, room, z=heights.get(object_type, 1.2))


# --- kitchens --------------------------------------------------------------------------------------------------------
def _kitchen(b: _Builder, room: Room) -> None:
    rng = b.rng
    run_wall = "north" if rng.random() < 0.5 else "south"
    side_wall = "east" if rng.random() < 0.5 else "west"
    length = _wall_length(room, run_wall)
    # Fridge at one end of the main run, then modules of 0.6 m (sink and stove among them).
    fridge_at_start = rng.random() < 0.5
    fridge_w = float(rng.uniform(0.75, 0.9))
    start, end = 0.05, length - 0.05
    if fridge_at_start:
        b.against_wall("Fridge", run_wall, start + fridge_w / 2, room, size={"width": fridge_w})
        start += fridge_w + 0.05
    else:
        b.against_wall("Fridge", run_wall, end - fridge_w / 2, room, size={"width": fridge_w})
        end -= fridge_w + 0.05
    n_modules = max(4, int((end - start) / 0.6))
    module_w = (end - start) / n_modules
    kinds = ["cabinet"] * n_modules
    sink_i = int(rng.integers(0, n_modules))
    stove_i = int(rng.choice([i for i in range(n_modules) if abs(i - sink_i) >= 2] or [(sink_i + 2) % n_modules]))
    kinds[sink_i], kinds[stove_i] = "sink", "stove"
    for i in range(n_modules):
        if kinds[i] == "cabinet" and rng.random() < 0.45:
            kinds[i] = "drawer"
    counters = _counter_run(b, room, run_wall, start, end, kinds, module_w)
    # An L-shaped side run on a side wall when the room is deep enough.
    side_len = _wall_length(room, side_wall)
    if side_len >= 3.5 and rng.random() < 0.7:
        s0 = BASE_DEPTH + 0.1 if run_wall == "south" else 0.05
        s1 = side_len - (BASE_DEPTH + 0.1 if run_wall == "north" else 0.05)
        s1 = min(s1, s0 + 2.4)
        n = max(2, int((s1 - s0) / 0.6))
        side_kinds = ["drawer" if rng.random() < 0.4 else "cabinet" for _ in range(n)]
        counters += _counter_run(b, room, side_wall, s0, s0 + n * 0.6, side_kinds, 0.6)
    # Appliances on the main counter, against the wall.
    for appliance in ("Microwave", "CoffeeMachine", "Toaster"):
        b.on_top_later(b.new(appliance, (0, 0, 0), 0.0), *counters)
    # Dining table in the middle when there is room.
    if room.width * room.depth > 18 and rng.random() < 0.75:
        _table_with_chairs(b, room, "DiningTable")
    b.against_wall("GarbageCan", _other_wall(run_wall), float(rng.uniform(0.5, _wall_length(room, _other_wall(run_wall)) - 0.5)), room)
    if rng.random() < 0.5:
        wall = _other_wall(side_wall)
        b.against_wall("Shelf", wall, _wall_length(room, wall) / 2, room, z=1.1, size={"width": 0.8, "depth": 0.3})
    _wall_fixtures(b, room, [_other_wall(run_wall), side_wall, _other_wall(side_wall)], ["LightSwitch", "Window"])


def _other_wall(wall: str) -> str:
    return {"north": "south", "south": "north", "east": "west", "west": "east"}[wall]


def _counter_run(b: _Builder, room: Room, wall: str, start: float, end: float, kinds: list[str], module_w: float):
    """Modules along a wall: base cabinets and drawers under CounterTop slabs (one CounterTop per stretch between the
    sink and the stove, as iTHOR kitchens have several), a sink module (Sink rim + SinkBasin + Faucet), a stove module
    (StoveBurners on a stove body, StoveKnobs in front), and wall cabinets above some modules. Returns the longest
    CounterTops, longest first."""
    rng = b.rng
    counters = []
    segment: list[float] = []  # "along" centres of the current stretch of plain modules

    def close_segment():
        if not segment:
            return
        width = len(segment) * module_w
        centre = (segment[0] + segment[-1]) / 2
        counter = b.against_wall("CounterTop", wall, centre, room, z=0.0,
                                 size={"width": width, "depth": COUNTER_DEPTH, "height": COUNTER_HEIGHT,
                                       "carcass": False})
        top = float(counter.local_bounds[1][2])  # the bare slab's parts rest at z = 0 in its frame
        counter.pos[2] = COUNTER_HEIGHT - top
        hy = float(counter.local_bounds[1][1])
        counter.shape.surfaces = [Surface(center=(0.0, 0.0, top), half_size=(width / 2 - 0.03, hy - 0.04),
                                          clearance=0.6)]
        counters.append(counter)
        segment.clear()

    base_h = COUNTER_HEIGHT - 0.04
    for i, kind in enumerate(kinds):
        along = start + (i + 0.5) * module_w
        if kind == "stove":
            close_segment()
            cx, cy = _wall_point(room, wall, along, BASE_DEPTH / 2)
            horizontal = wall in ("north", "south")
            half = (module_w / 2, BASE_DEPTH / 2) if horizontal else (BASE_DEPTH / 2, module_w / 2)
            b.box(f"StoveBody_{len(b.structures)}", (cx, cy, (COUNTER_HEIGHT - 0.02) / 2),
                  (*half, (COUNTER_HEIGHT - 0.02) / 2), (0.2, 0.2, 0.22, 1.0), "metal")
            b.obstacles.append((cx, cy, half[0], half[1]))
            _stove_top(b, room, wall, along, module_w)
            continue
        if kind == "drawer":
            b.against_wall("Drawer", wall, along, room, z=base_h - 0.17,
                           size={"width": module_w - 0.04, "depth": BASE_DEPTH - 0.04, "height": 0.16})
            b.against_wall("Cabinet", wall, along, room, z=0.0,
                           size={"width": module_w - 0.02, "depth": BASE_DEPTH, "height": base_h - 0.19})
        else:
            # Under a sink the cabinet stops below the basin.
            height = base_h - 0.26 if kind == "sink" else base_h
            b.against_wall("Cabinet", wall, along, room, z=0.0,
                           size={"width": module_w - 0.02, "depth": BASE_DEPTH, "height": height})
        if kind == "sink":
            close_segment()
            sink = b.against_wall("Sink", wall, along, room, z=0.0,
                                  size={"width": module_w - 0.01, "depth": COUNTER_DEPTH})
            sink.pos[2] = COUNTER_HEIGHT - float(sink.local_bounds[1][2])
            basin = b.new("SinkBasin", sink.pos.copy(), sink.yaw,
                          size={"width": module_w - 0.16, "depth": COUNTER_DEPTH - 0.22, "height": 0.2})
            basin.pos[2] = COUNTER_HEIGHT - float(basin.local_bounds[1][2]) - 0.005
            b.ids.discard(basin.object_id)
            basin.object_id = f"{sink.object_id}|SinkBasin"
            faucet = b.against_wall("Faucet", wall, along, room, z=COUNTER_HEIGHT, gap=0.0)
            faucet.pos[:2] = np.array(_wall_point(room, wall, along, 0.05))
            continue
        segment.append(along)
        if rng.random() < 0.55:
            b.against_wall("Cabinet", wall, along, room, z=1.5,
                           size={"width": module_w - 0.02, "depth": 0.34, "height": 0.7})
    close_segment()
    return sorted(counters, key=lambda c: -c.shape.surfaces[0].half_size[0])  # longest first


def _stove_top(b: _Builder, room: Room, wall: str, along: float, module_w: float) -> None:
    offsets = [(-0.15, 0.12), (0.15, 0.12), (-0.15, -0.1), (0.15, -0.1)]
    for k, (dx, dy) in enumerate(offsets):
        depth_in = BASE_DEPTH / 2 - dy
        x, y = _wall_point(room, wall, along + dx * (module_w / 0.6), depth_in)
        burner = b.new("StoveBurner", (x, y, COUNTER_HEIGHT - 0.02), WALL_YAW[wall])
        kx, ky = _wall_point(room, wall, along + (k - 1.5) * 0.11, BASE_DEPTH + 0.01)
        knob = b.new("StoveKnob", (kx, ky, COUNTER_HEIGHT - 0.12), WALL_YAW[wall])
        knob.controls.append(burner.object_id)


def _table_with_chairs(b: _Builder, room: Room, table_type: str) -> SimObject:
    rng = b.rng
    cx = room.width / 2 + rng.uniform(-0.3, 0.3)
    cy = room.depth / 2 + rng.uniform(-0.3, 0.3)
    table = b.new(table_type, (cx, cy, 0.0), float(rng.choice([0.0, math.pi / 2])),
                  size={"width": float(rng.uniform(1.0, 1.5)), "depth": float(rng.uniform(0.75, 0.95)),
                        "height": 0.76})
    hx, hy = table.shape.half_extents[0], table.shape.half_extents[1]
    if abs(math.sin(table.yaw)) > 0.5:
        hx, hy = hy, hx
    if rng.random() < 0.7:
        for side, (dx, dy, yaw) in enumerate([(0, hy + 0.3, math.pi), (0, -hy - 0.3, 0.0)]):
            b.new("Chair", (cx + dx, cy + dy, 0.0), yaw)
    return table


# --- other rooms -------------------------------------------------------------------------------------------------------
def _living_room(b: _Builder, room: Room) -> None:
    rng = b.rng
    sofa_wall = str(rng.choice(["south", "north"]))
    tv_wall = _other_wall(sofa_wall)
    mid = room.width / 2 + rng.uniform(-0.4, 0.4)
    sofa = b.against_wall("Sofa", sofa_wall, mid, room)
    tv_shape = make_shape("Television", b.shape_rng())
    tvstand = b.against_wall("TVStand", tv_wall, mid, room,
                             size={"width": max(1.2, 2 * tv_shape.half_extents[0] + 0.3)})
    b.on_top_later(b.new("Television", (0, 0, 0), tvstand.yaw, shape=tv_shape), tvstand)
    sx = sofa.shape.half_extents[0]
    for side in (-1, 1):
        if rng.random() < 0.8:
            b.against_wall("SideTable", sofa_wall, mid + side * (sx + 0.35), room)
    # Coffee table between sofa and TV.
    sofa_front = sofa.shape.half_extents[1] * 2
    y = sofa_front + 0.75 if sofa_wall == "south" else room.depth - sofa_front - 0.75
    b.new("CoffeeTable", (mid, y, 0.0), 0.0)
    side_wall = str(rng.choice(["east", "west"]))
    b.against_wall("ArmChair", side_wall, room.depth / 2 + rng.uniform(-0.5, 0.5), room)
    other = _other_wall(side_wall)
    if rng.random() < 0.6:
        b.against_wall("Dresser", other, room.depth / 2, room)
    else:
        b.against_wall("Shelf", other, room.depth / 2, room, z=0.9, size={"width": 0.9, "depth": 0.32})
    b.against_wall("FloorLamp", other, 0.45, room)
    b.against_wall("HousePlant", tv_wall, 0.45 if mid > room.width / 2 else room.width - 0.45, room)
    b.against_wall("GarbageCan", side_wall, 0.45, room)
    if room.width * room.depth > 28 and rng.random() < 0.5:
        b.against_wall("DiningTable", side_wall, room.depth - 1.0, room, gap=0.3,
                       size={"width": 1.0, "depth": 0.8, "height": 0.76})
    _wall_fixtures(b, room, [sofa_wall, side_wall, other], ["Painting", "Window", "LightSwitch"])


def _bedroom(b: _Builder, room: Room) -> None:
    rng = b.rng
    bed_wall = str(rng.choice(["north", "south", "east", "west"]))
    along = _wall_length(room, bed_wall) / 2 + rng.uniform(-0.3, 0.3)
    bed = b.against_wall("Bed", bed_wall, along, room)
    bx = bed.shape.half_extents[0]
    for side in (-1, 1):
        if rng.random() < 0.85:
            b.against_wall("SideTable", bed_wall, along + side * (bx + 0.3), room,
                           size={"width": 0.45, "depth": 0.4, "height": 0.55})
    desk_wall = _other_wall(bed_wall)
    desk_along = float(rng.uniform(0.8, _wall_length(room, desk_wall) - 0.8))
    desk = b.against_wall("Desk", desk_wall, desk_along, room)
    b.on_top_later(b.new("DeskLamp", (0, 0, 0), desk.yaw), desk)
    cx, cy = _wall_point(room, desk_wall, desk_along, desk.shape.half_extents[1] * 2 + 0.3)
    b.new("Chair", (cx, cy, 0.0), desk.yaw + math.pi)
    side_walls = ["east", "west"] if bed_wall in ("north", "south") else ["north", "south"]
    b.against_wall("Dresser", side_walls[0], _wall_length(room, side_walls[0]) / 2, room)
    if rng.random() < 0.6:
        b.against_wall("Shelf", side_walls[1], _wall_length(room, side_walls[1]) / 2, room, z=1.0,
                       size={"width": 0.8, "depth": 0.3})
    b.against_wall("GarbageCan", side_walls[1], 0.4, room)
    if rng.random() < 0.4:
        b.against_wall("LaundryHamper", side_walls[1], _wall_length(room, side_walls[1]) - 0.45, room)
    _wall_fixtures(b, room, [desk_wall] + side_walls, ["Window", "Painting", "LightSwitch", "Mirror"])


def _bathroom(b: _Builder, room: Room) -> None:
    rng = b.rng
    walls = ["north", "south", "east", "west"]
    rng.shuffle(walls)
    tub_wall, vanity_wall, toilet_wall, free_wall = walls
    tub_len = min(1.6, _wall_length(room, tub_wall) - 0.2)
    tub = b.against_wall("Bathtub", tub_wall, _wall_length(room, tub_wall) / 2, room,
                         size={"width": tub_len, "depth": 0.75, "height": 0.55})
    basin = b.new("BathtubBasin", tub.pos.copy(), tub.yaw, size={"width": tub_len - 0.2, "depth": 0.55, "height": 0.4})
    basin.pos[2] = tub.shape.half_extents[2] * 2 - basin.shape.half_extents[2] * 2
    basin.object_id = f"{tub.object_id}|BathtubBasin"
    # The tub's faucet sits at one end on the wall.
    tap_along = _wall_length(room, tub_wall) / 2 - tub_len / 2 + 0.15
    tap = b.against_wall("Faucet", tub_wall, tap_along, room, z=tub.shape.half_extents[2] * 2)
    tap.pos[:2] = np.array(_wall_point(room, tub_wall, tap_along, 0.05))
    v_along = _wall_length(room, vanity_wall) / 2 + rng.uniform(-0.3, 0.3)
    _counter_run(b, room, vanity_wall, v_along - 0.45, v_along + 0.45, ["sink"], 0.9)
    b.against_wall("Mirror", vanity_wall, v_along, room, z=1.15)
    t_along = _wall_length(room, toilet_wall) / 2 + rng.uniform(-0.4, 0.4)
    b.against_wall("Toilet", toilet_wall, t_along, room)
    b.against_wall("ToiletPaperHanger", toilet_wall, t_along + 0.45, room, z=0.7)
    b.against_wall("TowelHolder", free_wall, _wall_length(room, free_wall) / 2, room, z=1.2)
    b.against_wall("HandTowelHolder", vanity_wall, v_along + 0.75 if v_along + 0.9 < _wall_length(room, vanity_wall)
                   else v_along - 0.75, room, z=1.1)
    b.against_wall("GarbageCan", free_wall, 0.35, room)
    if rng.random() < 0.5:
        b.against_wall("Shelf", free_wall, _wall_length(room, free_wall) - 0.6, room, z=1.0,
                       size={"width": 0.6, "depth": 0.25})
    _wall_fixtures(b, room, [free_wall, toilet_wall], ["LightSwitch"])


# --- small objects -----------------------------------------------------------------------------------------------------
SMALL_OBJECTS = {
    "Kitchen": {
        "always": ["Mug", "Cup", "Bowl", "Plate", "Pot", "Pan", "Knife", "ButterKnife", "Fork", "Spoon", "Spatula",
                   "Apple", "Bread", "Lettuce", "Potato", "Tomato", "Egg", "DishSponge", "SoapBottle", "SaltShaker",
                   "PepperShaker"],
        "sometimes": {"Kettle": 0.5, "Ladle": 0.35, "Bottle": 0.4, "WineBottle": 0.35, "PaperTowelRoll": 0.4,
                      "HousePlant": 0.35, "Mug": 0.6, "Plate": 0.5, "Apple": 0.4, "Potato": 0.4, "Tomato": 0.4,
                      "Bowl": 0.4, "Cup": 0.3, "Egg": 0.3, "Knife": 0.2, "Spoon": 0.3, "Fork": 0.3},
    },
    "LivingRoom": {
        "always": ["RemoteControl", "Newspaper", "Pillow", "Book", "CreditCard", "KeyChain", "Laptop", "Vase",
                   "Statue", "Box", "WateringCan"],
        "sometimes": {"Watch": 0.5, "Candle": 0.4, "TissueBox": 0.4, "CellPhone": 0.4, "Bowl": 0.3, "Plate": 0.3,
                      "Pillow": 0.5, "Book": 0.4, "Statue": 0.4, "Vase": 0.3, "Newspaper": 0.3, "RemoteControl": 0.2},
    },
    "Bedroom": {
        "always": ["Pillow", "Book", "AlarmClock", "CellPhone", "Laptop", "Pencil", "Pen", "KeyChain", "CreditCard"],
        "sometimes": {"Mug": 0.5, "Cloth": 0.4, "Box": 0.4, "TissueBox": 0.3, "Statue": 0.3, "Vase": 0.3,
                      "Candle": 0.3, "Watch": 0.4, "Book": 0.5, "Pillow": 0.5, "Pen": 0.3, "Pencil": 0.3},
    },
    "Bathroom": {
        "always": ["SoapBar", "SoapBottle", "SprayBottle", "ToiletPaper", "Towel", "HandTowel", "Cloth"],
        "sometimes": {"Candle": 0.4, "DishSponge": 0.4, "TissueBox": 0.4, "ToiletPaper": 0.5, "SoapBar": 0.4,
                      "SprayBottle": 0.3, "Cloth": 0.3},
    },
}
STARTS_DIRTY = ("Mug", "Cup", "Bowl", "Plate", "Pot", "Pan")
OPEN_SURFACE_FIRST = ("Pot", "Pan", "Kettle")


def _spread_small_objects(b: _Builder, world: World, kind: str) -> None:
    rng = b.rng
    onto = load_ontology()
    # Appliances and fixtures with a pending parent: put them on it first, at its back.
    for obj, parents in b.pending:
        for parent in parents:
            spot = world.find_spot(parent, obj, target=_back_point(world, parent), rel_yaw=0.0)
            if spot is not None:
                world.attach(obj, parent, spot)
                _assign_id(b, world, obj)
                break
        else:
            obj.disabled = True
    world.objects = {o.object_id: o for o in world.objects.values() if not o.disabled}
    spec = SMALL_OBJECTS[kind]
    types = list(spec["always"]) + [t for t, p in spec["sometimes"].items() if rng.random() < p]
    receptacles = [o for o in world.objects.values() if o.can("receptacle") and o.shape.surfaces
                   and o.object_type not in ("Floor",)]
    new_objects = []
    for object_type in types:
        obj = b.new(object_type, (0.0, 0.0, 0.0), 0.0)
        obj.object_id = "pending"
        candidates = [r for r in receptacles if onto.accepts(r.object_type, object_type)]
        if object_type in OPEN_SURFACE_FIRST and rng.random() < 0.5:
            burners = [r for r in candidates if r.object_type == "StoveBurner"]
            rng.shuffle(burners)
            candidates = burners + [r for r in candidates if r.object_type != "StoveBurner"]
        else:
            rng.shuffle(candidates)
        placed = False
        floor = next(o for o in world.objects.values() if o.object_type == "Floor")
        for receptacle in candidates + [floor]:
            if receptacle.pickupable and receptacle.parent is None:
                continue
            spot = world.find_spot(receptacle, obj, rng=rng)
            if spot is not None:
                world.attach(obj, receptacle, spot)
                placed = True
                break
        if not placed:
            b.objects.remove(obj)
            continue
        _assign_id(b, world, obj)
        world.objects[obj.object_id] = obj
        if obj.pickupable and obj.can("receptacle"):
            receptacles.append(obj)
        if object_type in STARTS_DIRTY and rng.random() < 0.35:
            obj.is_dirty = True
        new_objects.append(obj)
    world.invalidate()


def _assign_id(b: _Builder, world: World, obj: SimObject) -> None:
    """Name an object after the position it was spawned at, as AI2-THOR does."""
    b.ids.discard(obj.object_id)
    thor = THOR_TO_ZUP @ world.position(obj)
    object_id = make_object_id(obj.object_type, thor)
    while object_id in b.ids:
        thor = thor + np.array([0.01, 0.0, 0.0])
        object_id = make_object_id(obj.object_type, thor)
    b.ids.add(object_id)
    obj.object_id = object_id


def _back_point(world: World, parent: SimObject) -> np.ndarray:
    """A world point at the back (away from the front, -y in the object frame) of a receptacle's top."""
    t = world.pose(parent)
    half = parent.shape.half_extents
    return (t @ np.array([0.0, -half[1], 2 * half[2], 1.0]))[:3]


REMOVABLE = ("Chair", "GarbageCan", "LaundryHamper", "FloorLamp", "HousePlant", "Ottoman", "ArmChair", "SideTable",
             "CoffeeTable", "DiningTable", "Dresser", "Shelf", "TVStand", "Desk")
"""Free-standing furniture the layout may drop, in this order of preference, when it cuts the floor into pockets."""


def _largest_region(world: World) -> tuple[int, int]:
    """(size of the largest 4-connected set of free grid points, number of free grid points)."""
    free = world.grid_points()
    if not free:
        return 0, 0
    best, seen = 0, set()
    for p in free:
        if p in seen:
            continue
        region = world.reachable_positions(p)
        seen.update(region)
        best = max(best, len(region))
    return best, len(free)


def _ensure_connected(world: World, share: float = 0.9) -> None:
    """Drop free-standing furniture until one walkable region holds ``share`` of the free floor, so that every counter,
    appliance and shelf can be walked to (a dining table and its chairs can otherwise wall off a kitchen's counters)."""
    while True:
        region, free = _largest_region(world)
        if free == 0 or region >= share * free:
            return
        candidates = [o for o in world.objects.values() if o.object_type in REMOVABLE and o.parent is None]
        if not candidates:
            return
        scored = []
        for o in candidates:
            o.disabled = True
            world.invalidate()
            scored.append((_largest_region(world)[0], -REMOVABLE.index(o.object_type), o))
            o.disabled = False
        world.invalidate()
        _, _, drop = max(scored, key=lambda t: (t[0], t[1]))
        del world.objects[drop.object_id]
        world.invalidate()


def _place_agent(world: World, rng: np.random.Generator) -> None:
    points = world.grid_points()
    if not points:
        raise RuntimeError("generated room has no free floor for the agent")
    cx, cy = world.room.width / 2, world.room.depth / 2
    points.sort(key=lambda p: (p[0] - cx) ** 2 + (p[1] - cy) ** 2)
    x, y = points[int(rng.integers(0, min(6, len(points))))]
    world.agent.x, world.agent.y = x, y
    world.agent.yaw = float(rng.choice([0.0, 90.0, 180.0, 270.0]))
    world.agent.horizon = 0.0
    reach = world.reachable_positions()
    if len(reach) < 0.5 * len(points):  # started in a pocket: move to the largest connected area
        best = max((world.reachable_positions(p) for p in points[:: max(1, len(points) // 8)]), key=len)
        world.agent.x, world.agent.y = best[len(best) // 2]
