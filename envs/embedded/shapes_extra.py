"""The rest of AI2-THOR's object types (``envs/data/ai2thor_ontology.json``) that iTHOR/ProcTHOR scenes contain but the
core kitchen/living/bed/bath lists do not: sports gear, shower fittings, blinds and curtains, a safe, stools and decor.
Same conventions as ``shapes``; openable ones get links, toggleable ones a stream/glow part, breakable ones cracks."""

from __future__ import annotations

import math

from .shapes import (PALETTES, ShapeBuilder, choose, dims_from, jitter, pick, quat_axis_angle, quat_mul, register,
                     scale_from)
from .shapes_kitchen import OPEN_DOOR, cabinet_palette, carcass, handle


@register("BaseballBat")
def baseball_bat(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.08)
    length = 0.84 * s
    color = pick(b.rng, PALETTES["wood_light"] + PALETTES["metal"] + PALETTES["black"])
    tex = "wood" if color[2] < 0.6 and color[0] > 0.6 else "metal"
    r_barrel, r_handle = 0.033 * s, 0.013 * s
    # Lying on the floor along x: knob, tapering handle, barrel.
    b.cylinder((-length / 2 + 0.006, 0, r_barrel), r_handle * 1.6, 0.006, color, axis=(1, 0, 0), texture=tex)
    b.rod((-length / 2 + 0.012, 0, r_barrel), (0.0, 0, r_barrel), r_handle, color, geom="cylinder", texture=tex)
    b.rod((-0.05 * s, 0, r_barrel), (length * 0.15, 0, r_barrel), (r_handle + r_barrel) / 2, color, geom="cylinder",
          texture=tex)
    b.capsule((length * 0.32, 0, r_barrel), r_barrel, length * 0.16, color, axis=(1, 0, 0), texture=tex)
    b.rod((-length / 2 + 0.02, 0, r_barrel), (-length / 2 + 0.14 * s, 0, r_barrel), r_handle * 1.12,
          pick(b.rng, PALETTES["black"] + PALETTES["plastic"][:3]), geom="cylinder", texture="fabric")  # grip tape


@register("BasketBall")
def basket_ball(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.05)
    r = 0.12 * s
    leather = jitter(b.rng, choose(b.rng, [(0.85, 0.4, 0.12), (0.75, 0.32, 0.1), (0.9, 0.5, 0.2)]), 0.04)
    b.sphere((0, 0, r), r, leather, texture="noise")
    seam = (0.08, 0.06, 0.05)
    b.ring((0, 0, r), r * 1.002, 0.002, seam, segments=20, height=0.003)  # equator
    for angle in (0.0, math.pi / 2):  # two meridians: rings of segments in vertical planes
        for k in range(20):
            a = 2 * math.pi * k / 20
            x, z = r * 1.002 * math.cos(a), r + r * 1.002 * math.sin(a)
            pos = (x * math.cos(angle), x * math.sin(angle), z)
            quat = quat_mul(quat_axis_angle((0, 0, 1), angle), quat_axis_angle((0, 1, 0), -a))
            b.add("box", (0.002, 0.003, math.pi * r / 20 * 1.05), pos, seam, quat=quat)


