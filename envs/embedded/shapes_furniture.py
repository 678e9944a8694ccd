"""Living room, bedroom and bathroom furniture and fixtures (tables, seating, beds, storage, bath, wall items).
Sizes are common retail dimensions (dining tables ~0.75 m high, sofas ~0.85 m deep, beds 0.9-1.8 m wide)."""

from __future__ import annotations

import math

from .shapes import PALETTES, ShapeBuilder, choose, dims_from, jitter, pick, quat_axis_angle, register, scale_from
from .shapes_kitchen import cabinet_palette, carcass, handle
from .shapes_tableware import flared_wall


def wood_or_paint(b: ShapeBuilder):
    return cabinet_palette(b.rng)


def table(b: ShapeBuilder, w: float, d: float, h: float, *, round_top: bool, top_t: float, legs: str, color, tex,
          leg_color=None) -> None:
    """A table top (rectangular or round) on four legs, a pedestal or two panel sides."""
    leg_color = color if leg_color is None else leg_color
    if round_top:
        b.add("cylinder", (w / 2, top_t / 2), (0, 0, h - top_t / 2), color, texture=tex)
    else:
        b.box_span((-w / 2, -d / 2, h - top_t), (w / 2, d / 2, h), color, texture=tex)
    leg_h = h - top_t
    if legs == "pedestal" or (round_top and legs == "four" and w < 0.7):
        b.cylinder((0, 0, leg_h / 2), 0.04, leg_h / 2, leg_color, texture=tex)
        b.disc(0, min(w, d) * 0.3, 0.03, leg_color, texture=tex)
        return
    if legs == "panels":
        b.box_span((-w / 2, -d / 2 + 0.02, 0), (-w / 2 + 0.025, d / 2 - 0.02, leg_h), leg_color, texture=tex)
        b.box_span((w / 2 - 0.025, -d / 2 + 0.02, 0), (w / 2, d / 2 - 0.02, leg_h), leg_color, texture=tex)
        b.box_span((-w / 2 + 0.025, -d / 2 + 0.02, leg_h * 0.45), (w / 2 - 0.025, -d / 2 + 0.035, leg_h - 0.02),
                   leg_color, texture=tex)  # modesty panel at the back
        return
    inset = 0.06 if not round_top else w / 2 * 0.55
    lx = w / 2 - inset if not round_top else inset
    ly = d / 2 - inset if not round_top else inset
    r = 0.022 if legs == "four" else 0.015
    for sx in (-1, 1):
        for sy in (-1, 1):
            if legs == "splayed":
                b.rod((sx * lx * 0.9, sy * ly * 0.9, leg_h), (sx * (lx + 0.03), sy * (ly + 0.03), r), r, leg_color,
                      geom="cylinder", texture=tex)
            else:
                b.box((sx * lx, sy * ly, leg_h / 2), (r, r, leg_h / 2), leg_color, texture=tex)
    if not round_top and legs == "four":  # apron under the top
        b.box_span((-lx, -ly, leg_h - 0.08), (lx, -ly + 0.015, leg_h), leg_color, texture=tex)
        b.box_span((-lx, ly - 0.015, leg_h - 0.08), (lx, ly, leg_h), leg_color, texture=tex)


def _table_type(b: ShapeBuilder, size, dims, legs_options, round_p: float, surface_inset: float = 0.04):
    w, d, h = dims_from(b.rng, size, *dims)
    round_top = b.rng.random() < round_p
    if round_top:  # a round top fits inside the footprint the layout asked for
        w = d = min(w, d)
    color, tex = wood_or_paint(b)
    leg_color = color if b.rng.random() < 0.6 else pick(b.rng, PALETTES["black"] + PALETTES["metal"])
    table(b, w, d, h, round_top=round_top, top_t=b.rng.uniform(0.025, 0.045), legs=choose(b.rng, legs_options),
          color=color, tex=tex, leg_color=leg_color)
    half = (w / 2 * (0.7 if round_top else 1) - surface_inset, d / 2 * (0.7 if round_top else 1) - surface_inset)
    b.surface((0, 0, h), half)
    return w, d, h, color, tex


@register("DiningTable")
def dining_table(b: ShapeBuilder, size):
    _table_type(b, size, ((1.0, 1.8), (0.8, 1.0), (0.72, 0.78)), ["four", "four", "splayed", "pedestal"], 0.25)


@register("CoffeeTable")
def coffee_table(b: ShapeBuilder, size):
    w, d, h, color, tex = _table_type(b, size, ((0.8, 1.3), (0.45, 0.7), (0.38, 0.48)), ["four", "splayed"], 0.2)
    if b.rng.random() < 0.5:  # lower shelf
        b.box_span((-w / 2 + 0.08, -d / 2 + 0.08, 0.08), (w / 2 - 0.08, d / 2 - 0.08, 0.1), color, texture=tex)


@register("SideTable")
def side_table(b: ShapeBuilder, size):
    w, d, h, color, tex = _table_type(b, size, ((0.4, 0.6), (0.35, 0.5), (0.5, 0.7)), ["four", "splayed"], 0.3)
    if b.rng.random() < 0.5 and not b.parts[0].geom == "cylinder":  # a drawer box under a square top
        b.box_span((-min(w, d) / 2 * 0.6, -min(w, d) / 2 * 0.6, h - 0.16), (min(w, d) / 2 * 0.6, min(w, d) / 2 * 0.6,
                   h - 0.03), color, texture=tex)
        handle(b, "knob", (0, min(w, d) / 2 * 0.6, h - 0.095), 0.05, pick(b.rng, PALETTES["metal"]))


