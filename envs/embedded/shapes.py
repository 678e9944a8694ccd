"""The 3D shape library of the embedded simulator: how every AI2-THOR object type looks, built from MuJoCo primitives.

Every type has one builder that composes boxes, cylinders, capsules, spheres and ellipsoids into a recognisable
silhouette, with per-instance variation of size, proportions, colour and texture, so that segmentation stays a real
perception problem (colour alone never names a type). Builders live in the ``shapes_*`` modules; this module owns the
data model, the geometry helpers they share and the registry.

Conventions (the simulator core depends on them): object frame right-handed, z up, metres; origin at the centre of the
footprint at the object's bottom; the front (doors, the side an agent uses) faces +y. Part sizes follow MuJoCo's geom
semantics (MJCF reference, ``geom/@size``): box half-extents, sphere (r,), capsule/cylinder (radius, half_length) along
local z, ellipsoid (rx, ry, rz); quaternions are (w, x, y, z).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

GEOMS = ("box", "sphere", "capsule", "cylinder", "ellipsoid")

ROLES = {
    "body": "always drawn",
    "food": "always drawn; darkened/browned by the simulator when isCooked",
    "liquid": "drawn only when isFilledWithLiquid; the simulator colours it (water blue-ish, coffee brown, wine red)",
    "dirt": "drawn only when isDirty (brown/grey smudges on the surface)",
    "stream": "drawn only when isToggled (a faucet's running water column)",
    "glow": "always drawn; the simulator makes it bright (emissive red/orange/white) when isToggled, dark otherwise",
    "screen": "always drawn; bright when isToggled (TV, laptop, cellphone), near-black otherwise",
    "broken": "drawn only when isBroken (cracks)",
    "flame": "drawn only when isToggled (candle flame)",
}

IDENTITY_QUAT = (1.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Part:
    """One MuJoCo geom, placed in the object frame (closed state)."""

    geom: str
    size: tuple
    pos: tuple
    quat: tuple = IDENTITY_QUAT
    rgba: tuple = (0.5, 0.5, 0.5, 1.0)
    texture: str = "plain"
    link: str = "base"
    role: str = "body"


@dataclass(frozen=True)
class Link:
    """An articulated part (door, drawer, lid): its parts move rigidly about/along ``axis`` through ``anchor``."""

    name: str
    joint: str
    axis: tuple
    anchor: tuple
    open_amount: float


@dataclass(frozen=True)
class Surface:
    """A supporting rectangle where objects can be placed; ``z`` of ``center`` is the top of the support."""

    center: tuple
    half_size: tuple
    clearance: float
    link: str = "base"
    enclosed: bool = False
    opened_by: str = ""   # for enclosed surfaces: the Link that must be open to reach it ("" = any / all of them)


@dataclass
class ShapeSpec:
    """Everything the simulator needs to draw, articulate and fill one object instance."""

    object_type: str
    parts: list[Part]
    links: list[Link]
    surfaces: list[Surface]
    half_extents: tuple

    def link(self, name: str) -> Link:
        for link in self.links:
            if link.name == name:
                return link
        raise KeyError(f"{self.object_type} has no link {name!r}; links: {[l.name for l in self.links]}")


# ----------------------------------------------------------------------------------------------------------------------
# Rotations


def quat_axis_angle(axis, angle: float) -> tuple:
    """Unit quaternion (w, x, y, z) for a rotation of ``angle`` radians about ``axis``."""
    a = np.asarray(axis, dtype=float)
    a = a / np.linalg.norm(a)
    s = math.sin(angle / 2.0)
    return (math.cos(angle / 2.0), float(a[0] * s), float(a[1] * s), float(a[2] * s))


def quat_mul(q1, q2) -> tuple:
    """Hamilton product q1 * q2 (apply q2 first, then q1)."""
    w1, x1, y1, z1 = q1
    w2, x2, y2, z2 = q2
    return (w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2)


def quat_z_to(direction) -> tuple:
    """The shortest-arc rotation taking local +z onto ``direction`` (for capsules and cylinders between two points)."""
    d = np.asarray(direction, dtype=float)
    d = d / np.linalg.norm(d)
    z = np.array([0.0, 0.0, 1.0])
    cos = float(np.dot(z, d))
    if cos > 1.0 - 1e-9:
        return IDENTITY_QUAT
    if cos < -1.0 + 1e-9:
        return (0.0, 1.0, 0.0, 0.0)
    axis = np.cross(z, d)
    return quat_axis_angle(axis, math.acos(max(-1.0, min(1.0, cos))))


def quat_to_matrix(q) -> np.ndarray:
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def part_local_half_extents(part: Part) -> np.ndarray:
    """Half extents of a part's own axis-aligned box, before its rotation."""
    s = part.size
    if part.geom == "box":
        return np.array(s[:3], dtype=float)
    if part.geom == "sphere":
        return np.array([s[0]] * 3, dtype=float)
    if part.geom == "cylinder":
        return np.array([s[0], s[0], s[1]], dtype=float)
    if part.geom == "capsule":
        return np.array([s[0], s[0], s[1] + s[0]], dtype=float)
    if part.geom == "ellipsoid":
        return np.array(s[:3], dtype=float)
    raise ValueError(f"Part.geom must be one of {GEOMS}, got {part.geom!r}")


