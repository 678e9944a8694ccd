"""The shape library: every type builds, stays inside its box, is deterministic and varied, compiles to MJCF, opens
its links, and carries the roles the simulator's state rendering needs."""

import math

import mujoco  # MUJOCO_GL: set by envs.embedded, which conftest.py imports first
import numpy as np
import pytest

from envs.embedded import mjcf
from envs.embedded.shapes import ROLES, GEOMS, ShapeSpec, make_shape, part_aabb, rgba, supported_types

TYPES = supported_types()
SEEDS = (0, 1, 2)
TOL = 1e-6

FILLABLE = ["Mug", "Cup", "Bowl", "Pot", "Kettle", "Bottle", "WineBottle", "WateringCan", "HousePlant"]
DIRTYABLE = ["Mug", "Cup", "Bowl", "Plate", "Pot", "Pan", "Bed", "Cloth", "Mirror"]
BREAKABLE = ["Bottle", "Bowl", "CellPhone", "Cup", "Egg", "Laptop", "Mirror", "Mug", "Plate", "Statue", "Television",
             "Vase", "Window", "WineBottle"]
COOKABLE = ["Apple", "Bread", "Lettuce", "Potato", "Tomato", "Egg", "AppleSliced", "BreadSliced", "LettuceSliced",
            "PotatoSliced", "TomatoSliced", "EggCracked"]
ENCLOSING = ["Cabinet", "Drawer", "Fridge", "Microwave", "Box", "Safe"]


@pytest.fixture(scope="module")
def specs() -> dict[str, list[ShapeSpec]]:
    return {t: [make_shape(t, np.random.default_rng(seed)) for seed in SEEDS] for t in TYPES}


def test_all_listed_types_are_supported():
    required = {"CounterTop", "Cabinet", "Drawer", "Fridge", "Microwave", "StoveBurner", "StoveKnob", "Toaster",
                "CoffeeMachine", "Sink", "SinkBasin", "Faucet", "DiningTable", "Bed", "Toilet", "Television", "Window",
                "Laptop", "Book", "Candle", "CellPhone", *FILLABLE, *DIRTYABLE, *COOKABLE}
    assert required <= set(TYPES)
    assert TYPES == sorted(TYPES)


def test_parts_are_valid_geoms_inside_the_box(specs):
    for object_type, instances in specs.items():
        for spec in instances:
            hx, hy, hz = spec.half_extents
            assert min(hx, hy, hz) > 0.0, object_type
            link_names = {l.name for l in spec.links}
            for i, part in enumerate(spec.parts):
                where = f"{object_type} part {i}"
                assert part.geom in GEOMS, where
                assert part.role in ROLES, where
                assert part.texture in mjcf.TEXTURES, where
                assert part.link == "base" or part.link in link_names, where
                assert len(part.size) == {"box": 3, "ellipsoid": 3, "sphere": 1}.get(part.geom, 2), where
                assert all(s > 0 for s in part.size), where
                assert abs(np.linalg.norm(part.quat) - 1.0) < 1e-6, where
                assert len(part.rgba) == 4 and all(0.0 <= c <= 1.0 for c in part.rgba), where
                lo, hi = part_aabb(part)
                assert np.all(lo >= np.array([-hx, -hy, 0.0]) - TOL), where
                assert np.all(hi <= np.array([hx, hy, 2 * hz]) + TOL), where
            # The box is tight: something touches the floor and the top.
            los = np.min([part_aabb(p)[0] for p in spec.parts], axis=0)
            his = np.max([part_aabb(p)[1] for p in spec.parts], axis=0)
            assert abs(los[2]) < 1e-6 and abs(his[2] - 2 * hz) < 1e-6, object_type


def test_sizes_are_realistic(specs):
    """Metres, not centimetres: small things under half a metre, furniture between 0.3 and 3 m on its long side."""
    small = {"Mug": (0.05, 0.16), "Apple": (0.05, 0.12), "Fridge": (1.4, 2.1), "DiningTable": (0.75, 2.0),
             "Knife": (0.2, 0.4), "CellPhone": (0.12, 0.18), "Bed": (1.9, 2.3), "Toaster": (0.2, 0.38)}
    for object_type, (lo, hi) in small.items():
        for spec in specs[object_type]:
            longest = 2 * max(spec.half_extents)
            assert lo <= longest <= hi, (object_type, longest)


