"""ShapeSpec -> MJCF text, the texture/material catalogue, and a small offscreen preview renderer.

Follows the MJCF modelling reference (mujoco.readthedocs.io, "XML Reference": ``body``, ``geom``, ``joint``,
``texture``, ``material``). Colour rule, checked in tests/test_shapes.py: when a geom references a material, MuJoCo
draws texture colour x geom rgba, unless the geom rgba is left at its default (0.5, 0.5, 0.5, 1), in which case the
material's own rgba is used instead. Our materials are white with grey-scale textures, so each instance's geom rgba
sets its hue and the texture only adds pattern; ``shapes.rgba`` nudges the default grey so it is never mistaken for
"unset".
"""

from __future__ import annotations

import math
from xml.sax.saxutils import quoteattr

import numpy as np

from .shapes import Link, ShapeSpec, quat_axis_angle

# Each entry: attributes of a builtin <texture> (None = untextured material) and of its <material>.
# Textures are grey-scale so the geom rgba colours them; "cube" textures wrap every primitive type.
TEXTURES: dict[str, dict] = {
    "plain": {"texture": None, "material": {"specular": "0.2", "shininess": "0.3"}},
    "glossy": {"texture": None, "material": {"specular": "0.7", "shininess": "0.8", "reflectance": "0.05"}},
    "metal": {"texture": {"type": "cube", "builtin": "gradient", "rgb1": "1 1 1", "rgb2": "0.72 0.72 0.74",
                          "width": "64", "height": "64"},
              "material": {"specular": "0.9", "shininess": "0.9", "reflectance": "0.1"}},
    # Wood: a low-contrast fine speckle. (A stretched builtin checker was tried for grain, but cube textures repeat it
    # as 2x2 blotches per face, which read as a chequerboard at room scale.)
    "wood": {"texture": {"type": "cube", "builtin": "flat", "mark": "random", "random": "0.3", "rgb1": "1 1 1",
                         "rgb2": "1 1 1", "markrgb": "0.88 0.86 0.84", "width": "128", "height": "128"},
             "material": {"specular": "0.15", "shininess": "0.2"}},
    "wood_dark": {"texture": {"type": "cube", "builtin": "flat", "mark": "random", "random": "0.35", "rgb1": "1 1 1",
                              "rgb2": "1 1 1", "markrgb": "0.8 0.78 0.76", "width": "128", "height": "128"},
                  "material": {"specular": "0.25", "shininess": "0.35"}},
    "fabric": {"texture": {"type": "cube", "builtin": "flat", "mark": "random", "random": "0.3", "rgb1": "1 1 1",
                           "rgb2": "1 1 1", "markrgb": "0.8 0.8 0.8", "width": "256", "height": "256"},
               "material": {"specular": "0.02", "shininess": "0.05"}},
    "marble": {"texture": {"type": "cube", "builtin": "flat", "mark": "random", "random": "0.08", "rgb1": "1 1 1",
                           "rgb2": "1 1 1", "markrgb": "0.55 0.55 0.58", "width": "128", "height": "128"},
               "material": {"specular": "0.5", "shininess": "0.6", "reflectance": "0.05"}},
    "noise": {"texture": {"type": "cube", "builtin": "flat", "mark": "random", "random": "0.35", "rgb1": "1 1 1",
                          "rgb2": "1 1 1", "markrgb": "0.75 0.75 0.75", "width": "64", "height": "64"},
              "material": {"specular": "0.1", "shininess": "0.1"}},
    "tiles": {"texture": {"type": "2d", "builtin": "checker", "mark": "edge", "rgb1": "1 1 1", "rgb2": "0.9 0.9 0.9",
                          "markrgb": "0.55 0.55 0.55", "width": "64", "height": "64"},
              "material": {"texrepeat": "6 6", "specular": "0.4", "shininess": "0.5"}},
    "stripes": {"texture": {"type": "2d", "builtin": "checker", "rgb1": "1 1 1", "rgb2": "0.65 0.65 0.65",
                            "width": "16", "height": "512"},
                "material": {"texrepeat": "1 6", "specular": "0.1", "shininess": "0.1"}},
    "checker": {"texture": {"type": "2d", "builtin": "checker", "rgb1": "1 1 1", "rgb2": "0.72 0.72 0.72",
                            "width": "64", "height": "64"},
                "material": {"texrepeat": "5 5", "specular": "0.1", "shininess": "0.1"}},
    "paper": {"texture": {"type": "cube", "builtin": "flat", "mark": "random", "random": "0.05", "rgb1": "1 1 1",
                          "rgb2": "1 1 1", "markrgb": "0.85 0.85 0.85", "width": "64", "height": "64"},
              "material": {"specular": "0.02", "shininess": "0.02"}},
    "edge": {"texture": {"type": "cube", "builtin": "flat", "mark": "edge", "rgb1": "1 1 1", "rgb2": "1 1 1",
                         "markrgb": "0.6 0.6 0.6", "width": "64", "height": "64"},
             "material": {"specular": "0.2", "shininess": "0.3"}},
    "leaf": {"texture": {"type": "cube", "builtin": "gradient", "rgb1": "1 1 1", "rgb2": "0.7 0.75 0.7",
                         "width": "32", "height": "32", "mark": "random", "random": "0.1", "markrgb": "0.85 0.9 0.85"},
             "material": {"specular": "0.3", "shininess": "0.4"}},
    "glass": {"texture": None, "material": {"specular": "1", "shininess": "1", "reflectance": "0.2"}},
}


