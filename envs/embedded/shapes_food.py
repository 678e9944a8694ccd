"""Food and its sliced pieces. Flesh and skin use role "food" so the simulator can brown them when cooked; slices
show a coloured rim (skin/crust) around a paler cut face so they read as slices, not as new round objects."""

from __future__ import annotations

import math

from .shapes import ShapeBuilder, choose, jitter, quat_axis_angle, register, scale_from

APPLE_SKINS = [(0.75, 0.1, 0.1), (0.55, 0.08, 0.1), (0.55, 0.75, 0.2), (0.85, 0.7, 0.2), (0.85, 0.35, 0.15)]
TOMATO_SKINS = [(0.85, 0.12, 0.08), (0.9, 0.3, 0.1), (0.7, 0.08, 0.05)]
POTATO_SKINS = [(0.7, 0.55, 0.35), (0.6, 0.45, 0.3), (0.55, 0.3, 0.28), (0.78, 0.65, 0.45)]
LETTUCE = [(0.45, 0.75, 0.3), (0.35, 0.6, 0.2), (0.6, 0.82, 0.4), (0.5, 0.7, 0.25), (0.4, 0.25, 0.3)]
CRUST = [(0.7, 0.45, 0.2), (0.55, 0.32, 0.15), (0.8, 0.6, 0.35), (0.45, 0.3, 0.2)]
CRUMB = [(0.93, 0.85, 0.68), (0.85, 0.75, 0.55), (0.7, 0.55, 0.4)]