@register("Desk")
def desk(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (1.0, 1.6), (0.55, 0.75), (0.72, 0.77))
    color, tex = wood_or_paint(b)
    style = choose(b.rng, ["panels", "four", "pedestal_drawers"])
    table(b, w, d, h, round_top=False, top_t=0.03, legs="panels" if style != "four" else "four", color=color,
          tex=tex)
    if style == "pedestal_drawers":  # a drawer stack under one side
        x0 = w / 2 - 0.45
        b.box_span((x0, -d / 2 + 0.03, 0), (w / 2 - 0.025, d / 2 - 0.03, h - 0.03), color, texture=tex)
        for k in range(3):
            z0 = 0.03 + k * (h - 0.06) / 3
            b.box_span((x0 + 0.01, d / 2 - 0.03, z0 + 0.01), (w / 2 - 0.035, d / 2 - 0.012, z0 + (h - 0.06) / 3 - 0.01),
                       jitter(b.rng, color[:3], 0.04), texture=tex)
            handle(b, "bar", ((x0 + w / 2) / 2, d / 2 - 0.012, z0 + (h - 0.06) / 6), 0.12,
                   pick(b.rng, PALETTES["metal"]), vertical=False)
    b.surface((0, 0, h), (w / 2 - 0.04, d / 2 - 0.04))


@register("Dresser")
def dresser(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.8, 1.5), (0.42, 0.55), (0.75, 1.2))
    color, tex = wood_or_paint(b)
    plinth = 0.07
    b.box_span((-w / 2, -d / 2, plinth), (w / 2, d / 2 - 0.02, h - 0.03), color, texture=tex)
    b.box_span((-w / 2 - 0.01, -d / 2, h - 0.03), (w / 2 + 0.01, d / 2 + 0.005, h), color, texture=tex)
    b.box_span((-w / 2 + 0.03, -d / 2 + 0.03, 0), (w / 2 - 0.03, d / 2 - 0.05, plinth), jitter(b.rng, color[:3], 0.1),
               texture=tex)
    rows = int(b.rng.integers(3, 6))
    cols = 2 if w > 1.0 and b.rng.random() < 0.6 else 1
    front = jitter(b.rng, color[:3], 0.05)
    handle_style = choose(b.rng, ["bar", "knob"])
    handle_color = pick(b.rng, PALETTES["metal"] + PALETTES["black"] + PALETTES["wood_dark"])
    row_h = (h - 0.03 - plinth) / rows
    col_w = w / cols
    for r in range(rows):
        for c in range(cols):
            x0 = -w / 2 + c * col_w + 0.012
            z0 = plinth + r * row_h + 0.008
            b.box_span((x0, d / 2 - 0.02, z0), (x0 + col_w - 0.024, d / 2, z0 + row_h - 0.016), front, texture=tex)
            handle(b, handle_style, (x0 + col_w / 2 - 0.012, d / 2, z0 + row_h / 2 - 0.008), min(0.16, col_w * 0.3),
                   handle_color, vertical=False)
    b.surface((0, 0, h), (w / 2 - 0.03, d / 2 - 0.03))


@register("Shelf")
def shelf(b: ShapeBuilder, size):
    """One horizontal wall board, with brackets under it; ``size['height']`` is the board's thickness."""
    w, d, h = dims_from(b.rng, size, (0.5, 1.2), (0.2, 0.35), (0.02, 0.04))
    color, tex = wood_or_paint(b)
    bracket_h = 0.0 if b.rng.random() < 0.4 else min(0.12, d * 0.6)
    b.box_span((-w / 2, -d / 2, bracket_h), (w / 2, d / 2, bracket_h + h), color, texture=tex)
    if bracket_h:
        bracket_color = pick(b.rng, PALETTES["black"] + PALETTES["metal"])
        for sx in (-1, 1):
            x = sx * (w / 2 - 0.08)
            b.box_span((x - 0.008, -d / 2, 0), (x + 0.008, -d / 2 + 0.012, bracket_h), bracket_color)
            b.box_span((x - 0.008, -d / 2, bracket_h - 0.012), (x + 0.008, d / 2 - 0.03, bracket_h), bracket_color)
    b.surface((0, 0, bracket_h + h), (w / 2 - 0.02, d / 2 - 0.02))


@register("TVStand")
def tv_stand(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (1.0, 1.8), (0.38, 0.5), (0.4, 0.6))
    color, tex = wood_or_paint(b)
    t = 0.025
    legs_h = 0.08 if b.rng.random() < 0.5 else 0.0
    carcass(b, w, d, h, t, color, tex, bottom=legs_h)
    if legs_h:
        leg_color = pick(b.rng, PALETTES["black"] + PALETTES["metal"])
        for sx in (-1, 1):
            for sy in (-1, 1):
                b.box((sx * (w / 2 - 0.04), sy * (d / 2 - 0.04), legs_h / 2), (0.015, 0.015, legs_h / 2), leg_color)
    mid = (legs_h + h) / 2
    b.box_span((-w / 2 + t, -d / 2 + t, mid - t / 2), (w / 2 - t, d / 2 - 0.01, mid + t / 2), color, texture=tex)
    if b.rng.random() < 0.6:  # two doors on the sides, open space in the middle
        door_w = w * 0.3
        for side, x0 in ((True, -w / 2), (False, w / 2 - door_w)):
            b.box_span((x0, d / 2 - 0.001, legs_h + 0.005), (x0 + door_w, d / 2 + 0.018, h - 0.005),
                       jitter(b.rng, color[:3], 0.05), texture=tex)
            handle(b, "knob", (x0 + (door_w - 0.05 if side else 0.05), d / 2 + 0.018, mid), 0.05,
                   pick(b.rng, PALETTES["metal"]))
    b.surface((0, 0, h), (w / 2 - 0.03, d / 2 - 0.03))
    b.surface((0, 0, mid + t / 2), (w * 0.18, d / 2 - t - 0.02), clearance=h - t - mid - t / 2)


