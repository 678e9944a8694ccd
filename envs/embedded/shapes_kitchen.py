"""Kitchen furniture and appliances: counters, cabinets, drawers, fridge, microwave, stove, toaster, coffee machine,
sink and faucet. Real-world sizes follow common kitchen dimensions (base cabinets ~0.9 m high and ~0.6 m deep,
IKEA/NKBA planning guides); everything else follows ``shapes`` conventions (z up, front = +y, origin at the bottom)."""

from __future__ import annotations

import math

import numpy as np

from .shapes import PALETTES, ShapeBuilder, choose, dims_from, jitter, pick, register, scale_from

OPEN_DOOR = math.radians(105.0)


# ----------------------------------------------------------------------------------------------------------------------
# Shared pieces (also used by shapes_furniture)


def carcass(b: ShapeBuilder, w: float, d: float, h: float, t: float, color, texture: str = "wood",
            bottom: float = 0.0) -> None:
    """An open-fronted box (back, two sides, top, floor) spanning x in [-w/2, w/2], y in [-d/2, d/2],
    z in [bottom, h]; walls ``t`` thick."""
    x, y = w / 2, d / 2
    b.box_span((-x, -y, bottom), (x, -y + t, h), color, texture=texture)  # back
    b.box_span((-x, -y, bottom), (-x + t, y, h), color, texture=texture)  # left side
    b.box_span((x - t, -y, bottom), (x, y, h), color, texture=texture)  # right side
    b.box_span((-x + t, -y + t, h - t), (x - t, y, h), color, texture=texture)  # top
    b.box_span((-x + t, -y + t, bottom), (x - t, y, bottom + t), color, texture=texture)  # floor


def handle(b: ShapeBuilder, style: str, center, length: float, color, link: str = "base",
           vertical: bool = True) -> None:
    """A door/drawer pull on a front face at ``center`` (its y = the face): bar, knob or slim recessed lip."""
    cx, cy, cz = center
    if style == "knob":
        b.cylinder((cx, cy + 0.012, cz), 0.006, 0.012, color, axis=(0, 1, 0), link=link, texture="metal")
        b.sphere((cx, cy + 0.028, cz), 0.014, color, link=link, texture="metal")
        return
    if style == "lip":
        half = (0.008, 0.01, length / 2) if vertical else (length / 2, 0.01, 0.008)
        b.box((cx, cy + 0.01, cz), half, color, link=link, texture="metal")
        return
    axis = (0, 0, 1) if vertical else (1, 0, 0)
    offset = np.asarray(axis, float) * (length / 2 - 0.01)
    for sign in (-1, 1):
        foot = np.array([cx, cy + 0.015, cz]) + sign * offset
        b.cylinder(foot, 0.005, 0.015, color, axis=(0, 1, 0), link=link, texture="metal")
    b.capsule((cx, cy + 0.032, cz), 0.008, length / 2, color, axis=axis, link=link, texture="metal")


def hinged_panel(b: ShapeBuilder, name: str, x0: float, x1: float, z0: float, z1: float, y_face: float,
                 thickness: float, color, texture: str, hinge_left: bool, handle_style: str, handle_color,
                 open_angle: float = OPEN_DOOR, handle_z: float | None = None) -> str:
    """A door covering x in [x0, x1], z in [z0, z1] whose back lies on the plane y = y_face; hinged on a vertical
    edge so that it swings out towards +y."""
    b.box_span((x0, y_face, z0), (x1, y_face + thickness, z1), color, texture=texture, link=name)
    hinge_x = x0 if hinge_left else x1
    handle_x = x1 - 0.045 if hinge_left else x0 + 0.045
    hz = (z0 + z1) / 2 if handle_z is None else handle_z
    handle(b, handle_style, (handle_x, y_face + thickness, hz), min(0.25, 0.5 * (z1 - z0)), handle_color, link=name)
    return b.link(name, "hinge", (0, 0, 1), (hinge_x, y_face, z0), open_angle if hinge_left else -open_angle)


def cabinet_palette(rng):
    """A (colour, texture) pair for cabinetry: wood or painted, several tones each."""
    kind = int(rng.integers(3))
    if kind == 0:
        return pick(rng, PALETTES["wood_light"]), "wood"
    if kind == 1:
        return pick(rng, PALETTES["wood_dark"]), "wood_dark"
    return pick(rng, PALETTES["painted"]), choose(rng, ["plain", "glossy", "noise"])