def _attrs(attributes: dict) -> str:
    return " ".join(f"{k}={quoteattr(str(v))}" for k, v in attributes.items())


def _vec(values) -> str:
    return " ".join(f"{float(v):.6g}" for v in values)


def assets_xml(rng: np.random.Generator | None = None) -> str:
    """The ``<texture>``/``<material>`` elements of the catalogue (materials ``mat_<key>``, textures ``tex_<key>``),
    to go inside ``<asset>``. With ``rng`` the random-mark seeds vary, so two worlds get different speckles."""
    lines = []
    for key, entry in TEXTURES.items():
        material = {"name": f"mat_{key}", "rgba": "1 1 1 1", **entry["material"]}
        texture = entry["texture"]
        if texture is not None:
            texture = dict(texture)
            if rng is not None and texture.get("mark") == "random":
                texture["random"] = f"{float(texture['random']) * rng.uniform(0.8, 1.2):.3f}"
            lines.append(f'<texture name="tex_{key}" {_attrs(texture)}/>')
            material["texture"] = f"tex_{key}"
            if texture.get("type") == "2d":
                material.setdefault("texuniform", "false")
        lines.append(f"<material {_attrs(material)}/>")
    return "\n".join(lines)


def link_open_qpos(link: Link, openness: float) -> float:
    """Joint position for an openness in [0, 1] (0 closed, 1 = ``link.open_amount``)."""
    if not 0.0 <= float(openness) <= 1.0:
        raise ValueError(f"link_open_qpos: openness must be in [0, 1], got {openness!r} (link {link.name!r})")
    return float(openness) * link.open_amount


def _geom_xml(spec: ShapeSpec, body_name: str, index: int) -> str:
    part = spec.parts[index]
    if part.texture not in TEXTURES:
        raise KeyError(f"{spec.object_type} part {index}: texture {part.texture!r} not in mjcf.TEXTURES "
                       f"({', '.join(TEXTURES)})")
    attrs = {
        "name": f"{body_name}:{part.role}:{index}",
        "type": part.geom,
        "size": _vec(part.size),
        "pos": _vec(part.pos),
        "quat": _vec(part.quat),
        "rgba": _vec(part.rgba),
        "material": f"mat_{part.texture}",
        "contype": "0",
        "conaffinity": "0",
        "group": "0",
    }
    return f"<geom {_attrs(attrs)}/>"