def test_same_seed_same_spec_and_seeds_vary(specs):
    varied = 0
    for object_type in TYPES:
        again = make_shape(object_type, np.random.default_rng(SEEDS[0]))
        assert again == specs[object_type][0], object_type
        a, b = specs[object_type][0], specs[object_type][1]
        if a.half_extents != b.half_extents and [p.rgba for p in a.parts] != [p.rgba for p in b.parts]:
            varied += 1
    assert varied >= 0.9 * len(TYPES)


def test_colour_alone_does_not_name_a_type(specs):
    """Across instances a type's main colour changes, so a segmenter must use shape."""
    varied = 0
    for object_type, instances in specs.items():
        more = instances + [make_shape(object_type, np.random.default_rng(s)) for s in range(3, 6)]
        main = [max(spec.parts, key=lambda p: np.prod(part_aabb(p)[1] - part_aabb(p)[0])).rgba for spec in more]
        spread = np.ptp(np.array(main)[:, :3], axis=0).max()
        varied += spread > 0.05
    assert varied >= 0.9 * len(TYPES)


def test_size_dict_sets_furniture_dimensions_and_bad_values_fail():
    spec = make_shape("Cabinet", np.random.default_rng(0), {"width": 0.5, "depth": 0.4, "height": 0.7})
    assert 2 * spec.half_extents[0] == pytest.approx(0.5, abs=0.01)
    assert 2 * spec.half_extents[2] == pytest.approx(0.7, abs=0.01)
    table = make_shape("DiningTable", np.random.default_rng(0), {"height": 0.74})
    assert 2 * table.half_extents[2] == pytest.approx(0.74, abs=1e-6)
    for seed in range(12):  # round or square, a table never outgrows the footprint the layout gave it
        table = make_shape("DiningTable", np.random.default_rng(seed), {"width": 1.4, "depth": 0.8})
        assert 2 * table.half_extents[0] <= 1.4 + 1e-6 and 2 * table.half_extents[1] <= 0.8 + 1e-6
    mug_big = make_shape("Mug", np.random.default_rng(0), {"scale": 1.3})
    mug_small = make_shape("Mug", np.random.default_rng(0), {"scale": 0.7})
    assert mug_big.half_extents[2] > mug_small.half_extents[2] * 1.5
    with pytest.raises(ValueError, match="width"):
        make_shape("Cabinet", np.random.default_rng(0), {"width": -1})
    with pytest.raises(ValueError, match="widht"):
        make_shape("Cabinet", np.random.default_rng(0), {"widht": 0.5})
    with pytest.raises(KeyError, match="Unicorn.*Mug"):
        make_shape("Unicorn", np.random.default_rng(0))


def test_surfaces_lie_in_the_box_and_enclosures_exist(specs):
    for object_type, instances in specs.items():
        for spec in instances:
            hx, hy, hz = spec.half_extents
            link_names = {l.name for l in spec.links}
            for surface in spec.surfaces:
                x, y, z = surface.center
                sx, sy = surface.half_size
                assert abs(x) + sx <= hx + 1e-3 and abs(y) + sy <= hy + 1e-3, object_type
                assert 0.0 <= z <= 2 * hz + 1e-6, object_type
                assert surface.clearance > 0, object_type
                assert surface.link == "base" or surface.link in link_names, object_type
                assert surface.opened_by == "" or surface.opened_by in link_names, object_type
    for object_type in ENCLOSING:
        for spec in specs[object_type]:
            enclosed = [s for s in spec.surfaces if s.enclosed]
            assert enclosed and all(s.opened_by for s in enclosed), object_type
    for spec in specs["Drawer"]:
        assert [s.link for s in spec.surfaces if s.enclosed] == ["drawer"]
    for object_type in ["CounterTop", "DiningTable", "Sofa", "Bed", "Plate", "StoveBurner", "CoffeeMachine"]:
        assert specs[object_type][0].surfaces, object_type