# ----------------------------------------------------------------------------------------------------------------------
# Furniture


@register("CounterTop")
def counter_top(b: ShapeBuilder, size):
    """A stone/wood slab on a recessed plinth body; pass ``size={'carcass': False}`` for the bare slab."""
    w, d, h = dims_from(b.rng, size, (0.6, 2.4), (0.55, 0.7), (0.88, 0.95))
    slab = b.rng.uniform(0.03, 0.05)
    top_color = pick(b.rng, PALETTES["stone"] + PALETTES["wood_light"][:2])
    top_texture = choose(b.rng, ["marble", "noise", "wood", "tiles"])
    b.box_span((-w / 2, -d / 2, h - slab), (w / 2, d / 2, h), top_color, texture=top_texture)
    if (size or {}).get("carcass", True):
        body_color, body_tex = cabinet_palette(b.rng)
        b.box_span((-w / 2 + 0.02, -d / 2, 0.1), (w / 2 - 0.02, d / 2 - 0.03, h - slab), body_color, texture=body_tex)
        b.box_span((-w / 2 + 0.02, -d / 2, 0.0), (w / 2 - 0.02, d / 2 - 0.09, 0.1), jitter(b.rng, (0.15, 0.15, 0.15)))
        # Door seams drawn on the front so the carcass reads as kitchen units.
        n_units = max(1, int(round(w / 0.6)))
        for k in range(1, n_units):
            x = -w / 2 + k * w / n_units
            b.box_span((x - 0.003, d / 2 - 0.03, 0.12), (x + 0.003, d / 2 - 0.027, h - slab - 0.02),
                       jitter(b.rng, (0.1, 0.1, 0.1)))
    b.surface((0, 0, h), (w / 2 - 0.03, d / 2 - 0.03))


@register("Cabinet")
def cabinet(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.4, 0.9), (0.35, 0.6), (0.5, 0.9))
    t = 0.018
    color, tex = cabinet_palette(b.rng)
    door_t = 0.02
    carcass(b, w, d - door_t, h, t, color, tex)
    y_face = d / 2 - door_t
    hinge_left = bool(b.rng.integers(2))
    door_color = jitter(b.rng, color[:3], 0.04)
    handle_style = choose(b.rng, ["bar", "knob", "lip"])
    hinged_panel(b, "door", -w / 2, w / 2, 0.0, h, y_face - 0.0, door_t, door_color, tex, hinge_left, handle_style,
                 pick(b.rng, PALETTES["metal"] + PALETTES["black"]), handle_z=h * choose(b.rng, [0.5, 0.8, 0.2]))
    if b.rng.random() < 0.5:  # a raised panel outline makes some doors "shaker" style
        inset = 0.06
        b.box_span((-w / 2 + inset, y_face + door_t, inset), (w / 2 - inset, y_face + door_t + 0.004, h - inset),
                   jitter(b.rng, door_color[:3], 0.05), texture=tex, link="door")
    b.surface((0, 0, t), (w / 2 - t - 0.02, (d - door_t) / 2 - t - 0.02), clearance=h - 2 * t, enclosed=True,
              opened_by="door")