@register("Boots")
def boots(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    leather = pick(b.rng, PALETTES["wood_dark"] + PALETTES["black"] + [(0.6, 0.45, 0.3), (0.3, 0.3, 0.35)])
    sole = pick(b.rng, PALETTES["black"] + [(0.55, 0.4, 0.25)])
    shaft = b.rng.uniform(0.18, 0.32) * s
    for x in (-0.06 * s, 0.06 * s):  # a pair side by side, toes to +y
        b.box((x, 0.02 * s, 0.008), (0.045 * s, 0.14 * s, 0.008), sole)
        b.ellipsoid((x, 0.07 * s, 0.04 * s), (0.043 * s, 0.08 * s, 0.04 * s), leather, texture="glossy")
        b.box((x, -0.06 * s, 0.016 + shaft / 2), (0.043 * s, 0.05 * s, shaft / 2), leather, texture="glossy")
        b.box((x, -0.06 * s, 0.016 + shaft - 0.01), (0.045 * s, 0.052 * s, 0.01), jitter(b.rng, leather[:3], 0.1))


@register("CD")
def cd(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.02)
    in_case = b.rng.random() < 0.5
    if in_case:
        case = jitter(b.rng, (0.85, 0.88, 0.9), 0.03)
        b.box((0, 0, 0.005), (0.0625 * s, 0.071 * s, 0.005), case, texture="glass")
        b.box((0, 0, 0.0105), (0.06 * s, 0.06 * s, 0.0005), pick(b.rng, PALETTES["ceramic"] + PALETTES["plastic"]),
              texture=choose(b.rng, ["noise", "stripes", "checker"]))  # cover art
    else:
        b.disc(0, 0.06 * s, 0.0012, jitter(b.rng, (0.8, 0.82, 0.85), 0.04), texture="metal")
        b.disc(0.0012, 0.058 * s, 0.0003, pick(b.rng, PALETTES["ceramic"] + PALETTES["plastic"]), texture="noise")
        b.disc(0.0012, 0.0075, 0.0006, (0.35, 0.35, 0.37))  # hole


@register("Dumbbell")
def dumbbell(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    plate = pick(b.rng, PALETTES["black"] + PALETTES["plastic"][:5] + PALETTES["metal"])
    r = 0.045 * s
    b.rod((-0.09 * s, 0, r), (0.09 * s, 0, r), 0.014, pick(b.rng, PALETTES["metal"]), geom="cylinder", texture="metal")
    hexagonal = b.rng.random() < 0.5
    for sx in (-1, 1):
        if hexagonal:
            for k in range(3):
                b.box((sx * 0.07 * s, 0, r), (0.025 * s, r * 0.58, r * 0.98), plate, texture="glossy",
                      quat=quat_axis_angle((1, 0, 0), math.pi / 3 * k))
        else:
            b.cylinder((sx * 0.07 * s, 0, r), r, 0.025 * s, plate, axis=(1, 0, 0), texture="glossy")


@register("Plunger")
def plunger(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.08)
    cup = pick(b.rng, [(0.6, 0.12, 0.1), (0.1, 0.1, 0.1), (0.85, 0.6, 0.2)])
    stick = pick(b.rng, PALETTES["wood_light"] + PALETTES["black"] + PALETTES["plastic"][:3])
    r = 0.07 * s
    b.ellipsoid((0, 0, r * 0.55), (r, r, r * 0.55), cup, texture="glossy")
    b.disc(0, r * 0.92, 0.012, jitter(b.rng, cup[:3], 0.08))
    b.rod((0, 0, r), (0, 0, 0.45 * s), 0.012, stick, geom="cylinder",
          texture="wood" if stick[0] > 0.6 and stick[2] < 0.6 else "plain")


@register("ScrubBrush")
def scrub_brush(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    body = pick(b.rng, PALETTES["plastic"] + PALETTES["wood_light"])
    bristle = pick(b.rng, [(0.95, 0.95, 0.9), (0.15, 0.15, 0.15), (0.9, 0.8, 0.3)])
    if b.rng.random() < 0.5:  # toilet brush standing in its holder
        b.disc(0, 0.05 * s, 0.1 * s, body, texture="glossy")
        b.disc(0.1 * s, 0.04 * s, 0.005, jitter(b.rng, body[:3], 0.1))
        b.rod((0, 0, 0.1 * s), (0, 0, 0.38 * s), 0.008, body)
        b.sphere((0, 0, 0.38 * s), 0.012, body)
    else:  # hand scrub brush lying bristles down
        b.box((0, 0, 0.012), (0.07 * s, 0.03 * s, 0.012), bristle, texture="noise")
        b.ellipsoid((0, 0, 0.03), (0.075 * s, 0.032 * s, 0.012), body, texture="wood" if body[2] < 0.5 else "glossy")
        b.rod((0.05 * s, 0, 0.035), (0.13 * s, 0, 0.05), 0.01, body)


@register("TeddyBear")
def teddy_bear(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    fur = pick(b.rng, [(0.6, 0.4, 0.22), (0.8, 0.65, 0.45), (0.95, 0.9, 0.85), (0.4, 0.28, 0.2), (0.9, 0.6, 0.7)])
    body_r = 0.07 * s
    b.ellipsoid((0, 0, body_r * 1.1), (body_r, body_r * 0.85, body_r * 1.1), fur, texture="fabric")  # sitting body
    head = (0, 0.01 * s, body_r * 2.2 + 0.045 * s)
    b.sphere(head, 0.055 * s, fur, texture="fabric")
    for sx in (-1, 1):
        b.sphere((sx * 0.04 * s, head[1], head[2] + 0.045 * s), 0.018 * s, fur, texture="fabric")  # ears
        b.ellipsoid((sx * body_r * 0.85, 0.01 * s, body_r * 1.3), (0.022 * s, 0.022 * s, 0.05 * s), fur,
                    texture="fabric", quat=quat_axis_angle((0, 1, 0), sx * 0.5))  # arms
        b.ellipsoid((sx * body_r * 0.5, body_r * 0.8, 0.025 * s), (0.028 * s, 0.05 * s, 0.025 * s), fur,
                    texture="fabric")  # legs forward
        b.sphere((sx * 0.018 * s, head[1] + 0.05 * s, head[2] + 0.012 * s), 0.006 * s, (0.05, 0.05, 0.05))  # eyes
    b.ellipsoid((0, head[1] + 0.048 * s, head[2] - 0.012 * s), (0.022 * s, 0.016 * s, 0.016 * s),
                jitter(b.rng, fur[:3], 0.15), texture="fabric")  # muzzle
    b.sphere((0, head[1] + 0.064 * s, head[2] - 0.008 * s), 0.006 * s, (0.05, 0.05, 0.05))


@register("TennisRacket")
def tennis_racket(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.06)
    frame = pick(b.rng, PALETTES["plastic"] + PALETTES["black"] + PALETTES["metal"])
    head_rx, head_ry = 0.13 * s, 0.16 * s
    cy = 0.12 * s
    # Lying flat: oval head towards +y, handle towards -y.
    for k in range(16):
        a = 2 * math.pi * k / 16
        pos = (head_rx * math.cos(a), cy + head_ry * math.sin(a), 0.011)
        tangent = math.atan2(head_ry * math.cos(a), -head_rx * math.sin(a))
        b.box(pos, (math.pi * (head_rx + head_ry) / 16 * 0.55, 0.007, 0.011), frame,
              quat=quat_axis_angle((0, 0, 1), tangent))
    strings = (0.95, 0.95, 0.9)
    for k in range(-4, 5):
        x = k * head_rx / 5
        half = head_ry * math.sqrt(max(0.0, 1 - (x / head_rx) ** 2)) - 0.004
        b.box((x, cy, 0.011), (0.0008, half, 0.0008), strings)
    for k in range(-5, 6):
        y = k * head_ry / 6
        half = head_rx * math.sqrt(max(0.0, 1 - (y / head_ry) ** 2)) - 0.004
        b.box((0, cy + y, 0.011), (half, 0.0008, 0.0008), strings)
    b.rod((0, cy - head_ry, 0.011), (0, -0.22 * s, 0.011), 0.011, frame)
    b.rod((0, -0.2 * s, 0.015), (0, -0.38 * s, 0.015), 0.015, pick(b.rng, PALETTES["black"] + PALETTES["linen"]),
          geom="cylinder", texture="fabric")


@register("AluminumFoil")
def aluminum_foil(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    box_color = pick(b.rng, [(0.3, 0.4, 0.7), (0.85, 0.2, 0.2), (0.9, 0.9, 0.9), (0.2, 0.5, 0.3)])
    length = 0.31 * s
    b.box((0, 0, 0.025 * s), (length / 2, 0.025 * s, 0.025 * s), box_color, texture="paper")
    b.box((0, 0.0255 * s, 0.03 * s), (length / 2 * 0.9, 0.0005, 0.01 * s), (0.85, 0.86, 0.88), texture="metal")
    b.box((0, -0.01 * s, 0.05 * s + 0.001), (length / 2, 0.03 * s, 0.001), jitter(b.rng, box_color[:3], 0.05),
          texture="paper", quat=quat_axis_angle((1, 0, 0), 0.1))  # lid flap


@register("GarbageBag")
def garbage_bag(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    plastic = pick(b.rng, PALETTES["black"] + [(0.25, 0.35, 0.25), (0.85, 0.85, 0.85), (0.3, 0.35, 0.55)])
    r, h = 0.2 * s, 0.42 * s
    b.ellipsoid((0, 0, h * 0.42), (r, r * 0.9, h * 0.42), plastic, texture="glossy")
    b.ellipsoid((0.02 * s, -0.01 * s, h * 0.62), (r * 0.8, r * 0.75, h * 0.25), plastic, texture="glossy")
    b.ellipsoid((0, 0, h * 0.88), (0.03 * s, 0.03 * s, h * 0.08), plastic, texture="glossy")  # twisted neck
    for sx in (-1, 1):
        b.ellipsoid((sx * 0.035 * s, 0, h * 0.97), (0.03 * s, 0.01, h * 0.03), plastic,
                    quat=quat_axis_angle((0, 1, 0), sx * 0.6))


@register("VacuumCleaner")
def vacuum_cleaner(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.1)
    body = pick(b.rng, PALETTES["plastic"] + PALETTES["metal"])
    dark = pick(b.rng, PALETTES["black"])
    if b.rng.random() < 0.5:  # robot vacuum: a flat disc
        r = 0.17 * s
        b.disc(0, r, 0.08 * s, body, texture="glossy")
        b.disc(0.08 * s, r * 0.95, 0.003, dark, texture="glossy")
        b.box((0, r * 0.7, 0.085 * s), (0.03 * s, 0.01, 0.004), (0.2, 0.6, 0.9), role="glow")
        b.cylinder((0, r * 0.98, 0.04 * s), 0.02, r * 0.6, dark, axis=(1, 0, 0))  # bumper
    else:  # upright stick vacuum
        b.box((0, 0.03 * s, 0.02 * s), (0.14 * s, 0.06 * s, 0.02 * s), dark)  # floor head
        b.rod((0, 0.0, 0.04 * s), (0, -0.05 * s, 1.0 * s), 0.014, pick(b.rng, PALETTES["metal"]), geom="cylinder",
              texture="metal")
        b.cylinder((0, -0.04 * s, 0.7 * s), 0.06 * s, 0.12 * s, body, texture="glossy")  # dust bin
        b.rod((0, -0.05 * s, 1.0 * s), (0, -0.12 * s, 1.1 * s), 0.016, dark)  # handle


@register("Poster")
def poster(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.4, 0.7), (0.004, 0.01), (0.55, 1.0))
    paper = pick(b.rng, PALETTES["ceramic"] + PALETTES["linen"])
    b.box_span((-w / 2, -d / 2, 0), (w / 2, d / 2, h), paper, texture="paper")
    for _ in range(int(b.rng.integers(2, 5))):  # bold blocks of colour and a title bar
        x0 = b.rng.uniform(-w / 2 + 0.03, 0)
        z0 = b.rng.uniform(0.03, h * 0.6)
        b.box_span((x0, d / 2, z0), (x0 + b.rng.uniform(0.05, w / 2), d / 2 + 0.001, min(h - 0.03, z0 + b.rng.uniform(
            0.05, h * 0.4))), pick(b.rng, PALETTES["plastic"]))
    title = pick(b.rng, PALETTES["black"])
    b.box_span((-w / 2 + 0.03, d / 2, h - 0.12), (w / 2 - 0.03, d / 2 + 0.0012, h - 0.05), title)


@register("Safe")
def safe(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.35, 0.5), (0.35, 0.45), (0.35, 0.55))
    steel = pick(b.rng, PALETTES["dark_metal"] + PALETTES["metal"][1:] + [(0.25, 0.3, 0.25)])
    t = 0.03
    door_t = 0.04
    carcass(b, w, d - door_t, h, t, steel, "metal")
    y_face = d / 2 - door_t
    link = "door"
    b.box_span((-w / 2, y_face, 0), (w / 2, d / 2, h), jitter(b.rng, steel[:3], 0.03), texture="metal", link=link)
    b.cylinder((w * 0.1, d / 2 + 0.008, h * 0.55), 0.035, 0.008, pick(b.rng, PALETTES["metal"]), axis=(0, 1, 0),
               texture="metal", link=link)  # dial
    b.box((w * 0.1, d / 2 + 0.017, h * 0.55 + 0.025), (0.003, 0.001, 0.008), (0.9, 0.9, 0.9), link=link)
    handle(b, "bar", (w * 0.32, d / 2, h * 0.5), 0.12, pick(b.rng, PALETTES["metal"]), link=link)
    b.box((-w * 0.3, d / 2 + 0.003, h * 0.8), (0.03, 0.003, 0.02), (0.05, 0.15, 0.05), role="glow", link=link)
    b.link(link, "hinge", (0, 0, 1), (-w / 2, y_face, 0), OPEN_DOOR)
    b.surface((0, 0, t), (w / 2 - t - 0.02, (d - door_t) / 2 - t - 0.02), clearance=h - 2 * t, enclosed=True,
              opened_by=link)


@register("ShelvingUnit")
def shelving_unit(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.6, 1.2), (0.3, 0.45), (0.8, 1.9))
    color, tex = cabinet_palette(b.rng)
    t = 0.02
    open_back = b.rng.random() < 0.4
    for sx in (-1, 1):
        b.box_span((sx * w / 2 - (t if sx > 0 else 0), -d / 2, 0), (sx * w / 2 + (0 if sx > 0 else t), d / 2, h), color,
                   texture=tex)
    if not open_back:
        b.box_span((-w / 2 + t, -d / 2, 0), (w / 2 - t, -d / 2 + 0.008, h), jitter(b.rng, color[:3], 0.06), texture=tex)
    levels = int(b.rng.integers(3, 6))
    for k in range(levels):
        z = 0.05 + k * (h - 0.05 - t) / (levels - 1)
        b.box_span((-w / 2 + t, -d / 2, z), (w / 2 - t, d / 2, z + t), color, texture=tex)
        clearance = (h - 0.05 - t) / (levels - 1) - t if k < levels - 1 else math.inf
        b.surface((0, 0, z + t), (w / 2 - t - 0.02, d / 2 - 0.03), clearance=clearance)


@register("Stool")
def stool(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.3, 0.42), (0.3, 0.42), (0.45, 0.78))
    color, tex = cabinet_palette(b.rng)
    seat = pick(b.rng, PALETTES["fabric"] + PALETTES["black"]) if b.rng.random() < 0.4 else color
    r = min(w, d) / 2
    b.add("cylinder", (r, 0.02), (0, 0, h - 0.02), seat, texture=tex)
    legs = pick(b.rng, PALETTES["black"] + PALETTES["metal"]) if b.rng.random() < 0.5 else color
    for k in range(4):
        a = math.pi / 4 + k * math.pi / 2
        top = (r * 0.6 * math.cos(a), r * 0.6 * math.sin(a), h - 0.04)
        foot = (r * 0.95 * math.cos(a), r * 0.95 * math.sin(a), 0.012)
        b.rod(top, foot, 0.012, legs, geom="cylinder", texture=tex if legs is color else "metal")
    b.ring((0, 0, h * 0.3), r * 0.78, 0.008, legs, segments=12)  # foot ring
    b.surface((0, 0, h), (r * 0.65, r * 0.65))


@register("Footstool")
def footstool(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.35, 0.5), (0.25, 0.35), (0.2, 0.3))
    color, tex = cabinet_palette(b.rng)
    b.box_span((-w / 2, -d / 2, h - 0.03), (w / 2, d / 2, h), color, texture=tex)
    for sx in (-1, 1):
        b.box_span((sx * w / 2 - (0.025 if sx > 0 else 0), -d / 2 + 0.02, 0),
                   (sx * w / 2 + (0 if sx > 0 else 0.025), d / 2 - 0.02, h - 0.03), color, texture=tex)
    b.box((0, 0, h * 0.7), (0.03, 0.012, h * 0.1), jitter(b.rng, (0.1, 0.1, 0.1)))  # hand hole seen from the top
    b.surface((0, 0, h), (w / 2 - 0.04, d / 2 - 0.03))


@register("DogBed")
def dog_bed(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.5, 0.9), (0.4, 0.7), (0.15, 0.25))
    fabric = pick(b.rng, PALETTES["fabric"])
    cushion = jitter(b.rng, fabric[:3], 0.1)
    rim = min(h / 2, 0.12, min(w, d) / 5)  # the bolster's radius
    b.box((0, 0, 0.04), (w / 2 - rim, d / 2 - rim, 0.04), cushion, texture="fabric")
    b.capsule((0, -d / 2 + rim, rim), rim, w / 2 - rim, fabric, axis=(1, 0, 0), texture="fabric")
    for sx in (-1, 1):
        b.capsule((sx * (w / 2 - rim), 0, rim), rim, d / 2 - rim, fabric, axis=(0, 1, 0), texture="fabric")
    b.capsule((0, d / 2 - rim * 0.6, rim * 0.6), rim * 0.6, w / 2 - rim, fabric, axis=(1, 0, 0), texture="fabric")
    b.surface((0, 0.0, 0.08), (w / 2 - 2 * rim, d / 2 - 2 * rim))