def test_state_roles_exist_where_needed(specs):
    required = {t: {"liquid"} for t in FILLABLE}
    for t in DIRTYABLE:
        required.setdefault(t, set()).add("dirt")
    for t in COOKABLE:
        required.setdefault(t, set()).add("food")
    for t in BREAKABLE:
        required.setdefault(t, set()).add("broken")
    toggled = {"Faucet": "stream", "ShowerHead": "stream", "Candle": "flame", "Television": "screen",
               "Laptop": "screen", "CellPhone": "screen", "StoveBurner": "glow", "Microwave": "glow", "DeskLamp": "glow",
               "FloorLamp": "glow", "StoveKnob": "glow", "Toaster": "glow", "CoffeeMachine": "glow",
               "LightSwitch": "glow"}
    for t, role in toggled.items():
        required.setdefault(t, set()).add(role)
    for object_type, roles in required.items():
        for spec in specs[object_type]:
            assert roles <= {p.role for p in spec.parts}, object_type
    for object_type in COOKABLE:  # the flesh is food, not just a detail such as a stem
        spec = specs[object_type][0]
        biggest = max(spec.parts, key=lambda p: np.prod(part_aabb(p)[1] - part_aabb(p)[0]))
        assert biggest.role == "food", object_type


def test_links_named_as_the_simulator_expects(specs):
    assert {l.name for l in specs["Toilet"][0].links} == {"lid"}
    assert {l.name for l in specs["Kettle"][0].links} == {"lid"}
    assert {l.name for l in specs["Laptop"][0].links} == {"lid"}
    assert {l.name for l in specs["Book"][0].links} == {"lid"}
    assert {l.name for l in specs["Drawer"][0].links} == {"drawer"}
    assert {l.name for l in specs["Drawer"][0].links if l.joint == "slide"} == {"drawer"}
    fridge_doors = set()
    for seed in range(8):
        fridge_doors.add(frozenset(l.name for l in make_shape("Fridge", np.random.default_rng(seed)).links))
    assert fridge_doors == {frozenset({"door"}), frozenset({"door_top", "door_bottom"})}


def _compile(bodies: list[str]) -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(mjcf.world_xml(bodies))


def test_every_type_compiles_and_links_open(specs):
    bodies, names = [], []
    for k, object_type in enumerate(TYPES):
        name = f"{object_type}_{k}"
        bodies.append(mjcf.body_xml(specs[object_type][0], name, (3.0 * (k % 10), 3.0 * (k // 10), 0.0), 30.0 * k,
                                    mocap=True))
        names.append(name)
    model = _compile(bodies)
    data = mujoco.MjData(model)
    assert model.ngeom == 1 + sum(len(specs[t][0].parts) for t in TYPES)
    mujoco.mj_kinematics(model, data)
    closed = data.geom_xpos.copy()
    opened_types = 0
    for object_type, name in zip(TYPES, names):
        spec = specs[object_type][0]
        for link in spec.links:
            jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"{name}/{link.name}")
            assert jid >= 0
            data.qpos[model.jnt_qposadr[jid]] = mjcf.link_open_qpos(link, 1.0)
            opened_types += 1
    mujoco.mj_kinematics(model, data)
    for object_type, name in zip(TYPES, names):
        spec = specs[object_type][0]
        for i, part in enumerate(spec.parts):
            gid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"{name}:{part.role}:{i}")
            assert gid >= 0, (object_type, i)
            moved = np.linalg.norm(data.geom_xpos[gid] - closed[gid])
            if part.link == "base":
                assert moved < 1e-9, (object_type, i)
    for object_type, name in zip(TYPES, names):  # each link's parts, taken together, move by centimetres at least
        spec = specs[object_type][0]
        for link in spec.links:
            ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"{name}:{p.role}:{i}")
                   for i, p in enumerate(spec.parts) if p.link == link.name]
            assert ids, (object_type, link.name)
            assert max(np.linalg.norm(data.geom_xpos[g] - closed[g]) for g in ids) > 0.03, (object_type, link.name)
    assert opened_types >= len(ENCLOSING)