@register("Drawer")
def drawer(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.35, 0.6), (0.4, 0.5), (0.12, 0.2))
    t = 0.012
    color, tex = cabinet_palette(b.rng)
    front_t = 0.02
    box_d = d - front_t
    # The housing the drawer slides in (usually hidden inside a counter): thin top, sides and back.
    housing = jitter(b.rng, color[:3], 0.05)
    b.box_span((-w / 2, -d / 2, h - t), (w / 2, d / 2 - front_t, h), housing, texture=tex)
    b.box_span((-w / 2, -d / 2, 0), (-w / 2 + t, d / 2 - front_t, h - t), housing, texture=tex)
    b.box_span((w / 2 - t, -d / 2, 0), (w / 2, d / 2 - front_t, h - t), housing, texture=tex)
    # The drawer itself, one link.
    inner_w = w / 2 - t - 0.004
    y0, y1 = -d / 2 + t, d / 2 - front_t
    z_top = h - t - 0.01
    link = "drawer"
    b.box_span((-inner_w, y0, 0), (inner_w, y1, t), color, texture=tex, link=link)
    b.box_span((-inner_w, y0, 0), (-inner_w + t, y1, z_top), color, texture=tex, link=link)
    b.box_span((inner_w - t, y0, 0), (inner_w, y1, z_top), color, texture=tex, link=link)
    b.box_span((-inner_w, y0, 0), (inner_w, y0 + t, z_top), color, texture=tex, link=link)
    front_color = jitter(b.rng, color[:3], 0.04)
    b.box_span((-w / 2, y1, 0), (w / 2, d / 2, h), front_color, texture=tex, link=link)
    handle(b, choose(b.rng, ["bar", "knob", "lip"]), (0, d / 2, h / 2), min(0.2, w * 0.4),
           pick(b.rng, PALETTES["metal"] + PALETTES["black"]), link=link, vertical=False)
    b.link(link, "slide", (0, 1, 0), (0, 0, h / 2), 0.75 * box_d)
    b.surface((0, (y0 + t + y1) / 2, t), (inner_w - t - 0.01, (y1 - y0 - t) / 2 - 0.01), clearance=z_top - t,
              link=link, enclosed=True, opened_by=link)


@register("Fridge")
def fridge(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.6, 0.9), (0.62, 0.78), (1.6, 1.9))
    t = 0.04
    door_t = 0.06
    color = pick(b.rng, PALETTES["appliance"][:3] + [(0.85, 0.86, 0.87)])
    tex = choose(b.rng, ["metal", "glossy", "plain"])
    body_d = d - door_t
    carcass(b, w, body_d, h, t, color, tex, bottom=0.0)
    inner = jitter(b.rng, (0.93, 0.94, 0.95), 0.02)
    y_face = d / 2 - door_t
    plinth = 0.06
    b.box_span((-w / 2 + t, -body_d / 2 + t, t), (w / 2 - t, -body_d / 2 + t + 0.005, h - t), inner)  # liner
    hinge_left = bool(b.rng.integers(2))
    handle_color = pick(b.rng, PALETTES["metal"] + PALETTES["black"])
    two_doors = b.rng.random() < 0.6
    shelf_hx, shelf_hy = w / 2 - t - 0.02, body_d / 2 - t - 0.03
    shelf_y = t / 2
    if two_doors:
        split = h * b.rng.uniform(0.62, 0.72)
        hinged_panel(b, "door_bottom", -w / 2, w / 2, plinth, split - 0.006, y_face, door_t, color, tex, hinge_left,
                     "bar", handle_color, handle_z=split - 0.25)
        hinged_panel(b, "door_top", -w / 2, w / 2, split + 0.006, h, y_face, door_t, color, tex, hinge_left, "bar",
                     handle_color, handle_z=split + 0.15)
        # The divider between freezer and fridge compartments.
        b.box_span((-w / 2 + t, -body_d / 2 + t, split - 0.02), (w / 2 - t, y_face, split + 0.02), color, texture=tex)
        levels = [("door_bottom", t), ("door_bottom", t + (split - t) / 3), ("door_bottom", t + 2 * (split - t) / 3),
                  ("door_top", split + 0.02)]
        tops = {"door_bottom": split - 0.02, "door_top": h - t}
    else:
        hinged_panel(b, "door", -w / 2, w / 2, plinth, h, y_face, door_t, color, tex, hinge_left, "bar", handle_color,
                     handle_z=h * 0.55)
        n = 4
        levels = [("door", t + k * (h - 2 * t) / n) for k in range(n)]
        tops = {"door": h - t}
    glass = jitter(b.rng, (0.8, 0.88, 0.9), 0.03, alpha=0.6)
    for i, (door, z) in enumerate(levels):
        if z > t + 1e-6:  # the floor needs no extra shelf board
            b.box_span((-shelf_hx, -shelf_hy + shelf_y, z - 0.008), (shelf_hx, shelf_hy + shelf_y, z), glass,
                       texture="glass")
        next_z = levels[i + 1][1] if i + 1 < len(levels) and levels[i + 1][0] == door else tops[door]
        b.surface((0, shelf_y, z), (shelf_hx - 0.01, shelf_hy - 0.01), clearance=next_z - z - 0.01, enclosed=True,
                  opened_by=door)
    b.box_span((-w / 2 + 0.03, y_face - 0.01, 0), (w / 2 - 0.03, y_face + 0.01, plinth - 0.005),
               jitter(b.rng, (0.15, 0.15, 0.16)))  # kick plate / vent
    if b.rng.random() < 0.4:  # water/ice dispenser on the door
        door = "door_top" if two_doors else "door"
        b.box_span((-0.08 if hinge_left else -0.12, d / 2, h * 0.72), (0.12 if hinge_left else 0.08, d / 2 + 0.004,
                   h * 0.72 + 0.22), jitter(b.rng, (0.2, 0.2, 0.22)), link=door)