def body_xml(spec: ShapeSpec, body_name: str, pos: tuple, yaw_deg: float, mocap: bool,
             compiler_angle: str = "degree") -> str:
    """An MJCF ``<body>`` for one object at world ``pos`` (object-frame origin), yawed ``yaw_deg`` about +z.

    Links become child bodies ``{body_name}/{link}`` whose frame equals the object frame, each with one joint of the
    same name; setting its qpos to ``link.open_amount`` opens it. ``compiler_angle`` must match the world's
    ``<compiler angle=...>`` (MuJoCo's default is degrees), since joint ranges are written in that unit.
    """
    if compiler_angle not in ("degree", "radian"):
        raise ValueError(f"body_xml: compiler_angle must be 'degree' or 'radian', got {compiler_angle!r}")
    if len(pos) != 3:
        raise ValueError(f"body_xml: pos must be (x, y, z), got {pos!r}")
    link_names = {link.name for link in spec.links}
    for i, part in enumerate(spec.parts):
        if part.link != "base" and part.link not in link_names:
            raise ValueError(f"{spec.object_type} part {i}: link {part.link!r} is not one of {sorted(link_names)}")
    quat = quat_axis_angle((0, 0, 1), math.radians(float(yaw_deg)))
    head = {"name": body_name, "pos": _vec(pos), "quat": _vec(quat)}
    if mocap:
        head["mocap"] = "true"
    lines = [f"<body {_attrs(head)}>"]
    lines += [_geom_xml(spec, body_name, i) for i, p in enumerate(spec.parts) if p.link == "base"]
    for link in spec.links:
        lo, hi = sorted((0.0, link.open_amount))
        if link.joint == "hinge" and compiler_angle == "degree":
            lo, hi = math.degrees(lo), math.degrees(hi)
        joint = {"name": f"{body_name}/{link.name}", "type": link.joint, "axis": _vec(link.axis),
                 "pos": _vec(link.anchor), "range": _vec((lo, hi)), "limited": "true"}
        lines.append(f'<body name="{body_name}/{link.name}">')
        lines.append(f"<joint {_attrs(joint)}/>")
        lines += [_geom_xml(spec, body_name, i) for i, p in enumerate(spec.parts) if p.link == link.name]
        lines.append("</body>")
    lines.append("</body>")
    return "\n".join(lines)


def world_xml(bodies: list[str], floor_rgba=(0.82, 0.80, 0.76, 1.0), rng=None) -> str:
    """A minimal world (floor, lights, assets) around pre-built ``body_xml`` strings; used by tests and previews."""
    return f"""<mujoco model="shapes">
<compiler angle="degree"/>
<visual><headlight ambient="0.35 0.35 0.35" diffuse="0.5 0.5 0.5" specular="0.1 0.1 0.1"/>
<quality shadowsize="2048"/><map znear="0.0005" zfar="60"/><global offwidth="2400" offheight="2400"/></visual>
<asset>
{assets_xml(rng)}
<texture name="tex_floor" type="2d" builtin="checker" rgb1="1 1 1" rgb2="0.9 0.9 0.9" width="64" height="64"/>
<material name="mat_floor" texture="tex_floor" texrepeat="400 400"/>
</asset>
<worldbody>
<light name="sun" pos="0 0 8" dir="0.2 0.3 -1" directional="true" diffuse="0.6 0.6 0.6" castshadow="false"/>
<light name="fill" pos="3 6 5" dir="-0.3 -0.6 -0.7" directional="true" diffuse="0.25 0.25 0.25" castshadow="false"/>
<geom name="floor" type="plane" size="400 400 0.1" material="mat_floor" rgba="{_vec(floor_rgba)}"
 contype="0" conaffinity="0"/>
{chr(10).join(bodies)}
</worldbody>
</mujoco>"""


