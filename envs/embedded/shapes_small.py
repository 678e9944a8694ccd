"""Small household objects: bottles and toiletries, electronics, stationery, decorations and textiles.
Sizes are typical retail sizes (a 750 ml wine bottle ~30 cm tall, a phone ~15x7 cm, a paperback ~20x13 cm)."""

from __future__ import annotations

import math

from .shapes import PALETTES, ShapeBuilder, choose, jitter, pick, quat_axis_angle, register, scale_from
from .shapes_tableware import LIQUID, flared_wall, liquid_disc


def _label(b: ShapeBuilder, z: float, radius: float, height: float, color=None, segments: int = 12) -> None:
    """A paper label band around a round bottle."""
    color = color or pick(b.rng, PALETTES["linen"] + PALETTES["ceramic"])
    b.ring((0, 0, z), radius + 0.0022, 0.0015, color, segments=segments, height=height / 2, texture="paper")


def _bottle(b: ShapeBuilder, r: float, body_h: float, neck_r: float, neck_h: float, color, tex, cap_color,
            shoulder: float = 0.03) -> float:
    """Body cylinder, shoulder cone, neck, cap; returns the top z."""
    b.disc(0, r, body_h, color, texture=tex)
    flared_wall(b, body_h, r, neck_r * 1.2, shoulder, r - neck_r, color, segments=12, texture=tex)
    b.disc(body_h + shoulder - 0.002, neck_r, neck_h, color, texture=tex)
    top = body_h + shoulder + neck_h
    b.disc(top - 0.004, neck_r * 1.15, 0.018, cap_color)
    return top + 0.014


@register("WineBottle")
def wine_bottle(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.1)
    glass = pick(b.rng, [(0.15, 0.3, 0.12), (0.3, 0.12, 0.08), (0.1, 0.1, 0.1), (0.75, 0.8, 0.7)], alpha=0.6)
    r = 0.038 * s
    foil = pick(b.rng, [(0.6, 0.1, 0.1), (0.8, 0.7, 0.3), (0.1, 0.1, 0.1)])
    _bottle(b, r, 0.2 * s, 0.013 * s, 0.08 * s, glass, "glass", foil, shoulder=0.04 * s)
    _label(b, 0.1 * s, r, 0.08 * s)
    b.cracks((0, r + 0.002, 0.06 * s), (1, 0, 0), (0, 0, 1), 0.05 * s)
    # The simulator draws every geom opaque, so the fill shows as a liquid-coloured sleeve hugging the glass.
    b.disc(0.005, r + 0.0006, 0.17 * s, LIQUID, role="liquid")


