"""Small rigid-transform helpers for the embedded world (right-handed z-up frame, yaw about +z, counter-clockwise).

AI2-THOR's yaw ``rotation.y`` is clockwise seen from above in a left-handed y-up frame; an object frame (front = +y)
with thor ``rotation.y`` = r has z-up yaw -r. :func:`object_yaw_from_thor` and back are the only places that know this.
"""

from __future__ import annotations

import math

import numpy as np


def object_yaw_from_thor(rotation_y_deg: float) -> float:
    """Object frames face +y; an object with thor rotation.y = 0 faces +z_thor = +y_zup, i.e. zup yaw 0."""
    return -math.radians(rotation_y_deg)


def object_yaw_to_thor(yaw_rad: float) -> float:
    return wrap_degrees(-math.degrees(yaw_rad))


def wrap_degrees(angle: float) -> float:
    """``angle`` in [0, 360), as AI2-THOR reports rotations. Rounded to 1e-6 degrees (the precision of a saved state)
    first, so float noise around a whole turn (-1e-15 % 360 is 360.0) comes back as 0.0 and 90.00000000000001 as
    90.0."""
    return round(angle % 360.0, 6) % 360.0


def rot_z(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def transform(pos, yaw: float = 0.0) -> np.ndarray:
    t = np.eye(4)
    t[:3, :3] = rot_z(yaw)
    t[:3, 3] = pos
    return t


def axis_angle(axis, angle: float) -> np.ndarray:
    """Rotation matrix about a unit ``axis`` by ``angle`` radians (Rodrigues)."""
    a = np.asarray(axis, dtype=float)
    a = a / np.linalg.norm(a)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)


def link_transform(joint: str, axis, anchor, amount: float) -> np.ndarray:
    """Transform of a link relative to its object when its joint is at ``amount`` (radians or metres)."""
    t = np.eye(4)
    if amount == 0.0:
        return t
    if joint == "slide":
        t[:3, 3] = np.asarray(axis, dtype=float) * amount
    elif joint == "hinge":
        r = axis_angle(axis, amount)
        anchor = np.asarray(anchor, dtype=float)
        t[:3, :3] = r
        t[:3, 3] = anchor - r @ anchor
    else:
        raise ValueError(f"unknown joint kind {joint!r}")
    return t


def yaw_of(t: np.ndarray) -> float:
    return math.atan2(t[1, 0], t[0, 0])


def mat_to_quat(r: np.ndarray) -> np.ndarray:
    """Rotation matrix -> unit quaternion (w, x, y, z)."""
    m = r
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    if tr > 0:
        s = math.sqrt(tr + 1.0) * 2
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    q = np.array(q)
    return q / np.linalg.norm(q)


def footprint(half_extents, yaw: float) -> np.ndarray:
    """Half sizes (hx, hy) of the axis-aligned footprint of a box with ``half_extents`` rotated by ``yaw``."""
    c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
    hx, hy = half_extents[0], half_extents[1]
    return np.array([c * hx + s * hy, s * hx + c * hy])


def rects_overlap(c1, h1, c2, h2, margin: float = 0.0) -> bool:
    return bool(abs(c1[0] - c2[0]) < h1[0] + h2[0] + margin and abs(c1[1] - c2[1]) < h1[1] + h2[1] + margin)
