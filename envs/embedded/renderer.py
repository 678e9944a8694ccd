"""MuJoCo rendering of an embedded scene: RGB, planar depth (metres) and per-pixel instance ids.

MuJoCo is used for drawing only (no dynamics): every object is a mocap body posed from the logical world each step,
doors/drawers/lids are joints whose positions come from ``openness``, and object states restyle geoms by their role
(``shapes.ROLES``: liquid shown when filled, dirt when dirty, glowing burners when on, ...). One colour render yields
RGB and depth together; a second, segmentation render (MuJoCo's ``mjRND_SEGMENT``/``mjRND_IDCOLOR``) yields which geom
covers each pixel, mapped to the object that owns it. Depth is the camera-space z of the hit (planar), as AI2-THOR's
depth shader returns; the conversion from the reversed-Z depth buffer is derived in :func:`_buffer_to_metres`.
"""

from __future__ import annotations

import math

import mujoco  # MUJOCO_GL is set by this package's __init__
import numpy as np

from .geometry import mat_to_quat
from .layout import Scene
from .mjcf import STATE_COLOURS, assets_xml, body_xml

Z_NEAR = 0.05
Z_FAR = 30.0
# Tessellation of MuJoCo's primitives (its defaults: 28 slices, 16 stacks, 4 x 4 quads per box face; ours until
# 2026-11-30: 16, 8, 4). On a CPU rasteriser triangles are the cost of a frame. Fewer slices and stacks do not change
# the picture at 300x300 (mean |RGB difference| 0.02 / 255); box faces need some subdivision because MuJoCo lights per
# vertex, so a wall drawn as one quad loses the falloff of the room's point lights (19.5 / 255 with 1 quad, 3.8 with
# 2). Depth and segmentation follow the same triangles in every pass. Figures: ``python -m bench.render_compare``.
NUM_SLICES, NUM_STACKS, NUM_QUADS = 12, 6, 2
ROLE_CODES = {"body": 0, "food": 1, "liquid": 2, "dirt": 3, "stream": 4, "glow": 5, "screen": 6, "broken": 7, "flame": 8}
LIQUID_COLOURS = {"water": (0.45, 0.62, 0.86, 0.85), "coffee": (0.3, 0.17, 0.08, 1.0), "wine": (0.45, 0.05, 0.12, 0.95)}
FLOOR_STYLE = {"Kitchen": ("tiles", (0.85, 0.83, 0.8)), "LivingRoom": ("wood", (0.62, 0.45, 0.3)),
               "Bedroom": ("wood", (0.7, 0.55, 0.4)), "Bathroom": ("tiles", (0.88, 0.9, 0.92))}


def _buffer_to_metres(buffer: np.ndarray, near: float, far: float) -> np.ndarray:
    """Reversed-Z window depth w (1 at the near plane, 0 at the far plane) -> eye-space distance z.

    With the OpenGL perspective projection, w = n (f - z) / ((f - n) z), hence z = n f / (w (f - n) + n).
    """
    w = buffer.astype(np.float64)
    return (near * far / (w * (far - near) + near)).astype(np.float32)