def _seat(b: ShapeBuilder, w: float, d: float, seat_h: float, back_h: float, arm_h: float, color, tex, legs_color,
          cushions: int, arm_w: float) -> None:
    """Sofa/armchair body: base, seat cushions, back, two arms, short legs."""
    leg = 0.08
    base_top = seat_h - 0.12
    b.box_span((-w / 2, -d / 2, leg), (w / 2, d / 2, base_top), color, texture=tex)
    back_d = 0.18
    b.box_span((-w / 2, -d / 2, base_top), (w / 2, -d / 2 + back_d, back_h), color, texture=tex)
    for sx in (-1, 1):
        x0, x1 = (w / 2 - arm_w, w / 2) if sx > 0 else (-w / 2, -w / 2 + arm_w)
        b.box_span((x0, -d / 2, base_top), (x1, d / 2, arm_h), color, texture=tex)
        b.capsule(((x0 + x1) / 2, 0, arm_h), arm_w / 2, d / 2 - arm_w / 2, color, axis=(0, 1, 0), texture=tex)
    inner_w = w - 2 * arm_w
    cushion_color = jitter(b.rng, color[:3], 0.04)
    for k in range(cushions):
        x0 = -inner_w / 2 + k * inner_w / cushions
        b.box_span((x0 + 0.005, -d / 2 + back_d, base_top), (x0 + inner_w / cushions - 0.005, d / 2 - 0.01, seat_h),
                   cushion_color, texture=tex)
        b.box_span((x0 + 0.01, -d / 2 + back_d, seat_h), (x0 + inner_w / cushions - 0.01, -d / 2 + back_d + 0.12,
                   back_h - 0.05), cushion_color, texture=tex, quat=quat_axis_angle((1, 0, 0), -0.08))
    for sx in (-1, 1):
        for sy in (-1, 1):
            b.cylinder((sx * (w / 2 - 0.06), sy * (d / 2 - 0.06), leg / 2), 0.02, leg / 2, legs_color)


def _fabric(b: ShapeBuilder):
    return pick(b.rng, PALETTES["fabric"]), choose(b.rng, ["fabric", "noise", "plain"])


@register("Sofa")
def sofa(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (1.6, 2.3), (0.8, 0.95), (0.75, 0.9))
    color, tex = _fabric(b)
    arm_w = b.rng.uniform(0.12, 0.22)
    cushions = int(b.rng.integers(2, 4))
    seat_h = b.rng.uniform(0.4, 0.46)
    _seat(b, w, d, seat_h, h, seat_h + b.rng.uniform(0.12, 0.2), color, tex,
          pick(b.rng, PALETTES["wood_dark"] + PALETTES["black"]), cushions, arm_w)
    b.surface((0, 0.09, seat_h), (w / 2 - arm_w - 0.05, d / 2 - 0.09 - 0.05))


@register("ArmChair")
def arm_chair(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.7, 0.95), (0.75, 0.9), (0.8, 1.0))
    color, tex = _fabric(b)
    arm_w = b.rng.uniform(0.1, 0.18)
    seat_h = b.rng.uniform(0.4, 0.46)
    _seat(b, w, d, seat_h, h, seat_h + b.rng.uniform(0.15, 0.22), color, tex,
          pick(b.rng, PALETTES["wood_dark"] + PALETTES["black"]), 1, arm_w)
    b.surface((0, 0.09, seat_h), (w / 2 - arm_w - 0.05, d / 2 - 0.09 - 0.05))


@register("Ottoman")
def ottoman(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.45, 0.8), (0.45, 0.6), (0.38, 0.46))
    color, tex = _fabric(b)
    if b.rng.random() < 0.4:
        w = d = min(w, d)
        b.add("cylinder", (w / 2, (h - 0.05) / 2), (0, 0, 0.05 + (h - 0.05) / 2), color, texture=tex)
    else:
        b.box_span((-w / 2, -d / 2, 0.05), (w / 2, d / 2, h - 0.03), color, texture=tex)
        b.box_span((-w / 2 + 0.02, -d / 2 + 0.02, h - 0.03), (w / 2 - 0.02, d / 2 - 0.02, h),
                   jitter(b.rng, color[:3], 0.03), texture=tex)
    for sx in (-1, 1):
        for sy in (-1, 1):
            b.cylinder((sx * w * 0.3, sy * d * 0.3, 0.025), 0.018, 0.025, pick(b.rng, PALETTES["wood_dark"]))
    b.surface((0, 0, h), (w / 2 * 0.7, d / 2 * 0.7))