@register("Desktop")
def desktop(b: ShapeBuilder, size):
    """A desktop computer: monitor on a stand, keyboard in front, tower beside."""
    s = scale_from(b.rng, size, 0.1)
    shell = pick(b.rng, PALETTES["black"] + [(0.85, 0.85, 0.85), (0.6, 0.6, 0.62)])
    mw, mh = 0.55 * s, 0.33 * s
    z0 = 0.12 * s
    b.box((0, -0.1 * s, z0 + mh / 2), (mw / 2, 0.015, mh / 2), shell, texture="glossy")
    b.box((0, -0.084 * s, z0 + mh / 2), (mw / 2 - 0.012, 0.0008, mh / 2 - 0.012), (0.03, 0.03, 0.04), role="screen")
    b.box((0, -0.13 * s, z0 / 2), (0.025, 0.015, z0 / 2), shell)
    b.box((0, -0.13 * s, 0.006), (0.1 * s, 0.07 * s, 0.006), shell)
    b.box((0, 0.1 * s, 0.012), (0.21 * s, 0.065 * s, 0.012), shell, texture="tiles")  # keyboard
    b.box((mw / 2 + 0.05 * s, -0.05 * s, 0.2 * s), (0.045 * s, 0.2 * s, 0.2 * s), shell, texture="glossy")  # tower
    b.sphere((mw / 2 + 0.05 * s, 0.151 * s, 0.35 * s), 0.006, (0.1, 0.3, 0.1), role="glow")
    b.cracks((0, -0.083 * s, z0 + mh / 2), (1, 0, 0), (0, 0, 1), mh * 0.4, branches=4)


