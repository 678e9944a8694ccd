"""The agent's own pieces: programs and recipes, the observation contract, the depth-built map and lattice paths."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from agent.expand import expand
from agent.mapping import OccupancyMap
from agent.navigation import Navigator, turn_actions
from agent.observation import AgentAction, build_observation
from agent.program import FAMILY_NPARAMS, Program, ProgramError, SkillCall, TASK_FAMILIES, TaskIntent
from envs.camera import AGENT_Y, camera_to_world_thor, camera_position

DEFAULT_PARAMS = {
    "Coffee": [], "Water Plant": [], "Boil X": ["Potato"], "Plate Of Toast": [], "Clean All X": ["Mug"],
    "Put All X In One Y": ["RemoteControl", "in", "Box"], "Put All X On Y": ["Pillow", "on", "Sofa"],
    "N Cooked Slices Of X In Y": ["2", "Potato", "on", "Plate"], "N Slices Of X In Y": ["1", "Tomato", "in", "Bowl"],
    "Salad": ["1", "1", "1"], "Sandwich": ["1", "0"],
    "Breakfast": ["1", "1", "0", "Plate", "1", "Plate", "0", "1", "1", "1", "0", "2", "0", "DiningTable"],
}


@pytest.mark.parametrize("family", TASK_FAMILIES)
def test_every_family_expands_to_a_valid_program_that_ends_with_stop(family):
    program = expand(TaskIntent(family, DEFAULT_PARAMS[family]))
    assert program.steps[-1].skill == "stop"
    assert len(program.steps) >= 2
    again = Program.from_json(json.loads(program.dumps()))
    assert [str(s) for s in again.steps] == [str(s) for s in program.steps]
    assert again.intent.family == family


def test_recipes_follow_the_goal_conditions():
    coffee = [str(s) for s in expand(TaskIntent("Coffee", [])).steps]
    assert coffee[:3] == ["clean(object='Mug')", "place(target='CoffeeMachine')", "toggle_on(object='CoffeeMachine')"]
    cooked = expand(TaskIntent("N Cooked Slices Of X In Y", ["2", "Potato", "on", "Plate"])).steps
    skills = [s.skill for s in cooked]
    assert skills.index("slice") < skills.index("cook_on_stove") < skills.index("serve")
    assert next(s for s in cooked if s.skill == "serve").args["count"] == 2
    breakfast = expand(TaskIntent("Breakfast", DEFAULT_PARAMS["Breakfast"])).steps
    placed = [s.args["target"] for s in breakfast if s.skill == "place"]
    assert placed.count("DiningTable") == 2  # the mug and the plate go to the serving spot
    assert any(s.skill == "serve" and s.args["object"] == "AppleSliced" for s in breakfast)
    assert any(s.skill == "serve" and s.args["object"] == "TomatoSliced" and s.args["count"] == 2 for s in breakfast)
    # Boil X of a piece: cut (crack) the whole first, then boil the piece; a whole potato is boiled as it is
    assert [str(s) for s in expand(TaskIntent("Boil X", ["EggCracked"])).steps][:2] == [
        "slice(object='Egg')", "boil(object='EggCracked')"]
    assert [s.skill for s in expand(TaskIntent("Boil X", ["Potato"])).steps][:2] == ["boil", "stop"]


def test_bad_intents_and_programs_name_the_field():
    with pytest.raises(ProgramError, match="family"):
        TaskIntent("Make Tea", [])
    with pytest.raises(ProgramError, match="takes 1 parameters"):
        TaskIntent("Boil X", [])
    with pytest.raises(ProgramError, match="n must be a whole number"):
        expand(TaskIntent("N Slices Of X In Y", ["two", "Tomato", "on", "Plate"]))
    with pytest.raises(ProgramError, match="unknown skill"):
        SkillCall("fly", {})
    with pytest.raises(ProgramError, match="missing argument"):
        SkillCall("place", {})
    with pytest.raises(ProgramError, match=r"steps\[1\]"):
        Program.from_json({"steps": [{"skill": "stop"}, {"skill": "pickup", "args": {"thing": "Mug"}}]})
    assert set(FAMILY_NPARAMS) == set(TASK_FAMILIES)


def test_actions_map_to_teach_names_and_check_clicks():
    assert AgentAction("MoveAhead").teach_name == "Forward"
    assert AgentAction.from_teach("Pickup", x=0.3, y=0.4) == AgentAction("PickupObject", 0.3, 0.4)
    assert AgentAction("PickupObject", 0.3, 0.4).to_record() == ["Pickup", 0.3, 0.4]
    with pytest.raises(ValueError, match="needs a click"):
        AgentAction("PutObject")
    with pytest.raises(ValueError, match="outside"):
        AgentAction("OpenObject", 1.2, 0.5)
    with pytest.raises(ValueError, match="unknown action"):
        AgentAction("Teleport")


def test_error_messages_reach_the_agent_without_object_ids():
    from agent.observation import scrub_object_ids

    assert scrub_object_ids("Cabinet|+01.00|+00.00|-02.00 must be open to place objects in it") == \
        "Cabinet must be open to place objects in it"
    assert scrub_object_ids("Tomato|-01.2|+00.9|+00.3|TomatoSliced_2 is too far away") == "Tomato is too far away"
    assert scrub_object_ids("Agent 0 is blocked from moving 0") == "Agent 0 is blocked from moving 0"


def test_observation_carries_no_simulator_state(kitchen):
    event = kitchen.step(action="LookDown")
    obs = build_observation(event, 3)
    fields = vars(obs)
    assert "objects" not in json.dumps({k: v for k, v in fields.items() if isinstance(v, (str, int, float, tuple))})
    assert obs.held == ()
    assert obs.step == 3 and obs.horizon == pytest.approx(event.metadata["agent"]["cameraHorizon"])
    pos = event.metadata["agent"]["position"]
    assert np.allclose(obs.agent_position, [pos["x"], pos["y"], pos["z"]], atol=1e-5)
    assert obs.depth.shape == obs.rgb.shape[:2]
    kitchen.step(action="LookUp")


# ------------------------------------------------------------------------------------------------ map and paths
def _render_box_room(origin, box_lo, box_hi, yaw, horizon=30.0, size=120, fov=90.0, wall=3.0, more=()):
    """Planar depth of a floor plane (y = 0), a square room of walls at +-``wall`` and one box, ray-cast
    analytically, seen from an agent at ``origin`` (thor x, z)."""
    cam = camera_position({"x": origin[0], "y": AGENT_Y, "z": origin[1]})
    pose = camera_to_world_thor(cam, yaw, horizon)
    focal = (size / 2) / math.tan(math.radians(fov) / 2)
    u = (np.arange(size) + 0.5 - size / 2) / focal
    rays_cam = np.stack(np.broadcast_arrays(u[None, :], u[:, None], np.ones((size, size))), axis=-1)
    dirs = rays_cam @ pose[:3, :3].T
    depth = np.full((size, size), np.inf)

    def hit_box(lo, hi):
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (np.asarray(lo) - cam) / dirs
            t2 = (np.asarray(hi) - cam) / dirs
        tmin = np.nanmax(np.minimum(t1, t2), axis=-1)
        tmax = np.nanmin(np.maximum(t1, t2), axis=-1)
        return np.where((tmax >= tmin) & (tmin > 0), tmin, np.inf)

    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(dirs[..., 1] < 0, -cam[1] / dirs[..., 1], np.inf)
    depth = np.minimum(depth, t_floor)
    depth = np.minimum(depth, hit_box(box_lo, box_hi))
    for lo, hi in more:
        depth = np.minimum(depth, hit_box(lo, hi))
    for lo, hi in (((-wall - 0.1, 0, -wall), (-wall, 3, wall)), ((wall, 0, -wall), (wall + 0.1, 3, wall)),
                   ((-wall, 0, -wall - 0.1), (wall, 3, -wall)), ((-wall, 0, wall), (wall, 3, wall + 0.1))):
        depth = np.minimum(depth, hit_box(lo, hi))
    return depth.astype(np.float32), pose  # t along a camera ray of z = 1 is the planar depth


def test_occupancy_map_marks_floor_obstacles_and_line_of_sight():
    grid = OccupancyMap(origin=np.array([0.0, AGENT_Y, 0.0]))
    box_lo, box_hi = (0.9, 0.0, -0.3), (1.5, 0.8, 0.3)
    for yaw in (0, 90, 180, 270):
        depth, pose = _render_box_room((0.0, 0.0), box_lo, box_hi, yaw)
        grid.update(depth, 90.0, pose)
    row, col = grid.to_cell(1.2, 0.0)
    assert grid.obstacle[row, col - 5]  # the box's near face
    row, col = grid.to_cell(0.5, 0.0)
    assert grid.floor[row, col] and not grid.obstacle[row, col]
    assert grid.node_state(0, 0) == 1  # under the camera: never in view
    grid.mark_visited(0.0, 0.0)
    assert grid.node_state(0, 0) == 0  # where the agent stood is floor
    assert grid.node_state(4, 0) == 2  # (1.0, 0): inside the box's footprint grown by the agent radius
    assert grid.node_state(30, 30) == 1  # behind the walls: never seen (unknown, not floor)
    eye = np.array([0.0, 1.576, 0.0])
    assert grid.line_of_sight(eye, np.array([0.6, 0.0, 0.0]))
    assert not grid.line_of_sight(eye, np.array([2.2, 0.3, 0.0]))  # behind the box, low
    assert grid.line_of_sight(eye, np.array([2.2, 1.5, 0.0]))  # above it


def test_line_of_sight_passes_the_gap_between_a_counter_and_the_cabinets_above_it():
    """A counter (to 0.9 m) under wall cabinets (1.5-2.2 m) in the same map cells: a ray at 1.2 m over the counter
    is clear, one at 0.5 m (into the counter) or 1.8 m (into the cabinets) is not."""
    grid = OccupancyMap(origin=np.array([0.0, AGENT_Y, 0.0]))
    counter = ((1.2, 0.0, -1.0), (1.8, 0.9, 1.0))
    cabinets = ((1.2, 1.5, -1.0), (1.8, 2.2, 1.0))
    for horizon in (0.0, 30.0, -30.0, 60.0):
        depth, pose = _render_box_room((0.0, 0.0), *counter, 90, horizon=horizon, more=[cabinets])
        grid.update(depth, 90.0, pose)
    row, col = grid.to_cell(1.18, 0.0)  # the cell of the counter's and the cabinets' front faces
    assert grid.bottom[row, col] < 0.9 and grid.top[row, col] > 1.5  # one column spans both
    assert grid.line_of_sight(np.array([0.3, 1.2, 0.0]), np.array([1.5, 1.2, 0.0]), skip_end=0.25)
    assert not grid.line_of_sight(np.array([0.3, 0.5, 0.0]), np.array([2.0, 0.5, 0.0]))
    assert not grid.line_of_sight(np.array([0.3, 1.8, 0.0]), np.array([2.0, 1.8, 0.0]))


def test_navigator_goes_around_obstacles_and_learns_blocked_moves():
    grid = OccupancyMap(origin=np.array([0.0, AGENT_Y, 0.0]), size_m=6.0)
    grid.floor[:] = True
    row, col = grid.to_cell(np.array([1.0]), np.array([-0.5]))
    _, col_end = grid.to_cell(np.array([1.0]), np.array([0.0]))
    row_end, _ = grid.to_cell(np.array([1.0]), np.array([0.5]))
    grid.obstacle[row[0]:row_end[0] + 1, col[0]:col[0] + 2] = True  # a wall across x = 1, z in [-0.5, 0.5]
    grid._blocked_cache = None
    grid.version += 1
    nav = Navigator(grid)
    path = nav.path((0, 0), (8, 0))
    assert path is not None and path[0] == (0, 0) and path[-1] == (8, 0)
    assert all(abs(i * 0.25 - 1.0) > 0.2 or abs(j * 0.25) > 0.7 for i, j in path)
    straight = len(path)
    nav.block_edge(path[0], {(1, 0): 90, (-1, 0): 270, (0, 1): 0, (0, -1): 180}[(path[1][0], path[1][1])])
    detour = nav.path((0, 0), (8, 0))
    assert detour is not None and detour[1] != path[1] and len(detour) >= straight
    assert turn_actions(0.0, 90) == ["RotateRight"] and turn_actions(0.0, 270) == ["RotateLeft"]
    assert turn_actions(355.0, 180) == ["RotateRight", "RotateRight"]


def test_of_several_named_receptacles_the_one_by_the_named_landmark_is_searched_first():
    """"the pot is in the cabinet below the sink": of the mapped cabinets, the one nearest a mapped sink first."""
    from types import SimpleNamespace

    from agent.executor import Executor
    from agent.program import Program, SkillCall, TaskIntent
    from perception.memory import SemanticMemory

    def block(x, y, z, size=0.3):
        g = np.linspace(-size / 2, size / 2, 4)
        return np.array([(x + a, y + b, z + c) for a in g for b in g for c in g])

    memory = SemanticMemory()
    far = memory.insert("Cabinet", block(0.5, 0.4, 3.0))
    under_sink = memory.insert("Cabinet", block(3.0, 0.4, 3.0))
    memory.insert("SinkBasin", block(3.1, 0.8, 3.1, size=0.2))
    intent = TaskIntent("Boil X", ["Potato"], hints={"Pot": ["Cabinet"]}, landmarks={"Pot": {"Cabinet": "SinkBasin"}})
    executor = Executor(Program([SkillCall("stop")], intent=intent))
    executor.obs = SimpleNamespace(memory=memory)
    executor.note = lambda message: None
    holders = executor.instances(("Cabinet",))
    assert [h.instance_id for h in executor.by_landmark(holders, "SinkBasin")] == [under_sink.instance_id,
                                                                                  far.instance_id]
    assert executor.by_landmark(holders, "Fridge") == holders  # no fridge mapped: the order stays
    assert executor.landmarks == {"Pot": {"Cabinet": "SinkBasin"}}


def test_of_two_dishes_side_by_side_the_one_left_there_is_chosen():
    """A cleaned bowl put down 0.35 m from a dirty one: the executor serves into the one it left, whatever the map's
    order of instances (both lie within the 0.5 m of where it was left)."""
    from types import SimpleNamespace

    from agent.executor import Executor
    from agent.program import Program, SkillCall

    executor = Executor(Program([SkillCall("stop")]))
    executor.obs = SimpleNamespace(agent_position=np.array([0.0, 0.9, 0.0]))
    dirty = SimpleNamespace(instance_id=1, class_name="Bowl", centroid=np.array([2.2, 0.8, 2.14]))
    clean = SimpleNamespace(instance_id=49, class_name="Bowl", centroid=np.array([2.02, 0.8, 1.84]))
    executor.focus["Bowl"] = np.array([2.02, 0.8, 1.85])
    for order in ([dirty, clean], [clean, dirty]):
        assert executor.choose(order, ("Bowl",)) is clean


def test_a_thing_low_in_a_basin_is_looked_for_from_the_nearest_viewpoint_looking_down():
    """From 1.5 m the basin's rim hides a mug put in it: look_from_closest walks to the viewpoint nearest the basin
    and tilts down first; it does nothing when the agent already stands nearest."""
    from types import SimpleNamespace

    from agent.executor import Executor
    from agent.program import Program, SkillCall

    executor = Executor(Program([SkillCall("stop")]))
    executor.obs = SimpleNamespace(agent_position=np.array([0.0, 0.9, 0.0]), horizon=30.0)
    executor.note = lambda message: None
    executor.map = SimpleNamespace(node_xz=lambda i, j: (0.25 * i, 0.25 * j))
    basin = SimpleNamespace(class_name="SinkBasin", centroid=np.array([2.0, 0.8, 0.0]))
    executor.viewpoints = lambda thing, tried, frontal=1.0: [((2, 0), 90, 30.0), ((6, 0), 90, 30.0)]
    done = []

    def walk_to(node, final_yaw=None):
        done.append(("walk", node, final_yaw))
        return True
        yield

    def set_horizon(h):
        done.append(("horizon", h))
        return
        yield

    executor.walk_to, executor.set_horizon = walk_to, set_horizon
    list(executor.look_from_closest(basin, lambda: None))
    assert done == [("walk", (6, 0), 90), ("horizon", 60.0), ("horizon", 30.0)]
    done.clear()
    executor.obs.agent_position = np.array([1.5, 0.9, 0.0])  # already at the nearest viewpoint
    list(executor.look_from_closest(basin, lambda: None))
    assert done == []


def test_where_the_apple_slice_is_said_to_be_is_searched_for_the_whole_apple_too():
    """"There's an apple slice in the trash can": while the apple is still whole (to slice it), the search for the
    Apple starts at the garbage can named for its slice, and the reverse; other objects' hints are not borrowed."""
    from types import SimpleNamespace

    from agent.executor import Executor
    from agent.program import Program, SkillCall, TaskIntent
    from perception.memory import SemanticMemory

    def block(x, y, z, size=0.3):
        g = np.linspace(-size / 2, size / 2, 4)
        return np.array([(x + a, y + b, z + c) for a in g for b in g for c in g])

    memory = SemanticMemory()
    memory.insert("Cabinet", block(0.5, 0.4, 1.0))
    can = memory.insert("GarbageCan", block(3.0, 0.2, 3.0))
    intent = TaskIntent("N Slices Of X In Y", ["1", "Apple", "in", "Plate"],
                        hints={"AppleSliced": ["GarbageCan"], "Mug": ["Cabinet"]})
    executor = Executor(Program([SkillCall("stop")], intent=intent))
    executor.obs = SimpleNamespace(memory=memory)
    executor.note = lambda message: None
    peeked = []

    def peek(holder, found=None):
        peeked.append(holder.instance_id)
        return
        yield

    def nothing(*args, **kwargs):
        return
        yield

    executor.peek = peek
    for name in ("look_at_doubtful", "explore", "sweep_surfaces"):
        setattr(executor, name, nothing)
    executor.open_places_for = lambda types: []
    executor.containers_for = lambda types: []
    list(executor.search(("Apple",), lambda: None))
    assert peeked == [can.instance_id]
    assert executor.hints_for("AppleSliced") == ["GarbageCan"]
    assert executor.hints_for("Apple") == ["GarbageCan"]
    assert executor.hints_for("Tomato") == [] and executor.hints_for("Mug") == ["Cabinet"]
    assert executor.kin("EggCracked") == ("EggCracked", "Egg") and executor.kin("Mug") == ("Mug",)