def part_aabb(part: Part) -> tuple[np.ndarray, np.ndarray]:
    """A conservative axis-aligned box (lo, hi) around a part in the object frame."""
    half = np.abs(quat_to_matrix(part.quat)) @ part_local_half_extents(part)
    centre = np.asarray(part.pos, dtype=float)
    return centre - half, centre + half


# ----------------------------------------------------------------------------------------------------------------------
# Colours


def _clip01(values) -> tuple:
    return tuple(float(min(1.0, max(0.0, v))) for v in values)


def rgba(rgb, alpha: float = 1.0) -> tuple:
    """An rgba tuple; nudges MuJoCo's default geom colour (0.5, 0.5, 0.5, 1), which MuJoCo would treat as "unset" and
    replace by the material's colour (see ``mjcf`` module docstring)."""
    r, g, b = _clip01(rgb)
    if (r, g, b, alpha) == (0.5, 0.5, 0.5, 1.0):
        r = 0.501
    return (r, g, b, float(alpha))


def jitter(rng: np.random.Generator, rgb, amount: float = 0.06, alpha: float = 1.0) -> tuple:
    """A colour near ``rgb``: a shared brightness change plus a small per-channel change."""
    base = np.asarray(rgb, dtype=float)
    shade = rng.uniform(-amount, amount)
    tint = rng.uniform(-amount / 2, amount / 2, size=3)
    return rgba(base + shade + tint, alpha)


def pick(rng: np.random.Generator, palette, amount: float = 0.06, alpha: float = 1.0) -> tuple:
    """A jittered colour drawn from a palette (a list of rgb triples)."""
    return jitter(rng, palette[int(rng.integers(len(palette)))], amount, alpha)