@register("Chair")
def chair(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.4, 0.52), (0.45, 0.55), (0.8, 1.0))
    color, tex = wood_or_paint(b)
    seat_h = b.rng.uniform(0.43, 0.48)
    seat_t = 0.035
    frame = color if b.rng.random() < 0.6 else pick(b.rng, PALETTES["black"] + PALETTES["metal"])
    seat_color = color if b.rng.random() < 0.6 else pick(b.rng, PALETTES["fabric"])
    b.box_span((-w / 2, -d / 2, seat_h - seat_t), (w / 2, d / 2, seat_h), seat_color,
               texture="fabric" if seat_color is not color else tex)
    r = 0.018
    for sx in (-1, 1):
        for sy in (-1, 1):
            top = h if sy < 0 else seat_h - seat_t
            b.box((sx * (w / 2 - r), sy * (d / 2 - r), top / 2), (r, r, top / 2), frame, texture=tex)
    style = choose(b.rng, ["slats", "panel", "ladder"])
    if style == "panel":
        b.box_span((-w / 2 + 2 * r, -d / 2, seat_h + 0.12), (w / 2 - 2 * r, -d / 2 + 0.02, h - 0.02), frame,
                   texture=tex)
    elif style == "slats":
        b.box_span((-w / 2 + 2 * r, -d / 2, h - 0.1), (w / 2 - 2 * r, -d / 2 + 0.02, h - 0.02), frame, texture=tex)
        for k in range(3):
            x = (k - 1) * w * 0.2
            b.box_span((x - 0.012, -d / 2 + 0.002, seat_h), (x + 0.012, -d / 2 + 0.018, h - 0.1), frame, texture=tex)
    else:
        for k in range(3):
            z = seat_h + 0.1 + k * (h - seat_h - 0.12) / 3
            b.box_span((-w / 2 + 2 * r, -d / 2, z), (w / 2 - 2 * r, -d / 2 + 0.02, z + 0.05), frame, texture=tex)
    b.surface((0, 0.02, seat_h), (w / 2 - 0.04, d / 2 - 0.06))


@register("Bed")
def bed(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.9, 1.8), (1.95, 2.15), (0.9, 1.3))
    frame, tex = wood_or_paint(b)
    frame_h = b.rng.uniform(0.25, 0.35)
    mattress_t = b.rng.uniform(0.18, 0.25)
    b.box_span((-w / 2, -d / 2, 0.1), (w / 2, d / 2, frame_h), frame, texture=tex)
    for sx in (-1, 1):
        for sy in (-1, 1):
            b.box((sx * (w / 2 - 0.04), sy * (d / 2 - 0.04), 0.05), (0.035, 0.035, 0.05), frame, texture=tex)
    # Headboard at the back (-y); the foot end faces +y.
    if b.rng.random() < 0.5:
        b.box_span((-w / 2, -d / 2, 0.1), (w / 2, -d / 2 + 0.06, h), frame, texture=tex)
    else:
        b.box_span((-w / 2, -d / 2, 0.1), (w / 2, -d / 2 + 0.06, h - 0.12), frame, texture=tex)
        b.capsule((0, -d / 2 + 0.03, h - 0.12), 0.03, w / 2 - 0.03, frame, axis=(1, 0, 0), texture=tex)
    mattress = jitter(b.rng, (0.95, 0.95, 0.93), 0.03)
    m_top = frame_h + mattress_t
    b.box_span((-w / 2 + 0.03, -d / 2 + 0.06, frame_h), (w / 2 - 0.03, d / 2 - 0.03, m_top), mattress, texture="fabric")
    blanket = pick(b.rng, PALETTES["fabric"] + PALETTES["linen"])
    blanket_tex = choose(b.rng, ["fabric", "stripes", "checker", "plain"])
    fold = b.rng.uniform(0.25, 0.45) * d
    b.box_span((-w / 2 + 0.01, -d / 2 + fold, frame_h + 0.05), (w / 2 - 0.01, d / 2 - 0.01, m_top + 0.03), blanket,
               texture=blanket_tex)
    b.box_span((-w / 2 + 0.02, -d / 2 + fold - 0.1, m_top), (w / 2 - 0.02, -d / 2 + fold, m_top + 0.045),
               jitter(b.rng, blanket[:3], 0.08), texture=blanket_tex)
    b.smudges((0, d / 2 - (d - fold) / 2, m_top + 0.031), (1, 0, 0), (0, 1, 0), min(w, d - fold) * 0.4, count=4)
    pillow = pick(b.rng, PALETTES["linen"])
    n = 2 if w > 1.2 else 1
    for k in range(n):
        x = (k - (n - 1) / 2) * w / n
        b.ellipsoid((x, -d / 2 + 0.25, m_top + 0.06), (w / n / 2 - 0.06, 0.17, 0.06), pillow, texture="fabric")
    b.surface((0, 0.1, m_top + 0.03), (w / 2 - 0.1, d / 2 - 0.4))