@register("RoomDecor")
def room_decor(b: ShapeBuilder, size):
    """Floor-standing decor: a tall floor vase with branches, or a sculptural column."""
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["ceramic"] + PALETTES["stone"])
    h = 0.6 * s * b.rng.uniform(0.8, 1.3)
    if b.rng.random() < 0.5:
        b.ellipsoid((0, 0, h * 0.5), (0.12 * s, 0.12 * s, h * 0.5), color, texture="glossy")
        twig = pick(b.rng, PALETTES["wood_dark"])
        for k in range(5):
            a = 2 * math.pi * k / 5
            b.rod((0, 0, h * 0.9), (0.15 * s * math.cos(a), 0.15 * s * math.sin(a), h * 1.6), 0.004, twig)
    else:
        b.box((0, 0, 0.03), (0.15 * s, 0.15 * s, 0.03), color, texture="marble")
        b.cylinder((0, 0, h / 2 + 0.03), 0.06 * s, h / 2, color, texture="marble")
        b.sphere((0, 0, h + 0.03 + 0.09 * s), 0.09 * s, jitter(b.rng, color[:3], 0.2), texture="metal")


@register("TableTopDecor")
def table_top_decor(b: ShapeBuilder, size):
    """Small ornaments: a decorative bowl of spheres, a stack of stones or a lantern."""
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["ceramic"] + PALETTES["metal"] + PALETTES["wood_light"])
    style = choose(b.rng, ["orbs", "stones", "lantern"])
    if style == "orbs":
        b.disc(0, 0.09 * s, 0.02, color, texture="glossy")
        for k in range(4):
            a = 2 * math.pi * k / 4
            b.sphere((0.045 * s * math.cos(a), 0.045 * s * math.sin(a), 0.02 + 0.03 * s), 0.03 * s,
                     pick(b.rng, PALETTES["ceramic"]), texture="glossy")
    elif style == "stones":
        z = 0.0
        for k in range(4):
            rz = (0.018 - 0.003 * k) * s
            b.ellipsoid((0.004 * k, 0, z + rz), ((0.06 - 0.01 * k) * s, (0.045 - 0.008 * k) * s, rz),
                        pick(b.rng, PALETTES["stone"]), texture="marble")
            z += 2 * rz
    else:
        frame = pick(b.rng, PALETTES["black"] + PALETTES["metal"] + PALETTES["wood_dark"])
        side = 0.07 * s
        b.box((0, 0, 0.01), (side, side, 0.01), frame)
        b.box((0, 0, 0.02 + 0.09 * s), (side * 0.9, side * 0.9, 0.09 * s), (0.85, 0.9, 0.92), texture="glass")
        for sx in (-1, 1):
            for sy in (-1, 1):
                b.box((sx * side * 0.93, sy * side * 0.93, 0.02 + 0.09 * s), (0.005, 0.005, 0.09 * s), frame)
        b.box((0, 0, 0.03 + 0.18 * s), (side, side, 0.01), frame)
        b.disc(0.02, 0.02 * s, 0.06 * s, (0.97, 0.95, 0.88), role="glow")