def test_body_pose_and_joint_range_units():
    spec = make_shape("Microwave", np.random.default_rng(3))
    yaw = 90.0
    xml = mjcf.body_xml(spec, "mw", (1.0, 2.0, 0.9), yaw, mocap=False)
    model = _compile([xml])
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    part = spec.parts[0]
    gid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"mw:{part.role}:0")
    x, y, z = part.pos
    # Counter-clockwise yaw by 90 degrees maps (x, y) to (-y, x).
    assert np.allclose(data.geom_xpos[gid], (1.0 - y, 2.0 + x, 0.9 + z), atol=1e-9)
    jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "mw/door")
    assert model.jnt_range[jid] == pytest.approx(sorted((0.0, spec.link("door").open_amount)), abs=1e-6)
    assert model.body_mocapid[model.jnt_bodyid[jid]] == -1
    radian_xml = mjcf.body_xml(spec, "mw", (0, 0, 0), 0, mocap=False, compiler_angle="radian")
    assert f"{spec.link('door').open_amount:.6g}" in radian_xml
    with pytest.raises(ValueError, match="openness"):
        mjcf.link_open_qpos(spec.link("door"), 1.5)


def test_geom_rgba_tints_textured_materials():
    """MuJoCo multiplies geom rgba into the material's texture, except when rgba is left at the default grey."""
    assert rgba((0.5, 0.5, 0.5)) != (0.5, 0.5, 0.5, 1.0)
    colours = {"red": (0.9, 0.1, 0.1, 1.0), "blue": (0.1, 0.2, 0.9, 1.0), "unset": (0.5, 0.5, 0.5, 1.0)}
    geoms = "\n".join(
        f'<geom type="box" size="0.2 0.2 0.2" pos="{x} 0 0.2" rgba="{" ".join(map(str, c))}" material="mat_wood"/>'
        for x, c in zip((-0.6, 0.0, 0.6), colours.values()))
    model = mujoco.MjModel.from_xml_string(mjcf.world_xml([f'<body name="probe">{geoms}</body>']))
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    means = []
    with mujoco.Renderer(model, 48, 48) as renderer:
        for x in (-0.6, 0.0, 0.6):  # look at each box face-on from close by, so it fills the centre of the view
            camera = mujoco.MjvCamera()
            camera.lookat[:] = (x, 0, 0.2)
            camera.distance, camera.azimuth, camera.elevation = 0.9, -90.0, -10.0
            renderer.update_scene(data, camera)
            means.append(renderer.render()[19:29, 19:29].reshape(-1, 3).astype(float).mean(axis=0))
    red, blue, unset = means
    assert red[0] > 2 * red[2] and blue[2] > 2 * blue[0]
    assert abs(unset[0] - unset[2]) < 10 and unset.mean() > red.mean()  # material white, not the geom grey


def test_preview_grid_renders_states():
    spec = make_shape("Mug", np.random.default_rng(0))
    image = mjcf.render_grid([(spec, {}), (spec, {"filled": True, "dirty": True})], columns=2, cell_px=64)
    assert image.shape == (64, 128, 3)
    assert image[:, :64].std() > 5 and not np.array_equal(image[:, :64], image[:, 64:])


def test_assets_name_every_material():
    xml = mjcf.assets_xml(np.random.default_rng(0))
    for key in mjcf.TEXTURES:
        assert f'name="mat_{key}"' in xml
    assert math.isinf(make_shape("DiningTable", np.random.default_rng(0)).surfaces[0].clearance)


def test_preview_cli_writes_sheets_and_rejects_unknown_types(tmp_path, capsys):
    from envs.embedded import shapes_preview

    assert shapes_preview.main(["--out", str(tmp_path), "--types", "Mug", "--instances", "1"]) == 0
    assert (tmp_path / "Mug.png").stat().st_size > 1000 and (tmp_path / "all.png").exists()
    assert shapes_preview.main(["--out", str(tmp_path), "--types", "Mugg"]) == 2
    assert "Mugg" in capsys.readouterr().err