def render_grid(cells: list[tuple[ShapeSpec, dict]], columns: int = 6, cell_px: int = 220,
                spacing: float | None = None) -> np.ndarray:
    """Render instances in a grid, one camera view per cell, and tile the views into one RGB image.

    ``cells`` holds (spec, state) pairs; state keys: ``openness`` (0..1, all links), ``filled``, ``dirty``,
    ``toggled``, ``broken``, ``cooked`` — each shows or restyles the parts of the matching role the way the
    simulator will, so a person can check them.
    """
    import mujoco

    if not cells:
        raise ValueError("render_grid: no cells to render")
    largest = max(max(spec.half_extents) for spec, _ in cells)
    spacing = spacing or max(1.0, 4.5 * largest)
    bodies, centres = [], []
    for k, (spec, state) in enumerate(cells):
        styled = styled_for_state(spec, state)
        x = (k % columns) * spacing
        y = -(k // columns) * spacing
        bodies.append(body_xml(styled, f"obj{k}", (x, y, 0.0), state.get("yaw", -25.0), mocap=True))
        centres.append((x, y, spec))
    model = mujoco.MjModel.from_xml_string(world_xml(bodies))
    data = mujoco.MjData(model)
    for k, (spec, state) in enumerate(cells):
        for link in spec.links:
            jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"obj{k}/{link.name}")
            data.qpos[model.jnt_qposadr[jid]] = link_open_qpos(link, state.get("openness", 0.0))
    mujoco.mj_kinematics(model, data)
    renderer = mujoco.Renderer(model, cell_px, cell_px)
    rows = (len(cells) + columns - 1) // columns
    sheet = np.full((rows * cell_px, columns * cell_px, 3), 255, dtype=np.uint8)
    for k, (x, y, spec) in enumerate(centres):
        hx, hy, hz = spec.half_extents
        camera = mujoco.MjvCamera()
        camera.lookat[:] = (x, y, hz)
        camera.distance = 3.4 * max(hx, hy, hz) + 0.03
        camera.azimuth = -90.0  # looking along -y, at the object's front
        camera.elevation = -25.0
        renderer.update_scene(data, camera)
        r, c = divmod(k, columns)
        sheet[r * cell_px:(r + 1) * cell_px, c * cell_px:(c + 1) * cell_px] = renderer.render()
    renderer.close()
    return sheet


STATE_COLOURS = {
    "liquid": (0.35, 0.55, 0.85, 0.85),
    "dirt": (0.42, 0.33, 0.22, 1.0),
    "stream": (0.6, 0.75, 0.95, 0.7),
    "broken": (0.1, 0.1, 0.1, 1.0),
    "flame": (1.0, 0.65, 0.15, 1.0),
    "glow_on": (1.0, 0.35, 0.1, 1.0),
    "screen_on": (0.55, 0.75, 0.95, 1.0),
    "screen_off": (0.03, 0.03, 0.04, 1.0),
}


def styled_for_state(spec: ShapeSpec, state: dict) -> ShapeSpec:
    """A preview-only stand-in for the simulator's restyling: hides the parts whose role is off in ``state``,
    recolours glow/screen/food parts and makes the rest opaque. The simulator core (``renderer.py``) owns the real
    rules; this only makes previews honest."""
    from dataclasses import replace

    shown = {"liquid": state.get("filled", False), "dirt": state.get("dirty", False),
             "stream": state.get("toggled", False), "broken": state.get("broken", False),
             "flame": state.get("toggled", False)}
    parts = []
    for part in spec.parts:
        if part.role in shown:
            if not shown[part.role]:
                # Keep indices stable for geom names: a hidden part becomes fully transparent.
                parts.append(replace(part, rgba=part.rgba[:3] + (0.0,)))
                continue
            if part.role in STATE_COLOURS and part.role != "dirt":
                part = replace(part, rgba=STATE_COLOURS[part.role])
        elif part.role == "glow" and state.get("toggled"):
            part = replace(part, rgba=STATE_COLOURS["glow_on"])
        elif part.role == "screen":
            part = replace(part, rgba=STATE_COLOURS["screen_on" if state.get("toggled") else "screen_off"])
        elif part.role == "food" and state.get("cooked"):
            part = replace(part, rgba=tuple(c * 0.55 for c in part.rgba[:3]) + part.rgba[3:])
        # The simulator draws every shown geom opaque (translucent geoms do not write depth), so previews do too.
        parts.append(replace(part, rgba=part.rgba[:3] + (1.0,)))
    return ShapeSpec(spec.object_type, parts, spec.links, spec.surfaces, spec.half_extents)