@register("Microwave")
def microwave(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.45, 0.6), (0.33, 0.42), (0.26, 0.34))
    t = 0.015
    door_t = 0.025
    color = pick(b.rng, PALETTES["appliance"])
    tex = choose(b.rng, ["metal", "plain", "glossy"])
    body_d = d - door_t
    carcass(b, w, body_d, h, t, color, tex)
    y_face = d / 2 - door_t
    panel_w = w * b.rng.uniform(0.24, 0.3)
    cavity_x1 = w / 2 - panel_w
    # Inner wall separating the cavity from the control electronics; the control panel face.
    b.box_span((cavity_x1 - t, -body_d / 2 + t, t), (cavity_x1, y_face, h - t), color, texture=tex)
    panel_color = jitter(b.rng, (0.12, 0.12, 0.13), 0.04) if b.rng.random() < 0.6 else jitter(b.rng, color[:3], 0.05)
    b.box_span((cavity_x1, y_face, 0), (w / 2, d / 2, h), panel_color, texture="plain")
    b.box_span((cavity_x1 + 0.015, d / 2, h * 0.72), (w / 2 - 0.015, d / 2 + 0.003, h * 0.86),
               jitter(b.rng, (0.05, 0.2, 0.1), 0.03), role="glow")  # display
    for row in range(3):
        for col in range(3):
            bx = cavity_x1 + (col + 1) * (panel_w / 4)
            bz = h * (0.58 - row * 0.11)
            b.box((bx, d / 2 + 0.002, bz), (panel_w / 10, 0.002, h * 0.035), jitter(b.rng, (0.75, 0.75, 0.77), 0.05))
    # Door with a dark window; hinged on the left edge.
    link = "door"
    frame = jitter(b.rng, color[:3], 0.03)
    x0, x1 = -w / 2, cavity_x1
    b.box_span((x0, y_face, 0), (x1, y_face + door_t * 0.6, h), frame, texture=tex, link=link)
    b.box_span((x0 + 0.05, y_face + door_t * 0.6, 0.05), (x1 - 0.05, y_face + door_t, h - 0.05),
               jitter(b.rng, (0.08, 0.09, 0.1), 0.03, alpha=0.9), texture="glass", link=link)
    b.capsule((x1 - 0.03, y_face + door_t + 0.012, h / 2), 0.009, h * 0.3, pick(b.rng, PALETTES["metal"]),
              link=link, texture="metal")
    b.link(link, "hinge", (0, 0, 1), (x0, y_face, 0), OPEN_DOOR)
    # Cavity: light, turntable.
    b.box(((x0 + cavity_x1) / 2, 0, h - t - 0.004), (0.03, 0.03, 0.004), (0.9, 0.85, 0.6), role="glow")
    cx = (x0 + t + cavity_x1 - t) / 2
    tray_r = min((cavity_x1 - t - x0 - t) / 2, body_d / 2 - t) * 0.85
    b.disc(t, tray_r, 0.008, jitter(b.rng, (0.85, 0.9, 0.9), 0.03, alpha=0.8), xy=(cx, 0.0), texture="glass")
    # Things rest on the whole cavity floor (the tray is only drawn), so a plate and a few slices fit side by side.
    b.surface((cx, 0, t + 0.008), ((cavity_x1 - x0) / 2 - t - 0.01, body_d / 2 - t - 0.01),
              clearance=h - 2 * t - 0.02, enclosed=True, opened_by=link)


