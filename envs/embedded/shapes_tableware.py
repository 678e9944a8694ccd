"""Dishes, cookware and cutlery: hollow vessels built from ring segments so liquid and dirt inside are visible.
Fillable vessels carry a "liquid" disc, dirtyable ones "dirt" smudges (roles in ``shapes.ROLES``)."""

from __future__ import annotations

import math

from .shapes import (PALETTES, ShapeBuilder, choose, jitter, pick, quat_axis_angle, quat_mul, register, rgba,
                     scale_from)

LIQUID = (0.35, 0.55, 0.85, 0.85)
DIRT = (0.42, 0.33, 0.22, 1.0)


def flared_wall(b: ShapeBuilder, z0: float, r0: float, r1: float, height: float, wall: float, color,
                segments: int = 14, xy=(0.0, 0.0), **kw) -> None:
    """A conical wall from radius ``r0`` at ``z0`` to ``r1`` at ``z0 + height`` (bowls, cups, pans)."""
    tilt = math.atan2(r1 - r0, height)
    slant = math.hypot(r1 - r0, height)
    rm = (r0 + r1) / 2 - wall / 2 * math.cos(tilt)
    seg_half = math.pi * max(r0, r1) / segments * 1.08
    for k in range(segments):
        a = 2 * math.pi * k / segments
        quat = quat_mul(quat_axis_angle((0, 0, 1), a), quat_axis_angle((0, 1, 0), tilt))
        pos = (xy[0] + rm * math.cos(a), xy[1] + rm * math.sin(a), z0 + height / 2)
        b.add("box", (wall / 2, seg_half * (rm + wall) / max(r0, r1), slant / 2), pos, color, quat=quat, **kw)


def liquid_disc(b: ShapeBuilder, z: float, radius: float, xy=(0.0, 0.0)) -> None:
    b.disc(z - 0.002, radius, 0.004, LIQUID, xy=xy, role="liquid")


def dirt_smudges(b: ShapeBuilder, z: float, radius: float, count: int = 3, xy=(0.0, 0.0)) -> None:
    """Flat brown/grey blobs on an inner floor of radius ``radius`` at height ``z``."""
    for _ in range(count):
        a = b.rng.uniform(0, 2 * math.pi)
        d = b.rng.uniform(0.0, 0.6) * radius
        r = radius * b.rng.uniform(0.15, 0.3)
        color = jitter(b.rng, choose(b.rng, [DIRT[:3], (0.45, 0.42, 0.38), (0.55, 0.45, 0.2)]), 0.05)
        centre = (xy[0] + d * math.cos(a), xy[1] + d * math.sin(a), z + 0.0015)
        b.ellipsoid(centre, (r, r * b.rng.uniform(0.5, 1), 0.0015), color, role="dirt")


def dish_color(b: ShapeBuilder):
    """Ceramic in many glazes, or metal, or glass: a (colour, texture) pair."""
    kind = b.rng.random()
    if kind < 0.65:
        return pick(b.rng, PALETTES["ceramic"]), choose(b.rng, ["glossy", "plain", "noise"])
    if kind < 0.85:
        return pick(b.rng, PALETTES["metal"]), "metal"
    return pick(b.rng, PALETTES["glass"], alpha=0.55), "glass"


def stripe(b: ShapeBuilder, z: float, radius: float, color) -> None:
    """A decorative band around a cylindrical vessel."""
    b.ring((0, 0, z), radius + 0.0015, 0.0015, color, segments=14, height=0.004)


def loop_handle(b: ShapeBuilder, x_attach: float, z_low: float, z_high: float, reach: float, r: float, color,
                side: int = 1, **kw) -> None:
    """A C-shaped handle in the xz plane sticking out along ``side``*x (mugs, pots)."""
    x_out = x_attach + side * reach
    b.rod((x_attach, 0, z_high), (x_out, 0, z_high), r, color, **kw)
    b.rod((x_out, 0, z_high), (x_out, 0, z_low), r, color, **kw)
    b.rod((x_out, 0, z_low), (x_attach, 0, z_low), r, color, **kw)