def _tub(b: ShapeBuilder, w: float, d: float, h: float, color, tex, apron: bool) -> float:
    t = 0.06
    floor = 0.06
    b.box_span((-w / 2, -d / 2, 0), (w / 2, d / 2, floor), color, texture=tex)
    for lo, hi in [((-w / 2, -d / 2, 0), (w / 2, -d / 2 + t, h)), ((-w / 2, d / 2 - t, 0), (w / 2, d / 2, h)),
                   ((-w / 2, -d / 2, 0), (-w / 2 + t * 1.5, d / 2, h)), ((w / 2 - t, -d / 2, 0), (w / 2, d / 2, h))]:
        b.box_span(lo, hi, color, texture=tex)
    inner = jitter(b.rng, color[:3], 0.03)
    # Sloped back rest at the -x end.
    b.box((-w / 2 + t * 1.5 + 0.08, 0, floor + h * 0.35), (0.015, d / 2 - t, h * 0.4), inner,
          quat=quat_axis_angle((0, 1, 0), 0.45))
    b.disc(floor, 0.03, 0.003, jitter(b.rng, (0.7, 0.7, 0.72), 0.03), xy=(w / 2 - t - 0.1, 0.0), texture="metal")
    b.box((0, 0, floor + h * 0.45), (w / 2 - t * 1.25 - 0.01, d / 2 - t - 0.001, 0.002), (0.55, 0.7, 0.9, 0.6),
          role="liquid")
    if apron:
        b.box_span((-w / 2, d / 2 - 0.005, 0), (w / 2, d / 2 + 0.02, h), jitter(b.rng, color[:3], 0.05), texture=tex)
    return floor


@register("Bathtub")
def bathtub(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (1.5, 1.8), (0.7, 0.85), (0.5, 0.62))
    color = pick(b.rng, [(0.97, 0.97, 0.96), (0.92, 0.92, 0.9), (0.85, 0.9, 0.92)])
    floor = _tub(b, w, d, h, color, choose(b.rng, ["glossy", "plain"]), apron=b.rng.random() < 0.6)
    b.surface((0.1, 0, floor), (w / 2 - 0.3, d / 2 - 0.12), clearance=math.inf)


@register("BathtubBasin")
def bathtub_basin(b: ShapeBuilder, size):
    """The inside of a tub (AI2-THOR's separate receptacle): a shallow shell without the outer apron."""
    w, d, h = dims_from(b.rng, size, (1.3, 1.6), (0.55, 0.7), (0.38, 0.5))
    color = pick(b.rng, [(0.97, 0.97, 0.96), (0.92, 0.92, 0.9)])
    floor = _tub(b, w, d, h, color, "glossy", apron=False)
    b.surface((0.1, 0, floor), (w / 2 - 0.3, d / 2 - 0.1))


@register("Toilet")
def toilet(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.08)
    color = pick(b.rng, [(0.97, 0.97, 0.96), (0.93, 0.93, 0.91), (0.9, 0.9, 0.93)])
    tex = "glossy"
    bowl_r = 0.19 * s
    seat_h = 0.4 * s
    # Tank at the back (-y), bowl in front (+y), pedestal under the bowl.
    tank_w, tank_d, tank_h = 0.42 * s, 0.18 * s, b.rng.uniform(0.3, 0.4) * s
    b.box_span((-tank_w / 2, -0.35 * s, seat_h), (tank_w / 2, -0.35 * s + tank_d, seat_h + tank_h), color, texture=tex)
    b.box_span((-tank_w / 2 - 0.01, -0.35 * s - 0.005, seat_h + tank_h), (tank_w / 2 + 0.01, -0.35 * s + tank_d + 0.01,
               seat_h + tank_h + 0.025), color, texture=tex)
    b.box((tank_w / 2 - 0.05, -0.35 * s + tank_d + 0.01, seat_h + tank_h - 0.05), (0.025, 0.01, 0.008),
          pick(b.rng, PALETTES["metal"]), texture="metal")  # flush lever
    bowl_y = 0.05 * s
    b.ellipsoid((0, bowl_y, seat_h * 0.5), (bowl_r * 0.6, bowl_r * 0.8, seat_h * 0.5), color, texture=tex)
    b.ellipsoid((0, bowl_y, seat_h - 0.08), (bowl_r, bowl_r * 1.25, 0.08), color, texture=tex)
    b.box_span((-0.08 * s, -0.35 * s + tank_d - 0.02, 0), (0.08 * s, bowl_y, seat_h - 0.02), color, texture=tex)
    seat = color if b.rng.random() < 0.6 else pick(b.rng, PALETTES["black"] + PALETTES["wood_light"])
    b.ellipsoid((0, bowl_y, seat_h + 0.008), (bowl_r * 0.98, bowl_r * 1.22, 0.012), seat, texture=tex)
    b.ellipsoid((0, bowl_y + 0.01, seat_h + 0.016), (bowl_r * 0.65, bowl_r * 0.85, 0.002), (0.6, 0.75, 0.85))  # water
    lid = "lid"
    lid_y0 = -0.35 * s + tank_d + 0.005
    b.box_span((-bowl_r * 0.95, lid_y0, seat_h + 0.02), (bowl_r * 0.95, bowl_y + bowl_r * 1.2, seat_h + 0.04), seat,
               texture=tex, link=lid)
    b.link(lid, "hinge", (1, 0, 0), (0, lid_y0, seat_h + 0.03), 1.45)
    b.surface((0, bowl_y, seat_h + 0.04), (bowl_r * 0.6, bowl_r * 0.8))
    b.surface((0, -0.35 * s + tank_d / 2, seat_h + tank_h + 0.025), (tank_w / 2 - 0.03, tank_d / 2 - 0.02))