def test_a_thing_seen_behind_a_closed_cabinets_front_is_in_that_cabinet():
    """A closed cabinet is mapped by its door alone: a plate seen on its floor lies outside its box but behind its
    front, so the cabinet is the container to open before the pickup; a plate on the floor in front of it, one
    above it, or one behind the wall beside it has no container."""
    from types import SimpleNamespace

    from agent.executor import Executor
    from agent.program import Program, SkillCall
    from perception.memory import SemanticMemory

    rng = np.random.default_rng(0)
    memory = SemanticMemory()
    door = memory.insert("Cabinet", rng.uniform([3.95, 0.05, 0.67], [4.07, 0.67, 1.24], (200, 3)))
    executor = Executor(Program([SkillCall("stop")]))
    executor.obs = SimpleNamespace(memory=memory)
    executor.front_direction = lambda centre, radius=0.75: np.array([-1.0, 0.0])  # open floor to the west

    def thing(x, y, z):
        return SimpleNamespace(centroid=np.array([x, y, z]))

    assert executor.container_of(thing(4.25, 0.04, 0.88)) is door
    assert executor.container_of(thing(4.0, 0.4, 0.9)) is door  # inside its box
    assert executor.container_of(thing(3.5, 0.04, 0.88)) is None  # on the floor in front of it
    assert executor.container_of(thing(4.25, 1.0, 0.88)) is None  # above it (on the counter)
    assert executor.container_of(thing(4.25, 0.04, 1.7)) is None  # behind the wall beside it
    assert executor.container_of(thing(5.2, 0.04, 0.88)) is None  # deeper than a cabinet
    assert executor.container_of(thing(4.25, 0.62, 0.88)) is None  # at its top: on the counter above
    executor.front_direction = lambda centre, radius=0.75: np.array([-0.8, 0.6])  # open floor to the west, slanted
    assert executor.container_of(thing(4.25, 0.04, 0.88)) is door
    assert executor.container_of(thing(4.25, 0.04, 1.33)) is None  # beside it, though a slanted front reaches it