@register("Mug")
def mug(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.042 * s * b.rng.uniform(0.9, 1.1)
    h = 0.095 * s * b.rng.uniform(0.85, 1.15)
    wall = 0.005
    color, tex = dish_color(b)
    if tex == "glass":
        color = color[:3] + (0.8,)
    r_bottom = r * b.rng.uniform(0.85, 1.0)
    b.disc(0, r_bottom - wall / 2, 0.008, color, texture=tex)
    flared_wall(b, 0, r_bottom, r, h, wall, color, texture=tex)
    if b.rng.random() < 0.4:
        at = b.rng.uniform(0.55, 0.85)
        stripe(b, h * at, r_bottom + (r - r_bottom) * at, pick(b.rng, PALETTES["ceramic"]))
    style = choose(b.rng, ["loop", "square"])
    hr = 0.006
    if style == "loop":
        loop_handle(b, r - 0.002, h * 0.25, h * 0.78, r * 0.6, hr, color, texture=tex)
    else:
        loop_handle(b, r - 0.002, h * 0.3, h * 0.7, r * 0.45, hr * 1.3, color, texture=tex)
    liquid_disc(b, h * 0.75, r - wall - 0.001)
    dirt_smudges(b, 0.008, r - wall)
    b.ellipsoid((0, r - 0.001, h * 0.85), (r * 0.35, 0.0015, h * 0.08), jitter(b.rng, DIRT[:3]), role="dirt")
    b.cracks((0, (r_bottom + r) / 2 + 0.002, h * 0.5), (1, 0, 0), (0, 0, 1), h * 0.35)
    b.surface((0, 0, 0.008), (r * 0.6, r * 0.6), clearance=h - 0.008)


@register("Cup")
def cup(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r_top = 0.04 * s * b.rng.uniform(0.85, 1.1)
    r_bot = r_top * b.rng.uniform(0.65, 0.85)
    h = 0.11 * s * b.rng.uniform(0.85, 1.15)
    kind = b.rng.random()
    if kind < 0.5:
        color, tex = pick(b.rng, PALETTES["glass"][:1] + [(0.9, 0.92, 0.95)], alpha=0.45), "glass"
    else:
        color, tex = pick(b.rng, PALETTES["plastic"] + PALETTES["ceramic"]), choose(b.rng, ["plain", "glossy"])
    b.disc(0, r_bot, 0.01, color, texture=tex)
    flared_wall(b, 0, r_bot, r_top, h, 0.003, color, texture=tex)
    liquid_disc(b, h * 0.7, (r_bot + (r_top - r_bot) * 0.7) - 0.004)
    dirt_smudges(b, 0.01, r_bot - 0.004, count=2)
    b.cracks((0, (r_bot + r_top) / 2 + 0.002, h * 0.5), (1, 0, 0), (0, 0, 1), h * 0.35)
    b.surface((0, 0, 0.01), (r_bot * 0.6, r_bot * 0.6), clearance=h - 0.01)


@register("Bowl")
def bowl(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r_top = 0.08 * s * b.rng.uniform(0.85, 1.15)
    h = r_top * b.rng.uniform(0.5, 0.75)
    r_bot = r_top * b.rng.uniform(0.45, 0.6)
    color, tex = dish_color(b)
    foot = 0.008
    b.disc(0, r_bot * 0.8, foot, color, texture=tex)
    b.disc(foot, r_bot, 0.006, color, texture=tex)
    # Two conical bands approximate the curved side.
    mid_r = r_bot + (r_top - r_bot) * 0.7
    flared_wall(b, foot, r_bot, mid_r, h * 0.5, 0.005, color, texture=tex)
    flared_wall(b, foot + h * 0.5, mid_r, r_top, h * 0.5 - foot, 0.005, color, texture=tex)
    if b.rng.random() < 0.35:
        b.ring((0, 0, h - 0.004), r_top - 0.001, 0.003, pick(b.rng, PALETTES["ceramic"]), segments=14)
    liquid_disc(b, foot + h * 0.55, mid_r * 0.97)
    dirt_smudges(b, foot + 0.006, r_bot)
    b.cracks((0, 0, foot + 0.0075), (1, 0, 0), (0, 1, 0), r_bot * 0.9)
    b.cracks((0, (mid_r + r_top) / 2 + 0.003, foot + h * 0.7), (1, 0, 0), (0, 0, 1), h * 0.3, branches=2)
    b.surface((0, 0, foot + 0.006), (r_bot * 0.7, r_bot * 0.7), clearance=h)


@register("Plate")
def plate(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.12 * s * b.rng.uniform(0.85, 1.1)
    color, tex = dish_color(b)
    if tex == "glass":
        color, tex = pick(b.rng, PALETTES["ceramic"]), "glossy"
    square = b.rng.random() < 0.2
    if square:
        b.box((0, 0, 0.004), (r * 0.7, r * 0.7, 0.004), color, texture=tex)
        for sx, sy in [(1, 0), (-1, 0), (0, 1), (0, -1)]:
            half = (0.008, r * 0.85, 0.006) if sx else (r * 0.85, 0.008, 0.006)
            b.box((sx * r * 0.78, sy * r * 0.78, 0.012), half, color, texture=tex,
                  quat=quat_axis_angle((sy, -sx, 0), 0.35))
    else:
        b.disc(0, r * 0.65, 0.008, color, texture=tex)
        flared_wall(b, 0.004, r * 0.63, r, 0.016, 0.004, color, segments=16, texture=tex)
        if b.rng.random() < 0.4:
            b.ring((0, 0, 0.017), r * 0.93, 0.004, pick(b.rng, PALETTES["ceramic"]), segments=16, height=0.0015)
    dirt_smudges(b, 0.008, r * 0.55, count=4)
    b.cracks((0, 0, 0.0085), (1, 0, 0), (0, 1, 0), r * 0.55, branches=4)
    b.surface((0, 0, 0.008), (r * 0.5, r * 0.5))


@register("Pot")
def pot(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.11 * s * b.rng.uniform(0.85, 1.15)
    h = r * b.rng.uniform(0.8, 1.1)
    color = pick(b.rng, PALETTES["metal"] + PALETTES["dark_metal"] + [(0.75, 0.2, 0.15), (0.2, 0.35, 0.55)])
    tex = "metal" if color[0] > 0.4 or b.rng.random() < 0.5 else "glossy"
    b.disc(0, r, 0.01, color, texture=tex)
    b.wall_ring((0, 0), 0, r, 0.006, h, color, segments=16, texture=tex)
    grip = pick(b.rng, PALETTES["black"] + PALETTES["metal"])
    for side in (-1, 1):
        loop_handle(b, side * r, h * 0.72, h * 0.9, 0.04 * s, 0.007, grip, side=side, texture="metal")
    liquid_disc(b, h * 0.7, r - 0.008)
    dirt_smudges(b, 0.01, r - 0.01, count=4)
    b.surface((0, 0, 0.01), (r * 0.65, r * 0.65), clearance=h)


@register("Pan")
def pan(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.13 * s * b.rng.uniform(0.85, 1.15)
    h = 0.045 * s
    color = pick(b.rng, PALETTES["dark_metal"] + PALETTES["metal"][:2])
    b.disc(0, r * 0.85, 0.006, color, texture="metal")
    flared_wall(b, 0, r * 0.85, r, h, 0.005, color, segments=16, texture="metal")
    grip = pick(b.rng, PALETTES["black"] + PALETTES["wood_dark"])
    length = 0.18 * s * b.rng.uniform(0.9, 1.2)
    b.rod((r - 0.01, 0, h * 0.8), (r + 0.04, 0, h * 0.95), 0.007, color, texture="metal")
    b.capsule((r + 0.04 + length / 2, 0, h * 0.95 + 0.01), 0.011, length / 2, grip, axis=(1, 0, 0.12),
              texture="wood_dark" if grip[0] > 0.25 else "plain")
    dirt_smudges(b, 0.006, r * 0.8, count=4)
    b.surface((0, 0, 0.006), (r * 0.6, r * 0.6))


@register("Kettle")
def kettle(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.085 * s * b.rng.uniform(0.9, 1.1)
    h = 0.17 * s * b.rng.uniform(0.9, 1.15)
    color = pick(b.rng, PALETTES["metal"] + PALETTES["appliance"] + PALETTES["ceramic"][:4])
    tex = choose(b.rng, ["metal", "glossy"])
    b.disc(0, r * 0.95, 0.012, color, texture=tex)
    flared_wall(b, 0.0, r, r * b.rng.uniform(0.6, 0.8), h, 0.008, color, segments=14, texture=tex)
    r_top = r * 0.6
    liquid_disc(b, h * 0.6, r * 0.7)
    # Spout rising towards +y; handle arching over the top (or on the back).
    b.rod((0, r * 0.85, h * 0.3), (0, r * 1.45, h * 0.8), 0.011 * s, color, texture=tex)
    grip = pick(b.rng, PALETTES["black"] + PALETTES["wood_dark"])
    if b.rng.random() < 0.5:
        b.rod((0, -r * 0.55, h), (0, -r * 0.55, h * 1.35), 0.009, grip)
        b.rod((0, -r * 0.55, h * 1.35), (0, r * 0.35, h * 1.35), 0.009, grip)
        b.rod((0, r * 0.35, h * 1.35), (0, r * 0.35, h + 0.012), 0.009, grip)
    else:
        b.rod((0, -r * 0.8, h * 0.85), (0, -r * 1.4, h * 0.7), 0.01, grip)
        b.rod((0, -r * 1.4, h * 0.7), (0, -r * 1.3, h * 0.25), 0.01, grip)
        b.rod((0, -r * 1.3, h * 0.25), (0, -r * 0.95, h * 0.15), 0.01, grip)
    lid = "lid"
    b.disc(h, r_top * 0.95, 0.008, jitter(b.rng, color[:3], 0.04), texture=tex, link=lid)
    b.sphere((0, 0, h + 0.016), 0.012, grip, link=lid)
    b.link(lid, "hinge", (1, 0, 0), (0, -r_top * 0.95, h), 1.6)
    b.surface((0, 0, 0.012), (r * 0.5, r * 0.5), clearance=h - 0.02, enclosed=True, opened_by=lid)


def _utensil_handle(b: ShapeBuilder, x0: float, x1: float, width: float, thick: float, color, tex) -> None:
    b.box(((x0 + x1) / 2, 0, thick), ((x1 - x0) / 2, width / 2, thick), color, texture=tex)


def _handle_look(b: ShapeBuilder):
    if b.rng.random() < 0.5:
        return pick(b.rng, PALETTES["metal"]), "metal"
    return pick(b.rng, PALETTES["black"] + PALETTES["wood_dark"] + PALETTES["plastic"][:3]), \
        choose(b.rng, ["plain", "wood_dark"])


@register("Knife")
def knife(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    blade = 0.17 * s * b.rng.uniform(0.85, 1.2)
    width = 0.035 * s * b.rng.uniform(0.8, 1.2)
    grip_len = 0.11 * s
    grip_color, grip_tex = pick(b.rng, PALETTES["black"] + PALETTES["wood_dark"]), choose(b.rng, ["plain", "wood_dark"])
    steel = pick(b.rng, PALETTES["metal"])
    b.capsule((-grip_len / 2, 0, 0.011), 0.011, grip_len / 2 - 0.011, grip_color, axis=(1, 0, 0), texture=grip_tex)
    b.box((0.004, 0, 0.011), (0.004, 0.013, 0.012), steel, texture="metal")  # bolster
    # Blade: a straight spine along -y edge and a tip that narrows (two boxes, the second rotated).
    b.box((0.008 + blade * 0.4, -0.005 + width / 2 - 0.008, 0.011), (blade * 0.4, width / 2, 0.0012), steel,
          texture="metal")
    b.box((0.008 + blade * 0.85, -0.005 + width / 4, 0.011), (blade * 0.15, width / 4, 0.0012), steel,
          texture="metal", quat=quat_axis_angle((0, 0, 1), 0.25))


@register("ButterKnife")
def butter_knife(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    steel, tex = _handle_look(b)
    blade_color = pick(b.rng, PALETTES["metal"])
    _utensil_handle(b, -0.1 * s, 0.0, 0.016 * s, 0.004, steel, tex)
    b.box((0.05 * s, 0, 0.004), (0.05 * s, 0.009 * s, 0.0012), blade_color, texture="metal")
    b.cylinder((0.1 * s, 0, 0.004), 0.009 * s, 0.0012, blade_color, texture="metal")


@register("Fork")
def fork(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color, tex = _handle_look(b)
    steel = pick(b.rng, PALETTES["metal"])
    _utensil_handle(b, -0.12 * s, 0.0, 0.016 * s, 0.004, color, tex)
    b.box((0.015 * s, 0, 0.005), (0.015 * s, 0.005 * s, 0.002), steel, texture="metal")  # neck
    b.box((0.036 * s, 0, 0.006), (0.008 * s, 0.012 * s, 0.0015), steel, texture="metal")  # head
    tines = choose(b.rng, [3, 4])
    for k in range(tines):
        y = (k - (tines - 1) / 2) * 0.022 * s / (tines - 1)
        b.box((0.062 * s, y, 0.008), (0.02 * s, 0.0015 * s, 0.0015), steel, texture="metal")


@register("Spoon")
def spoon(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color, tex = _handle_look(b)
    steel = pick(b.rng, PALETTES["metal"])
    _utensil_handle(b, -0.12 * s, 0.0, 0.014 * s, 0.004, color, tex)
    b.ellipsoid((0.03 * s, 0, 0.007), (0.03 * s, 0.02 * s, 0.006), steel, texture="metal")


@register("Spatula")
def spatula(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["black"] + PALETTES["plastic"][:4] + PALETTES["wood_light"][:1])
    tex = "wood" if color[0] > 0.7 and color[2] < 0.5 else "plain"
    grip = 0.17 * s
    b.capsule((-grip / 2, 0, 0.012), 0.011, grip / 2, color, axis=(1, 0, 0), texture=tex)
    b.rod((0.0, 0, 0.012), (0.05 * s, 0, 0.005), 0.005, color)
    head = pick(b.rng, PALETTES["metal"] + PALETTES["black"])
    b.box((0.05 * s + 0.045 * s, 0, 0.004), (0.045 * s, 0.035 * s, 0.002), head, texture="metal")
    for k in range(3):  # slots
        b.box((0.1 * s - 0.045 * s, (k - 1) * 0.018 * s, 0.0062), (0.03 * s, 0.003 * s, 0.0002),
              jitter(b.rng, (0.1, 0.1, 0.1)))


@register("Ladle")
def ladle(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color, tex = _handle_look(b)
    steel = pick(b.rng, PALETTES["metal"])
    r = 0.04 * s
    length = 0.25 * s
    # Cup-shaped head resting on the table, handle rising away from it.
    b.ellipsoid((0, 0, r * 0.6), (r, r, r * 0.6), steel, texture="metal")
    b.disc(r * 1.1, r * 0.85, 0.002, rgba((0.3, 0.3, 0.32)))
    b.rod((-r * 0.9, 0, r * 1.1), (-r - length, 0, r * 1.1 + length * 0.35), 0.006, color, texture=tex)