def choose(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


PALETTES = {
    "wood_light": [(0.78, 0.62, 0.42), (0.85, 0.72, 0.52), (0.72, 0.55, 0.36), (0.88, 0.78, 0.62)],
    "wood_dark": [(0.42, 0.27, 0.16), (0.35, 0.22, 0.14), (0.50, 0.33, 0.20), (0.28, 0.18, 0.12)],
    "painted": [(0.93, 0.93, 0.90), (0.85, 0.88, 0.90), (0.30, 0.38, 0.45), (0.55, 0.65, 0.58), (0.20, 0.22, 0.25),
                (0.80, 0.75, 0.65), (0.62, 0.70, 0.80)],
    "stone": [(0.90, 0.90, 0.88), (0.25, 0.25, 0.27), (0.70, 0.66, 0.60), (0.55, 0.57, 0.60), (0.82, 0.78, 0.70)],
    "metal": [(0.78, 0.79, 0.80), (0.62, 0.63, 0.65), (0.85, 0.85, 0.82), (0.45, 0.46, 0.48)],
    "dark_metal": [(0.18, 0.18, 0.19), (0.25, 0.25, 0.27), (0.12, 0.12, 0.13)],
    "appliance": [(0.92, 0.92, 0.92), (0.75, 0.76, 0.78), (0.15, 0.15, 0.16), (0.85, 0.20, 0.18), (0.60, 0.75, 0.80),
                  (0.95, 0.92, 0.82)],
    "ceramic": [(0.96, 0.96, 0.94), (0.85, 0.25, 0.22), (0.25, 0.45, 0.75), (0.30, 0.62, 0.40), (0.95, 0.80, 0.30),
                (0.20, 0.20, 0.22), (0.70, 0.55, 0.80), (0.95, 0.60, 0.40), (0.55, 0.80, 0.85)],
    "plastic": [(0.90, 0.20, 0.20), (0.20, 0.50, 0.90), (0.25, 0.75, 0.35), (0.95, 0.85, 0.20), (0.95, 0.55, 0.15),
                (0.60, 0.30, 0.75), (0.95, 0.95, 0.95), (0.15, 0.15, 0.15), (0.40, 0.85, 0.85)],
    "fabric": [(0.55, 0.35, 0.30), (0.30, 0.40, 0.55), (0.50, 0.55, 0.45), (0.75, 0.72, 0.65), (0.35, 0.35, 0.38),
               (0.70, 0.55, 0.35), (0.60, 0.25, 0.30), (0.25, 0.45, 0.45)],
    "linen": [(0.95, 0.95, 0.93), (0.85, 0.90, 0.95), (0.95, 0.88, 0.80), (0.80, 0.85, 0.80), (0.92, 0.80, 0.85)],
    "glass": [(0.75, 0.85, 0.88), (0.55, 0.70, 0.55), (0.45, 0.30, 0.20), (0.85, 0.88, 0.90)],
    "black": [(0.08, 0.08, 0.09), (0.14, 0.14, 0.15), (0.20, 0.20, 0.21)],
}


# ----------------------------------------------------------------------------------------------------------------------
# The builder every shape module uses


class ShapeBuilder:
    """Accumulates parts, links and surfaces for one instance; ``build()`` freezes them into a ShapeSpec whose
    half-extents are the tight (conservative) box around the closed parts."""

    def __init__(self, object_type: str, rng: np.random.Generator):
        self.object_type = object_type
        self.rng = rng
        self.parts: list[Part] = []
        self.links: list[Link] = []
        self.surfaces: list[Surface] = []

    def add(self, geom: str, size, pos, color, *, quat=IDENTITY_QUAT, texture: str = "plain", link: str = "base",
            role: str = "body") -> Part:
        if geom not in GEOMS:
            raise ValueError(f"{self.object_type}: geom must be one of {GEOMS}, got {geom!r}")
        if role not in ROLES:
            raise ValueError(f"{self.object_type}: role must be one of {sorted(ROLES)}, got {role!r}")
        color = tuple(float(c) for c in color)
        if len(color) == 3:
            color = rgba(color)
        part = Part(geom=geom, size=tuple(float(s) for s in size), pos=tuple(float(p) for p in pos),
                    quat=tuple(float(q) for q in quat), rgba=color, texture=texture, link=link, role=role)
        self.parts.append(part)
        return part

    def box(self, center, half, color, **kw) -> Part:
        return self.add("box", half, center, color, **kw)

    def box_span(self, lo, hi, color, **kw) -> Part:
        """A box between two opposite corners (easier to read for furniture panels)."""
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        return self.add("box", (hi - lo) / 2.0, (hi + lo) / 2.0, color, **kw)

    def cylinder(self, center, radius: float, half_length: float, color, axis=(0, 0, 1), **kw) -> Part:
        return self.add("cylinder", (radius, half_length), center, color, quat=quat_z_to(axis), **kw)

    def disc(self, center_bottom_z: float, radius: float, thickness: float, color, xy=(0.0, 0.0), **kw) -> Part:
        """A vertical-axis cylinder resting with its bottom at ``center_bottom_z``."""
        return self.add("cylinder", (radius, thickness / 2.0), (xy[0], xy[1], center_bottom_z + thickness / 2.0),
                        color, **kw)

    def capsule(self, center, radius: float, half_length: float, color, axis=(0, 0, 1), **kw) -> Part:
        return self.add("capsule", (radius, half_length), center, color, quat=quat_z_to(axis), **kw)

    def rod(self, p0, p1, radius: float, color, geom: str = "capsule", **kw) -> Part:
        """A capsule or cylinder whose axis runs from ``p0`` to ``p1`` (capsule caps extend past the ends by r)."""
        p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
        d = p1 - p0
        return self.add(geom, (radius, float(np.linalg.norm(d)) / 2.0), (p0 + p1) / 2.0, color, quat=quat_z_to(d),
                        **kw)

    def sphere(self, center, radius: float, color, **kw) -> Part:
        return self.add("sphere", (radius,), center, color, **kw)

    def ellipsoid(self, center, radii, color, **kw) -> Part:
        return self.add("ellipsoid", radii, center, color, **kw)

    def ring(self, center, radius: float, tube: float, color, segments: int = 10, height: float | None = None,
             **kw) -> None:
        """A horizontal ring of short boxes (a rim, a torus-like handle seen from above)."""
        h = tube if height is None else height
        seg_half = math.pi * radius / segments * 1.08
        for k in range(segments):
            a = 2 * math.pi * k / segments
            pos = (center[0] + radius * math.cos(a), center[1] + radius * math.sin(a), center[2])
            self.add("box", (tube, seg_half, h), pos, color, quat=quat_axis_angle((0, 0, 1), a), **kw)

    def wall_ring(self, center_xy, bottom_z: float, radius: float, wall: float, height: float, color,
                  segments: int = 12, **kw) -> None:
        """A vertical circular wall (a bowl's or pot's side) of ``segments`` boxes standing on ``bottom_z``."""
        seg_half = math.pi * radius / segments * 1.06
        for k in range(segments):
            a = 2 * math.pi * k / segments
            pos = (center_xy[0] + (radius - wall / 2) * math.cos(a), center_xy[1] + (radius - wall / 2) * math.sin(a),
                   bottom_z + height / 2)
            self.add("box", (wall / 2, seg_half, height / 2), pos, color, quat=quat_axis_angle((0, 0, 1), a), **kw)

    def cracks(self, origin, u, v, length: float, branches: int = 3, link: str = "base") -> None:
        """Dark zig-zag crack lines (role "broken") radiating from ``origin`` in the plane spanned by the unit vectors
        ``u`` and ``v``; ``origin`` should sit just in front of the surface they mark."""
        origin, u, v = (np.asarray(a, float) for a in (origin, u, v))
        width = max(0.0008, length * 0.015)
        for k in range(branches):
            angle = 2 * math.pi * k / branches + self.rng.uniform(-0.5, 0.5)
            point = origin
            for _ in range(3):
                angle += self.rng.uniform(-0.6, 0.6)
                step = length / 3 * self.rng.uniform(0.6, 1.0)
                nxt = point + step * (math.cos(angle) * u + math.sin(angle) * v)
                self.rod(point, nxt, width, (0.08, 0.08, 0.08), link=link, role="broken")
                point = nxt

    def smudges(self, center, u, v, extent: float, count: int = 3, link: str = "base") -> None:
        """Flat brown/grey blobs (role "dirt") in the plane of ``u`` and ``v`` around ``center``."""
        center, u, v = (np.asarray(a, float) for a in (center, u, v))
        normal = np.cross(u, v)
        for _ in range(count):
            offset = self.rng.uniform(-0.6, 0.6, size=2) * extent
            r = extent * self.rng.uniform(0.15, 0.35)
            color = jitter(self.rng, choose(self.rng, [(0.42, 0.33, 0.22), (0.45, 0.42, 0.38), (0.55, 0.45, 0.2)]),
                           0.05)
            # Orient the ellipsoid's thin axis along the surface normal.
            quat = quat_z_to(normal)
            pos = center + offset[0] * u + offset[1] * v
            self.add("ellipsoid", (r, r * self.rng.uniform(0.5, 1.0), 0.0012), pos, color, quat=quat, link=link,
                     role="dirt")

    def link(self, name: str, joint: str, axis, anchor, open_amount: float) -> str:
        if joint not in ("hinge", "slide"):
            raise ValueError(f"{self.object_type}: link {name!r} joint must be 'hinge' or 'slide', got {joint!r}")
        self.links.append(Link(name=name, joint=joint, axis=tuple(float(a) for a in axis),
                               anchor=tuple(float(a) for a in anchor), open_amount=float(open_amount)))
        return name

    def surface(self, center, half_size, clearance: float = math.inf, link: str = "base",
                enclosed: bool = False, opened_by: str = "") -> None:
        self.surfaces.append(Surface(center=tuple(float(c) for c in center),
                                     half_size=tuple(float(max(h, 0.005)) for h in half_size),
                                     clearance=float(clearance), link=link, enclosed=enclosed,
                                     opened_by=opened_by))

    def build(self) -> ShapeSpec:
        if not self.parts:
            raise ValueError(f"{self.object_type}: a shape needs at least one part")
        lo = np.min([part_aabb(p)[0] for p in self.parts], axis=0)
        hi = np.max([part_aabb(p)[1] for p in self.parts], axis=0)
        # Re-centre the footprint on the origin (a mug's handle or a faucet's spout shifts it) and rest on z = 0,
        # so half_extents is a tight box the layout can use directly.
        shift = np.array([-(lo[0] + hi[0]) / 2.0, -(lo[1] + hi[1]) / 2.0, -lo[2]])

        def moved(point):
            return tuple(float(v) for v in np.asarray(point, float) + shift)

        parts = [replace(p, pos=moved(p.pos)) for p in self.parts]
        links = [replace(l, anchor=moved(l.anchor)) for l in self.links]
        surfaces = [replace(s, center=moved(s.center)) for s in self.surfaces]
        half = (hi - lo) / 2.0
        return ShapeSpec(object_type=self.object_type, parts=parts, links=links, surfaces=surfaces,
                         half_extents=(float(half[0]), float(half[1]), float(half[2])))


# ----------------------------------------------------------------------------------------------------------------------
# Sizes


def scale_from(rng: np.random.Generator, size: dict | None, spread: float = 0.15) -> float:
    """The per-instance size factor of a small object: ``size['scale']`` when given, else uniform in 1 +- spread."""
    if size and "scale" in size:
        value = float(size["scale"])
        if not value > 0:
            raise ValueError(f"size['scale'] must be positive, got {size['scale']!r}")
        return value
    return float(rng.uniform(1.0 - spread, 1.0 + spread))


def dims_from(rng: np.random.Generator, size: dict | None, width, depth, height) -> tuple[float, float, float]:
    """Furniture dimensions (x, y, z): each from ``size`` when the layout decides it, else uniform in its range.
    The ranges are drawn even when overridden so the rest of the instance stays the same for one seed."""
    ranges = {"width": width, "depth": depth, "height": height}
    out = []
    for key, (lo, hi) in ranges.items():
        drawn = float(rng.uniform(lo, hi))
        if size and key in size and size[key] is not None:
            value = float(size[key])
            if not value > 0:
                raise ValueError(f"size[{key!r}] must be positive metres, got {size[key]!r}")
            drawn = value
        out.append(drawn)
    return out[0], out[1], out[2]


# ----------------------------------------------------------------------------------------------------------------------
# Registry

# width/depth/height (metres) fix furniture dimensions, scale multiplies a small object's size, carcass=False leaves a
# CounterTop as a bare slab (when the layout puts cabinets under it).
SIZE_KEYS = frozenset({"width", "depth", "height", "scale", "carcass"})

Builder = Callable[[np.random.Generator, "dict | None"], ShapeSpec]
_BUILDERS: dict[str, Builder] = {}
_MODULES = ("shapes_kitchen", "shapes_tableware", "shapes_food", "shapes_furniture", "shapes_small", "shapes_extra")
_loaded = False


def register(*object_types: str):
    """Decorator: the function builds a ShapeSpec for each listed type as ``fn(b: ShapeBuilder, size) -> None``."""

    def decorate(fn):
        for object_type in object_types:
            def builder(rng, size, _type=object_type):
                b = ShapeBuilder(_type, rng)
                fn(b, size)
                return b.build()
            _BUILDERS[object_type] = builder
        return fn

    return decorate


def _load_builders() -> None:
    global _loaded
    if not _loaded:
        package = __name__.rpartition(".")[0]
        for module in _MODULES:
            importlib.import_module(f"{package}.{module}" if package else module)
        _loaded = True


def supported_types() -> list[str]:
    """All object types with a builder, sorted."""
    _load_builders()
    return sorted(_BUILDERS)


def make_shape(object_type: str, rng: np.random.Generator, size: dict | None = None) -> ShapeSpec:
    """Build one instance of ``object_type``. ``size`` (furniture) may fix ``width``/``depth``/``height`` in metres;
    small objects honour ``scale``. The same rng state gives the same ShapeSpec."""
    _load_builders()
    if object_type not in _BUILDERS:
        raise KeyError(f"make_shape: unknown object_type {object_type!r}; supported: {', '.join(sorted(_BUILDERS))}")
    if size is not None and not isinstance(size, dict):
        raise TypeError(f"make_shape: size must be a dict or None, got {type(size).__name__}")
    unknown = sorted(set(size or {}) - SIZE_KEYS)
    if unknown:
        raise ValueError(f"make_shape({object_type!r}): unknown size keys {unknown}; allowed: {sorted(SIZE_KEYS)}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"make_shape: rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return _BUILDERS[object_type](rng, size)