@register("TargetCircle")
def target_circle(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.05)
    for k, radius in enumerate((0.15, 0.11, 0.07, 0.03)):
        b.disc(0.001 * k, radius * s, 0.002, (0.9, 0.1, 0.1) if k % 2 == 0 else (0.97, 0.97, 0.97))


@register("Blinds")
def blinds(b: ShapeBuilder, size):
    """Horizontal slat blinds for a window (wall mounted, front +y); opening slides the slat pack up."""
    w, d, h = dims_from(b.rng, size, (0.6, 1.6), (0.04, 0.06), (0.8, 1.5))
    color = pick(b.rng, [(0.95, 0.95, 0.93), (0.85, 0.8, 0.7), (0.6, 0.45, 0.3), (0.3, 0.3, 0.32)])
    tex = "wood" if color[2] < 0.5 else "plain"
    b.box_span((-w / 2, -d / 2, h - 0.05), (w / 2, d / 2, h), color, texture=tex)  # head rail
    link = "slats"
    n = max(8, int(h / 0.05))
    pitch = (h - 0.06) / n
    for k in range(n):
        z = 0.01 + k * pitch
        b.box((0, 0, z + 0.006), (w / 2 - 0.01, d / 2 - 0.005, 0.0015), jitter(b.rng, color[:3], 0.02), texture=tex,
              link=link, quat=quat_axis_angle((1, 0, 0), 0.3))
    b.box((0, 0, 0.006), (w / 2 - 0.005, d / 2, 0.006), color, texture=tex, link=link)  # bottom rail
    b.link(link, "slide", (0, 0, 1), (0, 0, h / 2), (h - 0.06) * 0.85)