class SceneRenderer:
    def __init__(self, scene: Scene, width: int, height: int, fov: float):
        self.scene, self.width, self.height, self.fov = scene, width, height, fov
        self.culling = True  # skip objects wholly outside the view; benchmarks switch it off for a bare render
        objects = list(scene.world.objects.values())
        self.object_ids = [o.object_id for o in objects]
        self.body_of: dict[int, int] = {}
        xml = self._xml(objects)
        self.model = mujoco.MjModel.from_xml_string(xml)
        self.data = mujoco.MjData(self.model)
        self._index_geoms(objects)
        self._gl = mujoco.GLContext(width, height)
        self._gl.make_current()
        self._context = mujoco.MjrContext(self.model, mujoco.mjtFontScale.mjFONTSCALE_100)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._context)
        self._context.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR
        self._scene = mujoco.MjvScene(self.model, maxgeom=max(1000, 2 * self.model.ngeom))
        self._option = mujoco.MjvOption()
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._camera.fixedcamid = 0
        self._viewport = mujoco.MjrRect(0, 0, width, height)
        self._rgb = np.empty((height, width, 3), dtype=np.uint8)
        self._seg = np.empty((height, width, 3), dtype=np.uint8)
        self._depth = np.empty((height, width), dtype=np.float32)
        extent = self.model.stat.extent
        self._near, self._far = self.model.vis.map.znear * extent, self.model.vis.map.zfar * extent

    # --- model ---------------------------------------------------------------------------------------------------------
    def _xml(self, objects) -> str:
        s = self.scene
        rng = np.random.default_rng(s.seed)
        floor_tex, floor_rgb = FLOOR_STYLE[s.kind]
        floor_rgb = np.clip(np.array(floor_rgb) * rng.uniform(0.8, 1.1, 3), 0, 1)
        bodies = []
        for i, o in enumerate(objects):
            o.body = f"o{i}"
            spec = o.shape
            body = body_xml(spec, o.body, (0.0, 0.0, -50.0), 0.0, mocap=True, compiler_angle="radian")
            if o.object_type == "Floor":
                hx, hy = spec.half_extents[0], spec.half_extents[1]
                floor = (f'<geom name="{o.body}:body:floor" type="box" size="{hx} {hy} 0.01" pos="0 0 -0.01" '
                         f'material="mat_{floor_tex}" rgba="{floor_rgb[0]:.3f} {floor_rgb[1]:.3f} {floor_rgb[2]:.3f} 1" '
                         f'contype="0" conaffinity="0"/>')
                body = body.replace("</body>", floor + "\n</body>", 1) if body.count("</body>") == 1 else body
                if f"{o.body}:body:floor" not in body:
                    raise AssertionError("floor body must have no links")
            bodies.append(body)
        structures = "\n".join(
            f'<geom name="s:{st.name}" type="box" pos="{st.center[0]:.4f} {st.center[1]:.4f} {st.center[2]:.4f}" '
            f'size="{st.half[0]:.4f} {st.half[1]:.4f} {st.half[2]:.4f}" rgba="{st.rgba[0]:.3f} {st.rgba[1]:.3f} '
            f'{st.rgba[2]:.3f} 1" material="mat_{st.texture}" contype="0" conaffinity="0"/>'
            for st in s.structures)
        lights = "\n".join(
            f'<light pos="{lt["pos"][0]:.3f} {lt["pos"][1]:.3f} {lt["pos"][2]:.3f}" dir="0 0 -1" directional="false" '
            f'diffuse="{lt["diffuse"][0]:.3f} {lt["diffuse"][1]:.3f} {lt["diffuse"][2]:.3f}" attenuation="1 0.05 0" '
            f'cutoff="120" exponent="1" castshadow="false"/>'
            for lt in s.lights)
        ambient = rng.uniform(0.18, 0.3)
        return f"""<mujoco model="{s.name}">
<compiler angle="radian"/>
<statistic extent="1" center="0 0 0"/>
<visual>
<global offwidth="{self.width}" offheight="{self.height}"/>
<map znear="{Z_NEAR}" zfar="{Z_FAR}"/>
<quality shadowsize="0" offsamples="0" numslices="{NUM_SLICES}" numstacks="{NUM_STACKS}" numquads="{NUM_QUADS}"/>
<headlight ambient="{ambient:.3f} {ambient:.3f} {ambient:.3f}" diffuse="0.22 0.22 0.22" specular="0.05 0.05 0.05"/>
</visual>
<asset>
{assets_xml(rng)}
</asset>
<worldbody>
{lights}
<camera name="agent" pos="0 0 1.5" fovy="{self.fov}"/>
{structures}
{chr(10).join(bodies)}
</worldbody>
</mujoco>"""

    def _index_geoms(self, objects) -> None:
        m = self.model
        index_of_body = {o.body: i for i, o in enumerate(objects)}
        self.geom_object = np.full(m.ngeom, -1, dtype=np.int64)
        self.geom_role = np.zeros(m.ngeom, dtype=np.int64)
        structure_names = []
        for g in range(m.ngeom):
            name = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, g) or ""
            if name.startswith("s:"):
                structure_names.append(name[2:])
                self.geom_object[g] = len(objects) + len(structure_names) - 1
                continue
            body, role, _ = name.split(":")
            self.geom_object[g] = index_of_body[body]
            self.geom_role[g] = ROLE_CODES.get(role, 0)
        self.instance_names = self.object_ids + structure_names
        self.base_rgba = m.geom_rgba.copy()
        self.mocap_of = np.array([m.body_mocapid[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, o.body)]
                                  for o in objects])
        self.joints = []  # (object index, link, qpos address)
        for i, o in enumerate(objects):
            for link in o.shape.links:
                jid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, f"{o.body}/{link.name}")
                self.joints.append((i, link, m.jnt_qposadr[jid]))
        self.n_objects = len(objects)

    # --- per step --------------------------------------------------------------------------------------------------
    def sync(self, world) -> None:
        objects = [world.objects[oid] for oid in self.object_ids]
        m, d = self.model, self.data
        for i, o in enumerate(objects):
            t = world.pose(o)
            d.mocap_pos[self.mocap_of[i]] = t[:3, 3]
            d.mocap_quat[self.mocap_of[i]] = mat_to_quat(t[:3, :3])
        for i, link, adr in self.joints:
            d.qpos[adr] = link.open_amount * objects[i].openness
        cam = world.agent.camera_to_world()
        culled = self._outside_view(world, objects, cam) if self.culling else np.zeros(len(objects), dtype=bool)
        self._restyle(objects, culled)
        r_mj = cam[:3, :3] @ np.diag([1.0, -1.0, -1.0])  # OpenCV camera axes -> MuJoCo's (looks along -z, y up)
        m.cam_pos[0] = cam[:3, 3]
        m.cam_quat[0] = mat_to_quat(r_mj)
        m.cam_fovy[0] = self.fov
        mujoco.mj_kinematics(m, d)
        mujoco.mj_camlight(m, d)

    def _outside_view(self, world, objects, cam: np.ndarray) -> np.ndarray:
        """Objects whose bounding box lies wholly outside the view frustum: not drawn (OpenGL would clip them anyway,
        after paying for their triangles), which roughly halves the drawing time in a furnished room."""
        boxes = np.array([np.concatenate(world.aabb(o)) for o in objects])
        lo, hi = boxes[:, :3], boxes[:, 3:]
        corners = np.stack([np.where(np.array(bits, dtype=bool), hi, lo) for bits in np.ndindex(2, 2, 2)], axis=1)
        local = (corners - cam[:3, 3]) @ cam[:3, :3]  # OpenCV camera frame: x right, y down, z forward
        z = local[..., 2]
        tan_y = math.tan(math.radians(self.fov) / 2.0)
        tan_x = tan_y * self.width / self.height
        behind = np.all(z <= Z_NEAR, axis=1)
        zc = np.maximum(z, 1e-6)
        left = np.all((local[..., 0] < -tan_x * zc) & (z > 0) | (z <= 0) & (local[..., 0] < 0), axis=1)
        right = np.all((local[..., 0] > tan_x * zc) & (z > 0) | (z <= 0) & (local[..., 0] > 0), axis=1)
        up = np.all((local[..., 1] < -tan_y * zc) & (z > 0) | (z <= 0) & (local[..., 1] < 0), axis=1)
        down = np.all((local[..., 1] > tan_y * zc) & (z > 0) | (z <= 0) & (local[..., 1] > 0), axis=1)
        return behind | left | right | up | down

    def _restyle(self, objects, culled: np.ndarray) -> None:
        n = self.n_objects
        hidden = np.array([o.disabled or not o.in_world for o in objects] + [False] * (len(self.instance_names) - n))
        hidden[:n] |= culled
        flags = {
            "filled": np.array([o.is_filled for o in objects]),
            "dirty": np.array([o.is_dirty for o in objects]),
            "on": np.array([o.is_toggled for o in objects]),
            "cooked": np.array([o.is_cooked for o in objects]),
            "broken": np.array([o.is_broken for o in objects]),
        }
        owner = self.geom_object
        is_obj = owner < n
        safe = np.where(is_obj, owner, 0)

        def per_geom(flag):
            return np.where(is_obj, flags[flag][safe], False)

        rgba = self.base_rgba.copy()
        role = self.geom_role
        show = ~hidden[owner]
        show &= ~((role == ROLE_CODES["liquid"]) & ~per_geom("filled"))
        show &= ~((role == ROLE_CODES["dirt"]) & ~per_geom("dirty"))
        show &= ~((role == ROLE_CODES["stream"]) & ~per_geom("on"))
        show &= ~((role == ROLE_CODES["flame"]) & ~per_geom("on"))
        show &= ~((role == ROLE_CODES["broken"]) & ~per_geom("broken"))
        liquid = np.nonzero((role == ROLE_CODES["liquid"]) & show)[0]
        for g in liquid:
            if objects[owner[g]].object_type == "HousePlant":
                continue  # a watered plant shows wet dark soil, its own colour
            rgba[g] = LIQUID_COLOURS.get(objects[owner[g]].fill_liquid or "water", LIQUID_COLOURS["water"])
        glow_on = (role == ROLE_CODES["glow"]) & per_geom("on")
        rgba[glow_on] = STATE_COLOURS["glow_on"]
        screen = role == ROLE_CODES["screen"]
        rgba[screen & per_geom("on")] = STATE_COLOURS["screen_on"]
        rgba[screen & ~per_geom("on")] = STATE_COLOURS["screen_off"]
        cooked = (role == ROLE_CODES["food"]) & per_geom("cooked")
        rgba[cooked, :3] = rgba[cooked, :3] * np.array([0.62, 0.45, 0.3])
        # Everything drawn is opaque: MuJoCo draws translucent geoms without writing depth, which would let depth and
        # segmentation disagree (a glass cup labelled in segmentation but the wall behind it in depth).
        rgba[:, 3] = 1.0
        rgba[~show, 3] = 0.0
        self.model.geom_rgba[:] = rgba

    def render(self):
        """(rgb (H, W, 3) uint8, depth (H, W) float32 metres, instance index (H, W) int64, -1 = none)."""
        self._gl.make_current()
        mujoco.mjv_updateScene(self.model, self.data, self._option, None, self._camera,
                               mujoco.mjtCatBit.mjCAT_ALL, self._scene)
        mujoco.mjr_render(self._viewport, self._scene, self._context)
        mujoco.mjr_readPixels(self._rgb, self._depth, self._viewport, self._context)
        rgb = np.flipud(self._rgb).copy()
        depth = _buffer_to_metres(np.flipud(self._depth), self._near, self._far)
        instance = self._segment()
        depth[instance < 0] = np.where(depth[instance < 0] >= self._far * 0.999, 0.0, depth[instance < 0])
        return rgb, depth, instance

    def _segment(self) -> np.ndarray:
        scene = self._scene
        scene.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = True
        scene.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = True
        try:
            mujoco.mjr_render(self._viewport, scene, self._context)
            mujoco.mjr_readPixels(self._seg, None, self._viewport, self._context)
        finally:
            scene.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = False
            scene.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = False
        seg = np.flipud(self._seg).astype(np.int64)
        segid = seg[..., 0] + (seg[..., 1] << 8) + (seg[..., 2] << 16)
        ngeom = scene.ngeom
        table = np.full(ngeom + 1, -1, dtype=np.int64)
        geom_type = int(mujoco.mjtObj.mjOBJ_GEOM)
        geoms = scene.geoms
        hits = [(g.segid + 1, g.objid) for g in geoms[:ngeom] if g.objtype == geom_type and g.segid >= 0]
        if hits:
            rows, geom_ids = np.array(hits, dtype=np.int64).T
            table[rows] = self.geom_object[geom_ids]
        segid = np.clip(segid, 0, ngeom)
        return table[segid]

    def close(self) -> None:
        if getattr(self, "_context", None) is not None:
            self._context.free()
            self._context = None
        if getattr(self, "_gl", None) is not None:
            self._gl.free()
            self._gl = None