@register("Bottle")
def bottle(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    clear = b.rng.random() < 0.6
    color = pick(b.rng, PALETTES["glass"], alpha=0.5) if clear else pick(b.rng, PALETTES["plastic"], alpha=0.7)
    r = 0.032 * s * b.rng.uniform(0.85, 1.15)
    _bottle(b, r, 0.15 * s * b.rng.uniform(0.8, 1.2), 0.012 * s, 0.04 * s, color, "glass" if clear else "glossy",
            pick(b.rng, PALETTES["plastic"]))
    if b.rng.random() < 0.6:
        _label(b, 0.07 * s, r, 0.05 * s)
    b.cracks((0, r + 0.002, 0.035 * s), (1, 0, 0), (0, 0, 1), 0.04 * s)
    b.disc(0.004, r + 0.0006, 0.09 * s, LIQUID, role="liquid")  # a sleeve over the glass, see WineBottle


@register("SoapBottle")
def soap_bottle(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["plastic"] + PALETTES["glass"][:1], alpha=0.9)
    w, d, h = 0.07 * s, 0.045 * s, 0.14 * s * b.rng.uniform(0.85, 1.15)
    if b.rng.random() < 0.5:
        b.box((0, 0, h / 2), (w / 2, d / 2, h / 2), color, texture="glossy")
    else:
        b.ellipsoid((0, 0, h / 2), (w / 2, d / 2, h / 2), color, texture="glossy")
    pump = pick(b.rng, PALETTES["black"] + PALETTES["metal"] + [(0.95, 0.95, 0.95)])
    b.disc(h - 0.004, 0.014 * s, 0.015, pump)
    b.disc(h + 0.011, 0.005, 0.025 * s, pump)
    b.box((0, 0.012 * s, h + 0.011 + 0.025 * s), (0.007, 0.018 * s, 0.006), pump)
    b.box((0, d / 2 + 0.0008, h * 0.45), (w * 0.33, 0.0008, h * 0.2), pick(b.rng, PALETTES["linen"]), texture="paper")


@register("SprayBottle")
def spray_bottle(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["plastic"], alpha=0.85)
    r, h = 0.038 * s, 0.17 * s
    b.disc(0, r, h, color, texture="glossy")
    b.disc(h, r * 0.5, 0.02, color, texture="glossy")
    head = pick(b.rng, PALETTES["plastic"] + PALETTES["black"])
    b.box((0, r * 0.3, h + 0.045), (0.016, r * 0.9, 0.025), head)
    b.box((0, r * 0.5, h - 0.005), (0.006, 0.006, 0.03), head, quat=quat_axis_angle((1, 0, 0), 0.4))  # trigger
    b.cylinder((0, r * 1.25, h + 0.05), 0.006, 0.006, head, axis=(0, 1, 0))
    _label(b, h * 0.45, r, h * 0.4)


@register("SoapBar")
def soap_bar(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["linen"] + PALETTES["plastic"][:5])
    w, d, h = 0.09 * s, 0.055 * s, 0.025 * s
    b.box((0, 0, h / 2), (w / 2 - h / 2, d / 2, h / 2), color, texture="glossy")
    for sx in (-1, 1):
        b.cylinder((sx * (w / 2 - h / 2), 0, h / 2), h / 2, d / 2, color, axis=(0, 1, 0), texture="glossy")


@register("DishSponge")
def dish_sponge(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    w, d = 0.1 * s, 0.065 * s
    foam = pick(b.rng, [(0.95, 0.85, 0.2), (0.3, 0.7, 0.9), (0.95, 0.5, 0.6), (0.95, 0.6, 0.2)])
    b.box((0, 0, 0.013 * s), (w / 2, d / 2, 0.013 * s), foam, texture="noise")
    b.box((0, 0, 0.026 * s + 0.004), (w / 2, d / 2, 0.004), pick(b.rng, [(0.15, 0.5, 0.2), (0.2, 0.3, 0.7),
                                                                         (0.2, 0.2, 0.2)]), texture="fabric")


def _shaker(b: ShapeBuilder, size, body_rgb_options, cap_holes_dark: bool) -> None:
    s = scale_from(b.rng, size)
    r, h = 0.02 * s, 0.08 * s * b.rng.uniform(0.85, 1.15)
    # Glass shakers show their contents (white salt, black pepper) up to a fill line, clear glass above it;
    # the simulator draws geoms opaque, so the contents are a sleeve rather than something seen through glass.
    glass = b.rng.random() < 0.6
    color = jitter(b.rng, (0.85, 0.9, 0.92), 0.03) if glass else pick(b.rng, body_rgb_options)
    b.disc(0, r, h, color, texture="glass" if glass else "glossy")
    if glass:
        b.disc(0.003, r + 0.0006, h * b.rng.uniform(0.4, 0.75), pick(b.rng, body_rgb_options, 0.03), texture="noise")
    cap = pick(b.rng, PALETTES["metal"])
    b.disc(h, r * 1.02, 0.012, cap, texture="metal")
    b.ellipsoid((0, 0, h + 0.012), (r, r, 0.008), cap, texture="metal")
    for k in range(3):
        a = 2 * math.pi * k / 3
        b.sphere((r * 0.4 * math.cos(a), r * 0.4 * math.sin(a), h + 0.019), 0.0015,
                 (0.05, 0.05, 0.05) if cap_holes_dark else (0.3, 0.3, 0.3))


@register("SaltShaker")
def salt_shaker(b: ShapeBuilder, size):
    _shaker(b, size, [(0.97, 0.97, 0.97), (0.9, 0.9, 0.88)], cap_holes_dark=True)


@register("PepperShaker")
def pepper_shaker(b: ShapeBuilder, size):
    _shaker(b, size, [(0.12, 0.11, 0.1), (0.25, 0.22, 0.2)], cap_holes_dark=False)


@register("PaperTowelRoll")
def paper_towel_roll(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r, h = 0.06 * s, 0.26 * s
    paper = pick(b.rng, [(0.97, 0.97, 0.96), (0.95, 0.93, 0.88)], 0.02)
    b.disc(0, r, h, paper, texture="paper")
    b.disc(h, 0.02, 0.001, (0.6, 0.45, 0.3))  # the cardboard core seen from the top
    if b.rng.random() < 0.6:  # a stand
        metal = pick(b.rng, PALETTES["metal"] + PALETTES["wood_light"])
        b.disc(0, r * 1.2, 0.012, metal, texture="metal")
        b.disc(0.012, 0.008, h + 0.02, metal, texture="metal")
    b.box((r - 0.002, 0, h * 0.5), (0.002, 0.02, h * 0.48), jitter(b.rng, paper[:3], 0.05), texture="paper")


@register("ToiletPaper")
def toilet_paper(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.1)
    r, h = 0.055 * s, 0.1 * s
    paper = pick(b.rng, [(0.97, 0.97, 0.96), (0.95, 0.93, 0.9)], 0.02)
    # Lying on its side (axis along x) as it rests on a hanger or counter.
    b.cylinder((0, 0, r), r, h / 2, paper, axis=(1, 0, 0), texture="paper")
    b.cylinder((0, 0, r), 0.02, h / 2 + 0.001, (0.6, 0.45, 0.3), axis=(1, 0, 0))
    b.box((0, r * 0.85, r * 0.45), (h / 2, 0.0015, r * 0.5), paper, texture="paper")  # loose sheet


@register("RemoteControl")
def remote_control(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    body = pick(b.rng, PALETTES["black"] + [(0.6, 0.6, 0.62), (0.9, 0.9, 0.9)])
    length, w, h = 0.18 * s, 0.05 * s, 0.02 * s
    b.box((0, 0, h / 2), (w / 2, length / 2, h / 2), body, texture="glossy")
    b.sphere((0, length * 0.4, h + 0.001), 0.006, (0.8, 0.1, 0.1))  # power button
    for row in range(4):
        for col in range(3):
            b.box(((col - 1) * w * 0.28, length * (0.15 - row * 0.12), h + 0.001), (0.005, 0.004, 0.0015),
                  pick(b.rng, [(0.75, 0.75, 0.75), (0.3, 0.3, 0.32)]))


@register("CellPhone")
def cell_phone(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.08)
    case = pick(b.rng, PALETTES["black"] + PALETTES["plastic"] + PALETTES["metal"])
    w, length, h = 0.072 * s, 0.15 * s, 0.008
    b.box((0, 0, h / 2), (w / 2, length / 2, h / 2), case, texture="glossy")
    b.box((0, 0, h + 0.0005), (w / 2 - 0.003, length / 2 - 0.006, 0.0005), (0.03, 0.03, 0.04), role="screen")
    b.cylinder((0, length / 2 - 0.004, h + 0.0007), 0.002, 0.0006, (0.1, 0.1, 0.1))
    b.cracks((0, 0, h + 0.0012), (1, 0, 0), (0, 1, 0), w * 0.45, branches=4)


@register("Laptop")
def laptop(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    shell = pick(b.rng, PALETTES["metal"] + PALETTES["black"] + [(0.85, 0.75, 0.7)])
    w, d, t = 0.33 * s, 0.23 * s, 0.012
    b.box((0, 0, t / 2), (w / 2, d / 2, t / 2), shell, texture="metal")
    b.box((0, -d * 0.1, t + 0.0005), (w / 2 - 0.02, d * 0.3, 0.0005), jitter(b.rng, (0.12, 0.12, 0.13), 0.03),
          texture="tiles")  # keyboard
    b.box((0, d * 0.32, t + 0.0005), (w * 0.16, d * 0.12, 0.0004), jitter(b.rng, shell[:3], 0.08))  # touchpad
    # The lid lies closed on the base; its hinge runs along x at the back edge and it opens up towards -y.
    lid = "lid"
    b.box((0, 0, t + 0.002 + t * 0.4), (w / 2, d / 2, t * 0.4), shell, texture="metal", link=lid)
    b.box((0, 0, t + 0.0015), (w / 2 - 0.01, d / 2 - 0.01, 0.0004), (0.03, 0.03, 0.04), role="screen", link=lid)
    b.cracks((0, 0, t + 0.0011), (1, 0, 0), (0, 1, 0), d * 0.4, branches=4, link=lid)  # on the screen's face
    b.link(lid, "hinge", (1, 0, 0), (0, -d / 2, t + 0.002), math.radians(110))


@register("Book")
def book(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    w, d = 0.14 * s * b.rng.uniform(0.9, 1.2), 0.2 * s * b.rng.uniform(0.9, 1.15)
    thick = 0.025 * s * b.rng.uniform(0.6, 1.8)
    cover = pick(b.rng, PALETTES["ceramic"] + PALETTES["fabric"] + PALETTES["plastic"])
    c = 0.003
    b.box((0, 0, c / 2), (w / 2, d / 2, c / 2), cover, texture=choose(b.rng, ["plain", "fabric", "noise"]))
    b.box((-w / 2 + c / 2, 0, thick / 2), (c / 2, d / 2, thick / 2), cover)  # spine on -x
    b.box((0.002, 0, c + (thick - 2 * c) / 2), (w / 2 - 0.004, d / 2 - 0.004, (thick - 2 * c) / 2),
          jitter(b.rng, (0.95, 0.93, 0.85), 0.03), texture="paper")
    lid = "lid"
    b.box((0, 0, thick - c / 2), (w / 2, d / 2, c / 2), cover, link=lid)
    if b.rng.random() < 0.6:  # a title band on the front cover
        b.box((0, d * 0.15, thick + 0.0004), (w * 0.35, d * 0.08, 0.0004), pick(b.rng, PALETTES["linen"]), link=lid)
    b.link(lid, "hinge", (0, 1, 0), (-w / 2, 0, thick - c / 2), -math.pi * 0.95)


@register("Newspaper")
def newspaper(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    paper = jitter(b.rng, (0.9, 0.9, 0.86), 0.04)
    w, d = 0.3 * s, 0.4 * s
    b.box((0, 0, 0.005), (w / 2, d / 2, 0.005), paper, texture="paper")
    b.box((0, d * 0.38, 0.0102), (w * 0.42, d * 0.06, 0.0002), (0.1, 0.1, 0.1))  # masthead
    for k in range(3):  # columns of text
        b.box(((k - 1) * w * 0.3, -d * 0.08, 0.0102), (w * 0.13, d * 0.3, 0.0002), (0.55, 0.55, 0.55),
              texture="stripes")
    if b.rng.random() < 0.5:
        b.box((w * 0.2, d * 0.1, 0.0104), (w * 0.2, d * 0.12, 0.0002), pick(b.rng, PALETTES["ceramic"]))  # photo


@register("CreditCard")
def credit_card(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.03)
    color = pick(b.rng, PALETTES["plastic"] + PALETTES["metal"] + PALETTES["black"])
    b.box((0, 0, 0.0005), (0.0428 * s, 0.027 * s, 0.0005), color, texture="glossy")
    b.box((-0.025 * s, 0.004, 0.0011), (0.006, 0.0045, 0.0002), (0.85, 0.7, 0.3), texture="metal")  # chip
    b.box((0, -0.014 * s, 0.0011), (0.035 * s, 0.002, 0.0002), jitter(b.rng, color[:3], 0.2))


@register("KeyChain")
def key_chain(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    metal = pick(b.rng, PALETTES["metal"] + [(0.8, 0.65, 0.3)])
    b.ring((0, 0, 0.002), 0.013 * s, 0.0015, metal, segments=10, height=0.0015, texture="metal")
    for k in range(int(b.rng.integers(2, 4))):
        a = -0.6 + 0.6 * k + b.rng.uniform(-0.15, 0.15)
        dx, dy = math.cos(a), math.sin(a)
        base = (0.013 * s * dx, 0.013 * s * dy)
        b.cylinder((base[0] + 0.01 * dx, base[1] + 0.01 * dy, 0.002), 0.009, 0.0015, metal, texture="metal")
        b.box((base[0] + 0.035 * dx, base[1] + 0.035 * dy, 0.002), (0.02, 0.004, 0.0015), metal, texture="metal",
              quat=quat_axis_angle((0, 0, 1), a))
    b.box((-0.025 * s, 0, 0.004), (0.012, 0.008, 0.004), pick(b.rng, PALETTES["plastic"]))  # fob


@register("Watch")
def watch(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.08)
    strap = pick(b.rng, PALETTES["black"] + PALETTES["wood_dark"] + PALETTES["metal"])
    case = pick(b.rng, PALETTES["metal"] + [(0.8, 0.65, 0.3)])
    r = 0.02 * s
    b.box((0, 0, 0.003), (0.011, 0.1 * s, 0.002), strap, texture="fabric")  # strap laid flat
    b.disc(0.004, r, 0.01, case, texture="metal")
    b.disc(0.014, r * 0.85, 0.001, pick(b.rng, [(0.95, 0.95, 0.93), (0.1, 0.1, 0.15), (0.2, 0.3, 0.5)]))
    b.box((0.0, r * 0.3, 0.0155), (0.0008, r * 0.3, 0.0004), (0.3, 0.3, 0.3))
    b.box((r * 0.2, 0.0, 0.0155), (r * 0.2, 0.0008, 0.0004), (0.3, 0.3, 0.3))


@register("AlarmClock")
def alarm_clock(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    body = pick(b.rng, PALETTES["plastic"] + PALETTES["black"] + PALETTES["metal"])
    if b.rng.random() < 0.5:  # twin-bell clock: round face on legs
        r = 0.055 * s
        b.cylinder((0, 0, r + 0.015), r, 0.022, body, axis=(0, 1, 0), texture="glossy")
        b.cylinder((0, 0.023, r + 0.015), r * 0.85, 0.001, (0.96, 0.96, 0.94), axis=(0, 1, 0))
        b.box((0, 0.0245, r + 0.015 + r * 0.25), (0.0015, 0.0005, r * 0.28), (0.1, 0.1, 0.1))
        b.box((r * 0.2, 0.0245, r + 0.015), (r * 0.22, 0.0005, 0.0015), (0.1, 0.1, 0.1))
        for sx in (-1, 1):
            b.sphere((sx * r * 0.6, -0.005, 2 * r + 0.01), r * 0.35, pick(b.rng, PALETTES["metal"]), texture="metal")
            b.rod((sx * r * 0.5, 0, r * 0.4), (sx * r * 0.8, 0, 0.004), 0.004, body)
    else:  # digital block clock
        w, d, h = 0.14 * s, 0.06 * s, 0.075 * s
        b.box((0, 0, h / 2), (w / 2, d / 2, h / 2), body, texture="glossy")
        b.box((0, d / 2 + 0.0005, h / 2), (w * 0.38, 0.0005, h * 0.3), (0.05, 0.05, 0.05))
        for k in range(4):  # digits
            b.box(((k - 1.5) * w * 0.17, d / 2 + 0.0012, h / 2), (w * 0.05, 0.0004, h * 0.2), (0.3, 0.05, 0.03),
                  role="glow")


@register("Box")
def box(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    w, d, h = (0.3 * s * b.rng.uniform(0.8, 1.3), 0.25 * s * b.rng.uniform(0.8, 1.3), 0.2 * s * b.rng.uniform(0.8, 1.3))
    cardboard = [(0.72, 0.55, 0.35), (0.65, 0.5, 0.32), (0.8, 0.65, 0.45), (0.6, 0.45, 0.3), (0.9, 0.88, 0.85)]
    color = pick(b.rng, cardboard if b.rng.random() < 0.75 else PALETTES["ceramic"])
    tex = choose(b.rng, ["paper", "noise"])
    t = 0.004
    b.box_span((-w / 2, -d / 2, 0), (w / 2, d / 2, t), color, texture=tex)
    for lo, hi in [((-w / 2, -d / 2, 0), (w / 2, -d / 2 + t, h)), ((-w / 2, d / 2 - t, 0), (w / 2, d / 2, h)),
                   ((-w / 2, -d / 2, 0), (-w / 2 + t, d / 2, h)), ((w / 2 - t, -d / 2, 0), (w / 2, d / 2, h))]:
        b.box_span(lo, hi, color, texture=tex)
    lid = "lid"
    b.box_span((-w / 2, -d / 2, h), (w / 2, d / 2, h + t), jitter(b.rng, color[:3], 0.04), texture=tex, link=lid)
    b.box_span((-0.025, -d / 2, h + t), (0.025, d / 2, h + t + 0.0005), jitter(b.rng, (0.75, 0.7, 0.6), 0.05),
               link=lid)  # tape
    b.link(lid, "hinge", (1, 0, 0), (0, -d / 2, h), 1.9)
    b.surface((0, 0, t), (w / 2 - 0.02, d / 2 - 0.02), clearance=h - t, enclosed=True, opened_by=lid)


@register("TissueBox")
def tissue_box(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    cube = b.rng.random() < 0.4
    w, d, h = (0.12, 0.12, 0.13) if cube else (0.24, 0.12, 0.09)
    w, d, h = w * s, d * s, h * s
    color = pick(b.rng, PALETTES["ceramic"] + PALETTES["fabric"])
    b.box((0, 0, h / 2), (w / 2, d / 2, h / 2), color, texture=choose(b.rng, ["paper", "stripes", "checker"]))
    b.ellipsoid((0, 0, h), (w * 0.25, d * 0.18, 0.002), (0.2, 0.2, 0.2))  # slot
    b.ellipsoid((0, 0, h + 0.02), (0.03, 0.008, 0.025), (0.97, 0.97, 0.97),
                quat=quat_axis_angle((0, 0, 1), b.rng.uniform(-0.3, 0.3)))


@register("Pillow")
def pillow(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["fabric"] + PALETTES["linen"])
    tex = choose(b.rng, ["fabric", "stripes", "checker", "plain"])
    w, d = 0.45 * s * b.rng.uniform(0.9, 1.3), 0.45 * s
    # A flat core with rounded (capsule) edges, and a puffed-up middle.
    t = 0.045 * s
    hx, hy = w / 2 - t, d / 2 - t
    b.box((0, 0, t), (hx, hy, t * 0.9), color, texture=tex)
    b.capsule((0, hy, t), t, hx, color, axis=(1, 0, 0), texture=tex)
    b.capsule((0, -hy, t), t, hx, color, axis=(1, 0, 0), texture=tex)
    b.capsule((hx, 0, t), t, hy, color, axis=(0, 1, 0), texture=tex)
    b.capsule((-hx, 0, t), t, hy, color, axis=(0, 1, 0), texture=tex)
    b.ellipsoid((0, 0, t), (hx + t * 0.9, hy + t * 0.9, t * 1.8), color, texture=tex)
    if b.rng.random() < 0.4:  # a contrasting piping button in the middle
        b.disc(t * 2.75, 0.012, 0.004, jitter(b.rng, color[:3], 0.2))


def _textile(b: ShapeBuilder, w: float, h: float, t: float, color, tex) -> None:
    """A towel hanging over a bar: a front and back layer meeting in a rolled top (front faces +y)."""
    for y in (-t, t):
        b.box((0, y, h / 2), (w / 2, t / 2, h / 2), color, texture=tex)
    b.capsule((0, 0, h), t * 1.5, w / 2 - t * 1.5, color, axis=(1, 0, 0), texture=tex)
    b.box((0, 1.5 * t + 0.0005, h * 0.12), (w / 2, 0.0005, h * 0.04), jitter(b.rng, color[:3], 0.15), texture=tex)


@register("Towel")
def towel(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    _textile(b, 0.5 * s * b.rng.uniform(0.9, 1.2), 0.6 * s, 0.008, pick(b.rng, PALETTES["linen"] + PALETTES["fabric"]),
             choose(b.rng, ["fabric", "stripes", "noise"]))


@register("HandTowel")
def hand_towel(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    _textile(b, 0.3 * s, 0.35 * s, 0.006, pick(b.rng, PALETTES["linen"] + PALETTES["fabric"]),
             choose(b.rng, ["fabric", "stripes", "noise"]))


@register("Cloth")
def cloth(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["plastic"] + PALETTES["linen"])
    w, d = 0.2 * s, 0.16 * s
    tex = choose(b.rng, ["fabric", "checker", "stripes"])
    # A folded rag: stacked layers slightly offset, with a soft fold on one side.
    for k in range(3):
        b.box((0.004 * k, -0.003 * k, 0.003 + k * 0.006), (w / 2, d / 2, 0.003), jitter(b.rng, color[:3], 0.03),
              texture=tex)
    b.capsule((w / 2, 0, 0.009), 0.009, d / 2 - 0.009, color, axis=(0, 1, 0), texture=tex)
    b.smudges((0.008, -0.006, 0.0195), (1, 0, 0), (0, 1, 0), w * 0.35)


@register("Candle")
def candle(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r, h = 0.03 * s * b.rng.uniform(0.8, 1.3), 0.1 * s * b.rng.uniform(0.7, 1.4)
    wax = pick(b.rng, [(0.97, 0.95, 0.88), (0.9, 0.2, 0.2), (0.95, 0.85, 0.6), (0.7, 0.8, 0.95), (0.85, 0.75, 0.9)])
    if b.rng.random() < 0.5:  # holder dish
        b.disc(0, r * 1.6, 0.01, pick(b.rng, PALETTES["metal"] + PALETTES["glass"][:1]), texture="metal")
    b.disc(0.01, r, h, wax, texture="glossy")
    b.disc(0.01 + h, 0.0015, 0.012, (0.1, 0.1, 0.1))
    b.ellipsoid((0, 0, 0.01 + h + 0.025), (0.006, 0.006, 0.015), (1.0, 0.65, 0.15), role="flame")


@register("Vase")
def vase(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color, tex = pick(b.rng, PALETTES["ceramic"] + PALETTES["glass"]), choose(b.rng, ["glossy", "noise", "glass",
                                                                                     "stripes"])
    r, h = 0.06 * s * b.rng.uniform(0.8, 1.2), 0.25 * s * b.rng.uniform(0.8, 1.25)
    style = choose(b.rng, ["belly", "cylinder", "flared"])
    if style == "belly":
        b.ellipsoid((0, 0, h * 0.4), (r * 1.3, r * 1.3, h * 0.4), color, texture=tex)
        b.disc(h * 0.7, r * 0.45, h * 0.3, color, texture=tex)
        b.disc(h - 0.01, r * 0.6, 0.01, color, texture=tex)
    elif style == "cylinder":
        b.disc(0, r, h, color, texture=tex)
        b.disc(h - 0.002, r * 0.8, 0.003, jitter(b.rng, color[:3], 0.3))
    else:
        b.disc(0, r * 0.7, 0.02, color, texture=tex)
        flared_wall(b, 0.0, r * 0.6, r * 1.2, h, 0.006, color, segments=14, texture=tex)
    if b.rng.random() < 0.35:
        b.ring((0, 0, h * 0.2), r * (1.3 if style == "belly" else 1.0) * (0.85 if style == "belly" else 1.0),
               0.002, pick(b.rng, PALETTES["ceramic"]), segments=14, height=0.006)
    front = {"belly": r * 1.3, "cylinder": r, "flared": r * 0.95}[style]
    b.cracks((0, front + 0.002, h * 0.4), (1, 0, 0), (0, 0, 1), h * 0.25)


@register("Statue")
def statue(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color = pick(b.rng, [(0.85, 0.85, 0.82), (0.3, 0.25, 0.2), (0.75, 0.6, 0.3), (0.2, 0.2, 0.22), (0.6, 0.62, 0.6)])
    tex = choose(b.rng, ["marble", "metal", "noise"])
    b.box((0, 0, 0.015 * s), (0.05 * s, 0.05 * s, 0.015 * s), jitter(b.rng, color[:3], 0.2), texture=tex)
    style = choose(b.rng, ["figure", "abstract", "bird"])
    if style == "figure":
        b.capsule((0, 0, 0.09 * s), 0.022 * s, 0.05 * s, color, texture=tex)
        b.sphere((0, 0, 0.175 * s), 0.02 * s, color, texture=tex)
        for sx in (-1, 1):
            b.rod((sx * 0.02 * s, 0, 0.13 * s), (sx * 0.045 * s, 0.01 * s, 0.08 * s), 0.006 * s, color, texture=tex)
    elif style == "abstract":
        for k in range(3):
            b.ellipsoid((0.01 * k * s, 0, (0.05 + 0.05 * k) * s), ((0.03 - 0.006 * k) * s, 0.02 * s, 0.028 * s),
                        color, texture=tex, quat=quat_axis_angle((0, 1, 0), 0.4 * k))
    else:
        b.ellipsoid((0, 0, 0.07 * s), (0.045 * s, 0.025 * s, 0.03 * s), color, texture=tex)
        b.sphere((0.04 * s, 0, 0.1 * s), 0.018 * s, color, texture=tex)
        b.rod((0.055 * s, 0, 0.1 * s), (0.075 * s, 0, 0.097 * s), 0.004 * s, color, texture=tex)
        b.rod((0, 0, 0.045 * s), (0, 0, 0.03 * s), 0.005 * s, color, texture=tex)
    b.cracks((0, 0.05 * s + 0.002, 0.015 * s), (1, 0, 0), (0, 0, 1), 0.012 * s)  # on the plinth's front


@register("HousePlant")
def house_plant(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    pot_color = pick(b.rng, [(0.75, 0.4, 0.25), (0.95, 0.95, 0.93), (0.2, 0.2, 0.22), (0.4, 0.55, 0.6)])
    r, h = 0.08 * s, 0.14 * s
    b.disc(0, r * 0.75, 0.01, pot_color, texture="noise")
    flared_wall(b, 0, r * 0.75, r, h, 0.008, pot_color, segments=14, texture="noise")
    b.disc(h * 0.8, r * 0.93, 0.012, jitter(b.rng, (0.35, 0.25, 0.15), 0.03), texture="noise")  # dry soil
    b.disc(h * 0.8 + 0.002, r * 0.93, 0.012, (0.15, 0.1, 0.07), role="liquid")  # wet soil
    green = choose(b.rng, [(0.2, 0.5, 0.2), (0.3, 0.6, 0.25), (0.15, 0.4, 0.25), (0.4, 0.6, 0.3)])
    style = choose(b.rng, ["bush", "tall", "spiky"])
    leaves = int(b.rng.integers(6, 11))
    for k in range(leaves):
        a = 2 * math.pi * k / leaves + b.rng.uniform(-0.3, 0.3)
        if style == "spiky":
            tilt = b.rng.uniform(0.15, 0.5)
            length = b.rng.uniform(0.15, 0.3) * s
            base = (0.0, 0.0, h * 0.8)
            tip = (math.sin(tilt) * length * math.cos(a), math.sin(tilt) * length * math.sin(a),
                   h * 0.8 + math.cos(tilt) * length)
            b.rod(base, tip, 0.008, jitter(b.rng, green, 0.07), texture="leaf")
        else:
            height = (b.rng.uniform(0.1, 0.3) if style == "tall" else b.rng.uniform(0.05, 0.15)) * s
            reach = r * b.rng.uniform(0.3, 1.0)
            c = (reach * math.cos(a), reach * math.sin(a), h * 0.85 + height)
            b.rod((0, 0, h * 0.8), c, 0.003, (0.3, 0.45, 0.2))
            b.ellipsoid(c, (0.045 * s, 0.022 * s, 0.006), jitter(b.rng, green, 0.07), texture="leaf",
                        quat=quat_axis_angle((0, 0, 1), a))


@register("WateringCan")
def watering_can(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    color = pick(b.rng, PALETTES["plastic"] + PALETTES["metal"])
    tex = "metal" if color in PALETTES["metal"] or b.rng.random() < 0.3 else "glossy"
    r, h = 0.08 * s, 0.2 * s
    b.disc(0, r, 0.01, color, texture=tex)
    b.wall_ring((0, 0), 0, r, 0.006, h, color, segments=14, texture=tex)
    liquid_disc(b, h * 0.6, r - 0.008)
    b.rod((0, r * 0.8, h * 0.2), (0, r * 2.6, h * 1.05), 0.01 * s, color, texture=tex)  # spout
    b.cylinder((0, r * 2.65, h * 1.1), 0.022 * s, 0.012, color, axis=(0, 0.5, 1), texture=tex)  # rose
    b.rod((0, -r * 0.6, h), (0, -r * 0.6, h * 1.3), 0.008, color, texture=tex)
    b.rod((0, -r * 0.6, h * 1.3), (0, r * 0.5, h * 1.3), 0.008, color, texture=tex)
    b.rod((0, r * 0.5, h * 1.3), (0, r * 0.5, h), 0.008, color, texture=tex)


@register("Pencil")
def pencil(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.2)
    length = 0.17 * s
    paint = pick(b.rng, [(0.95, 0.8, 0.1), (0.2, 0.5, 0.25), (0.8, 0.15, 0.15), (0.2, 0.3, 0.7)])
    r = 0.0038
    b.cylinder((0, 0, r), r, length / 2, paint, axis=(1, 0, 0), texture="glossy")
    b.cylinder((length / 2 + 0.006, 0, r), r * 0.6, 0.006, (0.9, 0.75, 0.55), axis=(1, 0, 0), texture="wood")
    b.cylinder((length / 2 + 0.013, 0, r), r * 0.25, 0.002, (0.15, 0.15, 0.15), axis=(1, 0, 0))
    b.cylinder((-length / 2 - 0.004, 0, r), r, 0.004, (0.75, 0.75, 0.7), axis=(1, 0, 0), texture="metal")
    b.cylinder((-length / 2 - 0.011, 0, r), r, 0.004, (0.95, 0.55, 0.6), axis=(1, 0, 0))  # eraser


@register("Pen")
def pen(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.1)
    length = 0.14 * s
    body = pick(b.rng, PALETTES["plastic"] + PALETTES["black"] + PALETTES["metal"])
    r = 0.005
    b.capsule((0, 0, r), r, length / 2, body, axis=(1, 0, 0), texture="glossy")
    b.cylinder((length / 2 + r + 0.004, 0, r), r * 0.5, 0.004, pick(b.rng, PALETTES["metal"]), axis=(1, 0, 0),
               texture="metal")
    cap = pick(b.rng, PALETTES["plastic"] + PALETTES["black"])
    b.cylinder((-length * 0.3, 0, r), r * 1.1, length * 0.2, cap, axis=(1, 0, 0))
    b.box((-length * 0.3, 0, 2 * r + 0.0015), (length * 0.15, 0.0015, 0.0015), cap)  # clip