def _curtain_panels(b: ShapeBuilder, w: float, h: float, color, tex, link_prefix: str, rod_z: float,
                    folds: int) -> None:
    """Two curtain panels hanging from a rod: a thin sheet with vertical capsule folds on it; each half slides
    outwards on its own link when opened."""
    half_w = w / 2
    fold_r = half_w / folds / 2
    for side, name in ((-1, f"{link_prefix}_left"), (1, f"{link_prefix}_right")):
        b.box((side * half_w / 2, 0, rod_z / 2 + 0.01), (half_w / 2, 0.004, rod_z / 2 - 0.01), color, texture=tex,
              link=name)
        for k in range(folds):
            x = side * half_w * (k + 0.5) / folds
            b.capsule((x, 0.006 * (1 if k % 2 else -1), rod_z / 2 + 0.01), fold_r, rod_z / 2 - 0.01 - fold_r,
                      jitter(b.rng, color[:3], 0.03), texture=tex, link=name)
        b.link(name, "slide", (side, 0, 0), (side * half_w / 2, 0, rod_z / 2), half_w * 0.6)


@register("Curtains")
def curtains(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (1.0, 2.2), (0.08, 0.12), (1.6, 2.4))
    color = pick(b.rng, PALETTES["fabric"] + PALETTES["linen"])
    rod = pick(b.rng, PALETTES["metal"] + PALETTES["black"] + PALETTES["wood_dark"])
    b.rod((-w / 2 - 0.05, 0, h - 0.01), (w / 2 + 0.05, 0, h - 0.01), 0.012, rod, texture="metal")
    _curtain_panels(b, w, h, color, choose(b.rng, ["fabric", "stripes", "plain"]), "curtain", h - 0.02,
                    int(b.rng.integers(4, 7)))