@register("GarbageCan")
def garbage_can(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.25, 0.4), (0.25, 0.35), (0.3, 0.6))
    color = pick(b.rng, PALETTES["plastic"] + PALETTES["metal"] + PALETTES["black"])
    tex = "metal" if b.rng.random() < 0.4 else "plain"
    t = 0.008
    if b.rng.random() < 0.5:
        r = min(w, d) / 2
        b.disc(0, r * 0.9, 0.01, color, texture=tex)
        flared_wall(b, 0, r * 0.85, r, h, t, color, segments=16, texture=tex)
        b.ring((0, 0, h - 0.01), r, 0.008, jitter(b.rng, color[:3], 0.08), segments=16)
        b.surface((0, 0, 0.01), (r * 0.55, r * 0.55), clearance=h - 0.01)
    else:
        b.box_span((-w / 2, -d / 2, 0), (w / 2, d / 2, 0.01), color, texture=tex)
        for lo, hi in [((-w / 2, -d / 2, 0), (w / 2, -d / 2 + t, h)), ((-w / 2, d / 2 - t, 0), (w / 2, d / 2, h)),
                       ((-w / 2, -d / 2, 0), (-w / 2 + t, d / 2, h)), ((w / 2 - t, -d / 2, 0), (w / 2, d / 2, h))]:
            b.box_span(lo, hi, color, texture=tex)
        if b.rng.random() < 0.5:  # pedal
            b.box((0, d / 2 + 0.03, 0.02), (0.05, 0.03, 0.008), pick(b.rng, PALETTES["black"]))
        b.surface((0, 0, 0.01), (w / 2 - 0.03, d / 2 - 0.03), clearance=h - 0.01)
    b.box((0, 0, 0.012), (w * 0.2, w * 0.15, 0.002), (0.4, 0.35, 0.3), role="dirt")


@register("LaundryHamper")
def laundry_hamper(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.35, 0.55), (0.3, 0.4), (0.5, 0.7))
    color = pick(b.rng, PALETTES["fabric"] + PALETTES["wood_light"] + PALETTES["linen"])
    tex = choose(b.rng, ["fabric", "checker", "stripes", "wood"])
    t = 0.012
    b.box_span((-w / 2, -d / 2, 0), (w / 2, d / 2, 0.015), color, texture=tex)
    for lo, hi in [((-w / 2, -d / 2, 0), (w / 2, -d / 2 + t, h)), ((-w / 2, d / 2 - t, 0), (w / 2, d / 2, h)),
                   ((-w / 2, -d / 2, 0), (-w / 2 + t, d / 2, h)), ((w / 2 - t, -d / 2, 0), (w / 2, d / 2, h))]:
        b.box_span(lo, hi, color, texture=tex)
    rim = jitter(b.rng, color[:3], 0.12)
    for sx in (-1, 1):  # rope handles on the sides
        b.capsule((sx * (w / 2 + 0.006), 0, h - 0.07), 0.008, 0.05, rim, axis=(0, 1, 0))
    b.box((0, 0, h * 0.55), (w / 2 - 0.03, d / 2 - 0.03, 0.02), pick(b.rng, PALETTES["fabric"]), texture="fabric")
    b.surface((0, 0, 0.015), (w / 2 - 0.04, d / 2 - 0.04), clearance=h - 0.02)


@register("Television")
def television(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.8, 1.4), (0.2, 0.3), (0.5, 0.9))
    frame = pick(b.rng, PALETTES["black"] + [(0.3, 0.3, 0.32), (0.85, 0.85, 0.85)])
    panel_h = min(h * 0.85, w * 9 / 16 + 0.04)
    panel_z0 = h - panel_h
    b.box_span((-w / 2, -0.03, panel_z0), (w / 2, 0.02, h), frame, texture="glossy")
    b.box_span((-w / 2 + 0.02, 0.02, panel_z0 + 0.02), (w / 2 - 0.02, 0.023, h - 0.02), (0.03, 0.03, 0.04),
               role="screen")
    if b.rng.random() < 0.5:  # central pedestal stand
        b.box_span((-0.035, -0.02, 0.015), (0.035, 0.0, panel_z0 + 0.02), frame)
        b.box_span((-w * 0.18, -d / 2 + 0.02, 0), (w * 0.18, d / 2 - 0.04, 0.015), frame)
    else:  # two feet
        for sx in (-1, 1):
            x = sx * w * 0.38
            b.rod((x, -0.01, panel_z0 + 0.02), (x + sx * 0.03, d / 2 - 0.05, 0.01), 0.008, frame)
            b.rod((x, -0.01, panel_z0 + 0.02), (x + sx * 0.03, -d / 2 + 0.05, 0.01), 0.008, frame)
    b.sphere((w / 2 - 0.05, 0.021, panel_z0 + 0.01), 0.004, (0.3, 0.05, 0.05), role="glow")
    b.cracks((w * 0.1, 0.025, (panel_z0 + h) / 2), (1, 0, 0), (0, 0, 1), panel_h * 0.4, branches=5)


@register("FloorLamp")
def floor_lamp(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.3, 0.45), (0.3, 0.45), (1.4, 1.8))
    metal = pick(b.rng, PALETTES["metal"] + PALETTES["black"] + [(0.75, 0.6, 0.3)])
    base_r = min(w, d) * 0.45
    b.disc(0, base_r, 0.025, metal, texture="metal")
    shade_h = b.rng.uniform(0.25, 0.35)
    b.rod((0, 0, 0.025), (0, 0, h - shade_h * 0.6), 0.012, metal, geom="cylinder", texture="metal")
    shade = pick(b.rng, PALETTES["linen"] + PALETTES["fabric"][3:6])
    flared_wall(b, h - shade_h, base_r * 1.1, base_r * 0.75, shade_h, 0.004, shade, segments=16, texture="fabric")
    b.sphere((0, 0, h - shade_h * 0.55), 0.045, (0.35, 0.33, 0.3), role="glow")