@register("Apple")
def apple(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.04 * s
    skin = jitter(b.rng, choose(b.rng, APPLE_SKINS), 0.06)
    b.ellipsoid((0, 0, r * 0.92), (r, r * b.rng.uniform(0.93, 1.0), r * 0.92), skin, role="food", texture="noise")
    b.ellipsoid((0, 0, r * 1.6), (r * 0.6, r * 0.6, r * 0.25), skin, role="food")  # shoulders around the stem
    b.rod((0, 0, r * 1.7), (0.004, 0.002, r * 2.1), 0.0025, (0.35, 0.22, 0.1))
    if b.rng.random() < 0.5:
        b.ellipsoid((0.012, 0.004, r * 1.95), (0.012, 0.005, 0.002), (0.25, 0.55, 0.15),
                    quat=quat_axis_angle((0, 1, 0), -0.4))


@register("Tomato")
def tomato(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.035 * s
    skin = jitter(b.rng, choose(b.rng, TOMATO_SKINS), 0.05)
    b.ellipsoid((0, 0, r * 0.8), (r, r, r * 0.8), skin, role="food", texture="glossy")
    for k in range(5):  # calyx star
        a = 2 * math.pi * k / 5
        b.box((0.4 * r * math.cos(a) * 0.6, 0.4 * r * math.sin(a) * 0.6, r * 1.6), (r * 0.25, 0.002, 0.0015),
              (0.2, 0.45, 0.12), quat=quat_axis_angle((0, 0, 1), a))
    b.cylinder((0, 0, r * 1.65), 0.002, 0.004, (0.2, 0.45, 0.12))


@register("Potato")
def potato(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    length = 0.05 * s * b.rng.uniform(0.9, 1.2)
    skin = jitter(b.rng, choose(b.rng, POTATO_SKINS), 0.05)
    b.ellipsoid((0, 0, 0.027 * s), (length, 0.033 * s, 0.027 * s), skin, role="food", texture="noise",
                quat=quat_axis_angle((0, 0, 1), b.rng.uniform(-0.3, 0.3)))
    b.ellipsoid((length * 0.45, 0.005, 0.028 * s), (length * 0.5, 0.028 * s, 0.024 * s), skin, role="food",
                texture="noise")
    for _ in range(3):  # eyes, sunk into the upper surface of the main ellipsoid
        x, y = b.rng.uniform(-0.5, 0.5) * length, b.rng.uniform(-0.5, 0.5) * 0.033 * s
        z = 0.027 * s * (1 + math.sqrt(max(0.0, 1 - (x / length) ** 2 - (y / (0.033 * s)) ** 2)))
        b.sphere((x, y, z - 0.002), 0.003, (0.4, 0.3, 0.2), role="food")


@register("Egg")
def egg(b: ShapeBuilder, size):
    s = scale_from(b.rng, size, 0.08)
    shell = jitter(b.rng, choose(b.rng, [(0.96, 0.94, 0.88), (0.85, 0.68, 0.5), (0.9, 0.8, 0.7)]), 0.03)
    # Lying on its side: long axis along x, one end fatter.
    b.ellipsoid((0, 0, 0.021 * s), (0.029 * s, 0.021 * s, 0.021 * s), shell, role="food")
    b.cracks((0, 0, 0.0423 * s), (1, 0, 0), (0, 1, 0), 0.007 * s)


@register("EggCracked")
def egg_cracked(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    white = jitter(b.rng, (0.97, 0.96, 0.92), 0.02)
    r = 0.05 * s
    b.ellipsoid((0, 0, 0.003), (r, r * b.rng.uniform(0.75, 0.95), 0.003), white, role="food")
    b.ellipsoid((r * 0.3, -r * 0.2, 0.003), (r * 0.6, r * 0.5, 0.0032), white, role="food")
    b.ellipsoid((b.rng.uniform(-0.01, 0.01), 0, 0.006), (0.014 * s, 0.014 * s, 0.008 * s),
                jitter(b.rng, (0.98, 0.72, 0.1), 0.03), role="food", texture="glossy")


@register("Lettuce")
def lettuce(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.08 * s
    green = choose(b.rng, LETTUCE)
    b.ellipsoid((0, 0, r * 0.75), (r * 0.8, r * 0.8, r * 0.75), jitter(b.rng, green, 0.05), role="food",
                texture="leaf")
    for k in range(7):  # outer leaves cupping the head
        a = 2 * math.pi * k / 7 + b.rng.uniform(-0.2, 0.2)
        c = (r * 0.45 * math.cos(a), r * 0.45 * math.sin(a), r * 0.7)
        quat = quat_axis_angle((-math.sin(a), math.cos(a), 0), 0.35)
        b.ellipsoid(c, (r * 0.55, r * 0.55, r * 0.6), jitter(b.rng, green, 0.08), role="food", texture="leaf",
                    quat=quat)
    b.cylinder((0, 0, 0.008), r * 0.25, 0.008, (0.9, 0.92, 0.75), role="food")


@register("Bread")
def bread(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    length, w, h = 0.26 * s * b.rng.uniform(0.9, 1.15), 0.11 * s, 0.07 * s
    crust = jitter(b.rng, choose(b.rng, CRUST), 0.04)
    shape = choose(b.rng, ["tin", "round"])
    if shape == "tin":
        b.box((0, 0, h / 2), (length / 2, w / 2, h / 2), crust, role="food", texture="noise")
        b.capsule((0, 0, h), w / 2, length / 2 - w / 2, crust, axis=(1, 0, 0), role="food", texture="noise")
    else:
        b.ellipsoid((0, 0, h * 0.75), (length / 2, w / 2 * 1.1, h * 0.75), crust, role="food", texture="noise")
    for k in range(3):  # pale scoring slashes lying on the top crust
        x = (k - 1) * length * 0.25
        if shape == "tin":
            top = h + w / 2
        else:  # on the ellipsoid's surface above x
            top = h * 0.75 + h * 0.75 * math.sqrt(max(0.0, 1 - (x / (length / 2)) ** 2))
        b.box((x, 0, top - 0.0012), (0.005, w * 0.3, 0.0015), jitter(b.rng, (0.9, 0.78, 0.55), 0.05), role="food",
              quat=quat_axis_angle((0, 0, 1), 0.5))


def _slice_disc(b: ShapeBuilder, r: float, thick: float, rim, flesh, rim_width: float = 0.1) -> None:
    """A round slice lying flat: coloured rim around a paler cut face on both sides."""
    b.cylinder((0, 0, thick / 2), r, thick / 2 * 0.9, rim, role="food")
    b.cylinder((0, 0, thick / 2), r * (1 - rim_width), thick / 2, flesh, role="food")


@register("AppleSliced")
def apple_sliced(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.04 * s
    skin = jitter(b.rng, choose(b.rng, APPLE_SKINS), 0.05)
    flesh = jitter(b.rng, (0.96, 0.92, 0.75), 0.03)
    # A cross-cut ring lying flat: skin rim, cream flesh, a star-shaped core with dark pips.
    thick = 0.012 * s
    _slice_disc(b, r, thick, skin, flesh, 0.06)
    core = jitter(b.rng, (0.9, 0.85, 0.6), 0.03)
    for k in range(5):
        a = 2 * math.pi * k / 5
        b.ellipsoid((r * 0.15 * math.cos(a), r * 0.15 * math.sin(a), thick + 0.0003), (r * 0.16, r * 0.06, 0.0006),
                    core, role="food", quat=quat_axis_angle((0, 0, 1), a))
        b.ellipsoid((r * 0.2 * math.cos(a), r * 0.2 * math.sin(a), thick + 0.0008), (r * 0.06, r * 0.035, 0.001),
                    (0.3, 0.18, 0.08), role="food", quat=quat_axis_angle((0, 0, 1), a))


@register("TomatoSliced")
def tomato_sliced(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    r = 0.035 * s
    skin = jitter(b.rng, choose(b.rng, TOMATO_SKINS), 0.05)
    flesh = jitter(b.rng, (0.95, 0.35, 0.3), 0.04)
    _slice_disc(b, r, 0.008, skin, flesh, 0.08)
    for k in range(4):  # seed chambers
        a = 2 * math.pi * k / 4 + 0.3
        b.ellipsoid((r * 0.45 * math.cos(a), r * 0.45 * math.sin(a), 0.0085), (r * 0.22, r * 0.14, 0.0008),
                    (0.95, 0.75, 0.35), role="food", quat=quat_axis_angle((0, 0, 1), a))


@register("PotatoSliced")
def potato_sliced(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    skin = jitter(b.rng, choose(b.rng, POTATO_SKINS), 0.05)
    flesh = jitter(b.rng, (0.96, 0.92, 0.7), 0.03)
    rx, ry, t = 0.04 * s, 0.03 * s, 0.008
    b.ellipsoid((0, 0, t / 2), (rx, ry, t / 2), skin, role="food")
    b.ellipsoid((0, 0, t / 2 + 0.0005), (rx * 0.92, ry * 0.9, t / 2), flesh, role="food")


@register("LettuceSliced")
def lettuce_sliced(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    green = choose(b.rng, LETTUCE)
    for k in range(3):  # a few crinkled leaf layers
        a = b.rng.uniform(0, math.pi)
        b.ellipsoid((b.rng.uniform(-0.01, 0.01), b.rng.uniform(-0.01, 0.01), 0.004 + 0.004 * k),
                    (0.045 * s, 0.03 * s, 0.004), jitter(b.rng, green, 0.08), role="food", texture="leaf",
                    quat=quat_axis_angle((0, 0, 1), a))
    b.box((0, 0, 0.016), (0.03 * s, 0.004, 0.002), (0.9, 0.95, 0.8), role="food")  # pale rib


@register("BreadSliced")
def bread_sliced(b: ShapeBuilder, size):
    s = scale_from(b.rng, size)
    crust = jitter(b.rng, choose(b.rng, CRUST), 0.04)
    crumb = jitter(b.rng, choose(b.rng, CRUMB), 0.03)
    w, t = 0.055 * s, 0.006
    # Lying flat: square body plus a rounded top, crust rim around a paler face.
    b.box((0, -w * 0.15, t), (w, w * 0.85, t * 0.9), crust, role="food")
    b.cylinder((0, w * 0.45, t), w * 0.75, t * 0.9, crust, role="food")
    b.box((0, -w * 0.15, t), (w * 0.9, w * 0.75, t), crumb, role="food", texture="noise")
    b.cylinder((0, w * 0.45, t), w * 0.67, t, crumb, role="food", texture="noise")