@register("ShowerCurtain")
def shower_curtain(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (1.4, 1.8), (0.05, 0.08), (1.8, 2.0))
    color = pick(b.rng, PALETTES["linen"] + PALETTES["plastic"][:3])
    b.rod((-w / 2, 0, h - 0.01), (w / 2, 0, h - 0.01), 0.01, pick(b.rng, PALETTES["metal"]), texture="metal")
    # One panel that slides to one end when opened: a sheet with capsule folds.
    link = "curtain"
    folds = 10
    fold_r = w / folds / 2
    tex = choose(b.rng, ["plain", "stripes", "checker"])
    bottom = 0.15
    b.box((0, 0, (h + bottom) / 2), (w / 2, 0.004, (h - bottom) / 2 - 0.01), color, texture=tex, link=link)
    for k in range(folds):
        x = -w / 2 + w * (k + 0.5) / folds
        b.capsule((x, 0.006 * (1 if k % 2 else -1), (h + bottom) / 2), fold_r, (h - bottom) / 2 - 0.01 - fold_r,
                  jitter(b.rng, color[:3], 0.03), texture=tex, link=link)
    b.link(link, "slide", (1, 0, 0), (0, 0, h / 2), w * 0.6)


@register("ShowerDoor")
def shower_door(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.7, 1.0), (0.03, 0.05), (1.8, 2.0))
    frame = pick(b.rng, PALETTES["metal"] + PALETTES["black"])
    glass = jitter(b.rng, (0.8, 0.88, 0.9), 0.03)
    link = "door"
    f = 0.025
    for lo, hi in [((-w / 2, -d / 2, 0), (w / 2, d / 2, f)), ((-w / 2, -d / 2, h - f), (w / 2, d / 2, h)),
                   ((-w / 2, -d / 2, 0), (-w / 2 + f, d / 2, h)), ((w / 2 - f, -d / 2, 0), (w / 2, d / 2, h))]:
        b.box_span(lo, hi, frame, texture="metal", link=link)
    b.box_span((-w / 2 + f, -0.004, f), (w / 2 - f, 0.004, h - f), glass, texture="glass", link=link)
    handle(b, "bar", (w / 2 - 0.08, d / 2, h * 0.5), 0.3, frame, link=link)
    b.cracks((0, 0.006, h / 2), (1, 0, 0), (0, 0, 1), w * 0.3, branches=5, link=link)
    b.link(link, "hinge", (0, 0, 1), (-w / 2, 0, 0), OPEN_DOOR * 0.8)