@register("DeskLamp")
def desk_lamp(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    metal = pick(b.rng, PALETTES["metal"] + PALETTES["black"] + PALETTES["plastic"][:4])
    base_r = 0.075 * s
    b.disc(0, base_r, 0.02, metal, texture="metal")
    if b.rng.random() < 0.5:  # articulated arm with a cone shade
        elbow = (0.0, -0.05 * s, 0.25 * s)
        head = (0.0, 0.12 * s, 0.4 * s)
        b.rod((0, 0, 0.02), elbow, 0.008, metal, texture="metal")
        b.rod(elbow, head, 0.008, metal, texture="metal")
        b.add("cylinder", (0.05 * s, 0.05 * s), (0, 0.15 * s, 0.36 * s), metal, texture="metal",
              quat=quat_axis_angle((1, 0, 0), -0.5))
        b.add("cylinder", (0.042 * s, 0.003), (0.0, 0.175 * s, 0.318 * s), (0.35, 0.33, 0.3), role="glow",
              quat=quat_axis_angle((1, 0, 0), -0.5))
    else:  # straight stem with a drum shade
        b.rod((0, 0, 0.02), (0, 0, 0.3 * s), 0.01, metal, geom="cylinder", texture="metal")
        shade = pick(b.rng, PALETTES["linen"])
        flared_wall(b, 0.24 * s, 0.11 * s, 0.08 * s, 0.14 * s, 0.003, shade, segments=14, texture="fabric")
        b.sphere((0, 0, 0.28 * s), 0.03 * s, (0.35, 0.33, 0.3), role="glow")


def _wall_plate(b: ShapeBuilder, w: float, h: float, t: float, color, z0: float = 0.0, **kw) -> None:
    """A flat item on a wall: its back lies on y = -t/2, its face looks along +y."""
    b.box_span((-w / 2, -t / 2, z0), (w / 2, t / 2, z0 + h), color, **kw)


@register("LightSwitch")
def light_switch(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.1)
    plate = pick(b.rng, [(0.96, 0.96, 0.94), (0.9, 0.88, 0.82), (0.2, 0.2, 0.2), (0.75, 0.75, 0.77)])
    w, h = 0.075 * s, 0.115 * s
    _wall_plate(b, w, h, 0.008, plate, texture="glossy")
    toggles = int(b.rng.integers(1, 3))
    for k in range(toggles):
        x = (k - (toggles - 1) / 2) * w * 0.4
        if b.rng.random() < 0.5:
            b.box((x, 0.008, h / 2), (w * 0.15, 0.004, h * 0.22), jitter(b.rng, plate[:3], 0.05))  # rocker
        else:
            b.box((x, 0.008, h / 2), (0.005, 0.004, 0.012), jitter(b.rng, plate[:3], 0.05))  # toggle
    b.sphere((w * 0.35, 0.004, h * 0.85), 0.0025, (0.2, 0.2, 0.05), role="glow")


@register("Painting")
def painting(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.4, 1.2), (0.02, 0.05), (0.3, 0.9))
    frame = pick(b.rng, PALETTES["wood_dark"] + PALETTES["black"] + [(0.8, 0.65, 0.3), (0.95, 0.95, 0.93)])
    border = b.rng.uniform(0.03, 0.07)
    _wall_plate(b, w, h, d, frame, texture=choose(b.rng, ["wood_dark", "glossy"]))
    canvas = pick(b.rng, PALETTES["ceramic"] + PALETTES["fabric"])
    b.box_span((-w / 2 + border, d / 2, border), (w / 2 - border, d / 2 + 0.002, h - border), canvas,
               texture=choose(b.rng, ["noise", "stripes", "checker", "plain"]))
    for _ in range(int(b.rng.integers(2, 5))):  # abstract blobs of paint
        cx = b.rng.uniform(-w / 2 + 2 * border, w / 2 - 2 * border)
        cz = b.rng.uniform(2 * border, h - 2 * border)
        r = b.rng.uniform(0.02, 0.25) * min(w, h)
        b.ellipsoid((cx, d / 2 + 0.003, cz), (min(r, w / 2 - border - abs(cx)), 0.001, min(r, cz - border,
                    h - border - cz)), pick(b.rng, PALETTES["plastic"] + PALETTES["ceramic"]))


@register("Mirror")
def mirror(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.4, 1.0), (0.02, 0.04), (0.5, 1.0))
    frame = pick(b.rng, PALETTES["wood_dark"] + PALETTES["black"] + PALETTES["metal"])
    glass = jitter(b.rng, (0.75, 0.82, 0.86), 0.03)
    if b.rng.random() < 0.3:  # round / oval mirror
        b.add("cylinder", (w / 2, d / 2), (0, 0, w / 2), frame, quat=quat_axis_angle((1, 0, 0), -math.pi / 2))
        b.add("cylinder", (w / 2 - 0.025, 0.002), (0, d / 2, w / 2), glass, texture="glass",
              quat=quat_axis_angle((1, 0, 0), -math.pi / 2))
        glass_center, glass_extent = (0, d / 2 + 0.003, w / 2), w / 2 - 0.03
    else:
        _wall_plate(b, w, h, d, frame, texture="metal" if frame[0] > 0.5 else "plain")
        border = b.rng.uniform(0.015, 0.05)
        b.box_span((-w / 2 + border, d / 2, border), (w / 2 - border, d / 2 + 0.002, h - border), glass,
                   texture="glass")
        b.box((w * 0.15, d / 2 + 0.0025, h * 0.6), (w * 0.05, 0.0005, h * 0.3), (0.9, 0.93, 0.95, 0.5), texture="glass",
              quat=quat_axis_angle((0, 1, 0), 0.4))  # highlight streak
        glass_center, glass_extent = (0, d / 2 + 0.003, h / 2), min(w, h) / 2 - border
    b.smudges(glass_center, (1, 0, 0), (0, 0, 1), glass_extent * 0.6)
    b.cracks(glass_center, (1, 0, 0), (0, 0, 1), glass_extent * 0.8, branches=5)