@register("StoveBurner")
def stove_burner(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.1 * s
    grate_color = pick(b.rng, PALETTES["black"])
    b.disc(0, r * 0.55, 0.012, pick(b.rng, PALETTES["dark_metal"]), texture="metal")  # burner cap base
    b.disc(0.012, r * 0.42, 0.006, jitter(b.rng, (0.12, 0.06, 0.04), 0.03), role="glow")  # flame ring
    b.disc(0.018, r * 0.25, 0.006, pick(b.rng, PALETTES["dark_metal"]), texture="metal")
    style = choose(b.rng, ["cross", "star", "ring"])
    top = 0.035
    arms = 4 if style == "cross" else 6
    for k in range(arms):
        a = math.pi * k / arms * 2 + (math.pi / 4 if style == "cross" else 0.0)
        p0 = (0.35 * r * math.cos(a), 0.35 * r * math.sin(a), top - 0.005)
        p1 = (r * math.cos(a), r * math.sin(a), top - 0.005)
        b.rod(p0, p1, 0.005, grate_color, geom="cylinder", texture="metal")
        b.rod((p1[0], p1[1], 0.0), (p1[0], p1[1], top - 0.005), 0.005, grate_color, geom="cylinder", texture="metal")
    if style == "ring":
        b.ring((0, 0, top - 0.005), r * 0.95, 0.005, grate_color, segments=12, texture="metal")
    b.surface((0, 0, top), (r * 0.7, r * 0.7))


@register("StoveKnob")
def stove_knob(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.022 * s
    depth = 0.025 * s
    color = pick(b.rng, PALETTES["black"] + PALETTES["metal"])
    # The knob sticks out of a stove front (+y) from a thin back plate at y = -hy.
    plate_r = r * 1.5
    plate = jitter(b.rng, (0.75, 0.75, 0.76), 0.05)
    b.cylinder((0, -depth / 2 - 0.002, plate_r), plate_r, 0.002, plate, axis=(0, 1, 0), texture="metal")
    shape = choose(b.rng, ["round", "fluted", "bar"])
    b.cylinder((0, 0.0, plate_r), r, depth / 2, color, axis=(0, 1, 0), texture="metal" if shape != "bar" else "plain")
    if shape == "fluted":
        for k in range(6):
            a = 2 * math.pi * k / 6
            b.cylinder((r * math.cos(a), 0, plate_r + r * math.sin(a)), r * 0.18, depth / 2, color, axis=(0, 1, 0))
    grip = (r * 0.25, depth * 0.4, r * 0.95)
    b.box((0, depth / 2 + grip[1], plate_r), grip, jitter(b.rng, color[:3], 0.04))
    b.box((0, depth / 2 + 2 * grip[1] + 0.001, plate_r + r * 0.6), (r * 0.12, 0.001, r * 0.25), (0.9, 0.9, 0.9))
    b.sphere((plate_r * 0.8, -depth / 2 + 0.002, plate_r * 1.85), 0.004 * s, (0.25, 0.05, 0.03), role="glow")


@register("Toaster")
def toaster(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    w, d, h = 0.28 * s * b.rng.uniform(0.9, 1.1), 0.17 * s * b.rng.uniform(0.9, 1.1), 0.19 * s
    color = pick(b.rng, PALETTES["appliance"] + PALETTES["plastic"][:4])
    tex = choose(b.rng, ["metal", "glossy", "plain"])
    r = min(d, h) * 0.18
    # Rounded body: a box core plus capsules along the top edges.
    b.box_span((-w / 2, -d / 2, 0), (w / 2, d / 2, h - r), color, texture=tex)
    b.box_span((-w / 2, -d / 2 + r, h - r), (w / 2, d / 2 - r, h), color, texture=tex)
    for y in (-d / 2 + r, d / 2 - r):
        b.capsule((0, y, h - r), r, w / 2 - r, color, axis=(1, 0, 0), texture=tex)
    slot_color = jitter(b.rng, (0.05, 0.05, 0.05), 0.02)
    slot_hw, slot_hl = 0.012, w * 0.36
    slot_depth = h * 0.75
    for y in (-d * 0.2, d * 0.2):
        b.box((0, y, h + 0.0005), (slot_hl, slot_hw, 0.001), slot_color)
        b.surface((0, y, h - slot_depth), (slot_hl, slot_hw), clearance=slot_depth + 0.1)
    base_color = pick(b.rng, PALETTES["black"])
    b.box_span((-w / 2 - 0.005, -d / 2 - 0.005, 0), (w / 2 + 0.005, d / 2 + 0.005, 0.012), base_color)
    b.box((w / 2 + 0.012, 0, h * 0.7), (0.012, 0.02, 0.008), base_color)  # lever
    b.box_span((w / 2 - 0.01, -0.004, 0.03), (w / 2 + 0.003, 0.004, h * 0.75), slot_color)  # lever track
    b.sphere((-w * 0.3, d / 2 + 0.001, h * 0.3), 0.006, (0.25, 0.08, 0.03), role="glow")


@register("CoffeeMachine")
def coffee_machine(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    w = 0.24 * s * b.rng.uniform(0.9, 1.15)
    d = 0.32 * s * b.rng.uniform(0.9, 1.1)
    h = 0.36 * s * b.rng.uniform(0.9, 1.1)
    color = pick(b.rng, PALETTES["appliance"] + PALETTES["black"])
    accent = pick(b.rng, PALETTES["metal"] + PALETTES["black"])
    tex = choose(b.rng, ["glossy", "metal", "plain"])
    back_d = d * 0.45
    # Column at the back, head over the cup, drip tray at the front.
    b.box_span((-w / 2, -d / 2, 0), (w / 2, -d / 2 + back_d, h), color, texture=tex)
    head_h = h * 0.25
    b.box_span((-w / 2, -d / 2 + back_d, h - head_h), (w / 2, d / 2, h), color, texture=tex)
    tray_h = 0.025
    b.box_span((-w / 2, -d / 2 + back_d, 0), (w / 2, d / 2, tray_h), accent, texture="metal")
    for k in range(5):
        y = -d / 2 + back_d + (k + 0.5) * (d - back_d) / 5
        b.box((0, y, tray_h + 0.0005), (w * 0.4, 0.003, 0.0008), jitter(b.rng, (0.1, 0.1, 0.1)))
    spout_y = -d / 2 + back_d + (d - back_d) * 0.45
    b.cylinder((0, spout_y, h - head_h - 0.012), 0.012, 0.012, accent, texture="metal")
    if b.rng.random() < 0.5:  # water tank on the side
        b.box_span((-w / 2 - 0.05, -d / 2 + 0.02, 0.03), (-w / 2, -d / 2 + back_d, h * 0.8),
                   jitter(b.rng, (0.75, 0.85, 0.9), 0.03, alpha=0.6), texture="glass")
    b.box_span((-w / 2 + 0.03, d / 2, h - head_h * 0.7), (w / 2 - 0.03, d / 2 + 0.004, h - head_h * 0.3),
               jitter(b.rng, (0.12, 0.12, 0.13), 0.03))
    b.sphere((w / 2 - 0.05, d / 2 + 0.004, h - head_h / 2), 0.007, (0.2, 0.05, 0.03), role="glow")
    b.surface((0, spout_y, tray_h), (w / 2 - 0.03, (d - back_d) / 2 - 0.01), clearance=h - head_h - tray_h - 0.03)


@register("Sink")
def sink(b: ShapeBuilder, size):
    """The rim/frame around the basin's hole, lying on the counter."""
    w, d, h = dims_from(b.rng, size, (0.5, 0.9), (0.42, 0.6), (0.02, 0.035))
    color = pick(b.rng, PALETTES["metal"] + PALETTES["stone"][:2])
    tex = "metal" if color[0] > 0.6 and b.rng.random() < 0.7 else "marble"
    front, back, side = d * 0.1, d * 0.28, w * 0.08
    b.box_span((-w / 2, -d / 2, 0), (w / 2, -d / 2 + back, h), color, texture=tex)
    b.box_span((-w / 2, d / 2 - front, 0), (w / 2, d / 2, h), color, texture=tex)
    b.box_span((-w / 2, -d / 2 + back, 0), (-w / 2 + side, d / 2 - front, h), color, texture=tex)
    b.box_span((w / 2 - side, -d / 2 + back, 0), (w / 2, d / 2 - front, h), color, texture=tex)
    # A short inner lip shows the hole's edge.
    lip = jitter(b.rng, color[:3], 0.08)
    b.box_span((-w / 2 + side, -d / 2 + back - 0.004, 0), (w / 2 - side, -d / 2 + back, h * 0.6), lip)
    b.surface((0, -d / 2 + back / 2, h), (w / 2 - 0.03, back / 2 - 0.02))


@register("SinkBasin")
def sink_basin(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.38, 0.7), (0.3, 0.42), (0.15, 0.22))
    t = 0.012
    color = pick(b.rng, PALETTES["metal"] + [(0.95, 0.95, 0.94), (0.2, 0.2, 0.22)])
    tex = "metal" if b.rng.random() < 0.6 else "glossy"
    b.box_span((-w / 2, -d / 2, 0), (w / 2, d / 2, t), color, texture=tex)
    for lo, hi in [((-w / 2, -d / 2, 0), (w / 2, -d / 2 + t, h)), ((-w / 2, d / 2 - t, 0), (w / 2, d / 2, h)),
                   ((-w / 2, -d / 2, 0), (-w / 2 + t, d / 2, h)), ((w / 2 - t, -d / 2, 0), (w / 2, d / 2, h))]:
        b.box_span(lo, hi, color, texture=tex)
    b.disc(t, 0.035, 0.002, jitter(b.rng, (0.25, 0.25, 0.27), 0.03), texture="metal")
    b.disc(t, 0.018, 0.003, (0.05, 0.05, 0.05))
    b.box((0, 0, t + h * 0.4), (w / 2 - t, d / 2 - t, 0.002), (0.55, 0.7, 0.9, 0.7), role="liquid")
    b.box((w * 0.15, -d * 0.1, t + 0.001), (w * 0.12, d * 0.1, 0.001), (0.45, 0.4, 0.32), role="dirt")
    b.surface((0, 0, t), (w / 2 - t - 0.02, d / 2 - t - 0.02))


@register("Faucet")
def faucet(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["metal"] + PALETTES["black"][:1])
    tex = "metal"
    base_r = 0.028 * s
    b.disc(0, base_r, 0.02 * s, color, texture=tex)
    style = choose(b.rng, ["gooseneck", "straight"])
    reach = b.rng.uniform(0.16, 0.24) * s
    r = 0.012 * s
    if style == "gooseneck":
        height = b.rng.uniform(0.25, 0.35) * s
        b.rod((0, 0, 0.02 * s), (0, 0, height - reach / 2), r, color, texture=tex)
        # The arch: a half circle of capsules from the riser over to the spout tip.
        cz = height - reach / 2
        n = 6
        prev = (0.0, 0.0, cz)
        for k in range(1, n + 1):
            a = math.pi * k / n
            p = (0.0, reach / 2 - reach / 2 * math.cos(a), cz + reach / 2 * math.sin(a))
            b.rod(prev, p, r, color, texture=tex)
            prev = p
        tip = (0.0, reach, cz - 0.03 * s)
        b.rod(prev, tip, r * 0.9, color, texture=tex)
    else:
        height = b.rng.uniform(0.12, 0.18) * s
        b.rod((0, 0, 0.02 * s), (0, 0, height), r * 1.3, color, texture=tex)
        tip = (0.0, reach, height - 0.02 * s)
        b.rod((0, 0, height), (0, reach, height), r, color, texture=tex)
        b.rod((0, reach, height), tip, r, color, texture=tex)
    # Lever handle beside or on top of the riser.
    hx = choose(b.rng, [-1, 1]) * base_r * 2.2
    b.disc(0, base_r * 0.6, 0.02 * s, color, xy=(hx, 0), texture=tex)
    b.rod((hx, 0, 0.02 * s), (hx, 0.0, 0.06 * s), 0.008 * s, color, texture=tex)
    b.rod((hx, 0, 0.06 * s), (hx, 0.05 * s, 0.07 * s), 0.006 * s, color, texture=tex)
    stream_top = tip[2] - r
    b.cylinder((0, tip[1], stream_top / 2), 0.006 * s, stream_top / 2, (0.6, 0.75, 0.95, 0.7), role="stream")