@register("ShowerGlass")
def shower_glass(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.6, 1.2), (0.02, 0.04), (1.8, 2.0))
    glass = jitter(b.rng, (0.8, 0.88, 0.9), 0.03)
    b.box_span((-w / 2, -0.005, 0), (w / 2, 0.005, h), glass, texture="glass")
    metal = pick(b.rng, PALETTES["metal"] + PALETTES["black"])
    b.box_span((-w / 2, -d / 2, 0), (w / 2, d / 2, 0.02), metal, texture="metal")
    b.box_span((-w / 2, -d / 2, 0), (-w / 2 + 0.02, d / 2, h), metal, texture="metal")
    b.cracks((0, 0.007, h / 2), (1, 0, 0), (0, 0, 1), w * 0.3, branches=5)


@register("ShowerHead")
def shower_head(b: ShapeBuilder, size):
    """Wall-mounted (back on -y): an arm reaching out and a head facing down; "stream" water when on."""
    s = scale_from(b.rng, size)
    metal = pick(b.rng, PALETTES["metal"] + PALETTES["black"])
    reach = 0.25 * s
    drop = 0.5 * s  # the water column's length below the head
    b.cylinder((0, -reach / 2, drop + 0.05), 0.03, 0.006, metal, axis=(0, 1, 0), texture="metal")
    b.rod((0, -reach / 2, drop + 0.05), (0, reach / 2 - 0.05, drop + 0.12), 0.01, metal, texture="metal")
    r = choose(b.rng, [0.05, 0.07, 0.1]) * s
    b.add("cylinder", (r, 0.01), (0, reach / 2 - 0.05, drop + 0.1), metal, texture="metal",
          quat=quat_axis_angle((1, 0, 0), 0.35))
    b.disc(0, r * 0.8, drop + 0.08, (0.6, 0.75, 0.95, 0.6), xy=(0.0, reach / 2 - 0.05), role="stream")