@register("Window")
def window(b: ShapeBuilder, size):
    w, d, h = dims_from(b.rng, size, (0.6, 1.6), (0.08, 0.15), (0.8, 1.5))
    frame = pick(b.rng, [(0.96, 0.96, 0.95), (0.3, 0.3, 0.32), (0.55, 0.4, 0.25), (0.85, 0.85, 0.8)])
    tex = "wood" if frame[2] < 0.3 else "plain"
    f = 0.05
    for lo, hi in [((-w / 2, -d / 2, 0), (w / 2, d / 2, f)), ((-w / 2, -d / 2, h - f), (w / 2, d / 2, h)),
                   ((-w / 2, -d / 2, 0), (-w / 2 + f, d / 2, h)), ((w / 2 - f, -d / 2, 0), (w / 2, d / 2, h))]:
        b.box_span(lo, hi, frame, texture=tex)
    panes_x = int(b.rng.integers(1, 4))
    panes_z = int(b.rng.integers(1, 3))
    for k in range(1, panes_x):
        x = -w / 2 + k * w / panes_x
        b.box_span((x - 0.015, -0.02, f), (x + 0.015, 0.02, h - f), frame, texture=tex)
    for k in range(1, panes_z):
        z = k * h / panes_z
        b.box_span((-w / 2 + f, -0.02, z - 0.015), (w / 2 - f, 0.02, z + 0.015), frame, texture=tex)
    b.box_span((-w / 2 + f, -0.004, f), (w / 2 - f, 0.004, h - f), jitter(b.rng, (0.7, 0.85, 0.95), 0.03, alpha=0.35),
               texture="glass")
    b.cracks((0, 0.006, h / 2), (1, 0, 0), (0, 0, 1), min(w, h) * 0.3, branches=5)
    b.box_span((-w / 2 - 0.03, -d / 2, -0.0), (w / 2 + 0.03, d / 2 + 0.05, 0.025), frame, texture=tex)  # sill
    b.surface((0, d / 2, 0.025), (w / 2 - 0.03, 0.02))


@register("TowelHolder")
def towel_holder(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    metal = pick(b.rng, PALETTES["metal"] + PALETTES["black"] + [(0.8, 0.65, 0.3)])
    w = 0.5 * s * b.rng.uniform(0.9, 1.2)
    reach = 0.07
    for sx in (-1, 1):
        b.cylinder((sx * w / 2, -reach / 2 + 0.003, 0.02), 0.02, 0.003, metal, axis=(0, 1, 0), texture="metal")
        b.rod((sx * w / 2, -reach / 2, 0.02), (sx * w / 2, reach / 2, 0.02), 0.007, metal, geom="cylinder",
              texture="metal")
    b.rod((-w / 2, reach / 2, 0.02), (w / 2, reach / 2, 0.02), 0.008, metal, texture="metal")
    b.surface((0, reach / 2, 0.028), (w / 2 - 0.03, 0.006))


@register("HandTowelHolder")
def hand_towel_holder(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    metal = pick(b.rng, PALETTES["metal"] + PALETTES["black"])
    r = 0.09 * s
    b.cylinder((0, -0.04, r * 2 + 0.01), 0.025, 0.004, metal, axis=(0, 1, 0), texture="metal")
    b.rod((0, -0.04, r * 2 + 0.01), (0, 0.0, r * 2 + 0.01), 0.007, metal, texture="metal")
    if b.rng.random() < 0.5:  # a ring hanging from the arm, drawn as a loop of short bars in the xz plane
        for k in range(10):
            a = 2 * math.pi * k / 10
            b.box((r * math.cos(a), 0.0, r + 0.01 + r * math.sin(a)), (0.005, 0.005, r * 0.34), metal, texture="metal",
                  quat=quat_axis_angle((0, 1, 0), -a))
    else:  # short bar
        b.rod((-r, 0.0, r * 2 + 0.01), (r, 0.0, r * 2 + 0.01), 0.007, metal, texture="metal")
    b.surface((0, 0.0, r * 2 + 0.017), (0.03, 0.005))


@register("ToiletPaperHanger")
def toilet_paper_hanger(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.1)
    metal = pick(b.rng, PALETTES["metal"] + PALETTES["black"])
    plate_w = 0.05
    b.box_span((-0.08 * s, -0.006, 0), (-0.08 * s + plate_w, 0.0, 0.05), metal, texture="metal")
    b.rod((-0.08 * s + plate_w / 2, 0.0, 0.025), (-0.08 * s + plate_w / 2, 0.035, 0.025), 0.006, metal, texture="metal")
    b.rod((-0.08 * s + plate_w / 2, 0.035, 0.025), (0.08 * s, 0.035, 0.025), 0.006, metal, texture="metal")
    b.surface((0.02 * s, 0.035, 0.031), (0.05 * s, 0.005))
