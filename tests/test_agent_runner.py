"""The agent end to end: skills in a small scene, a whole TfD episode, the no-peeking contract, resume, bad files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from agent.agent import DialogueAgent
from agent.executor import Executor, SkillFailure, _Target
from agent.observation import build_observation
from agent.planner import RetrievalPlanner
from agent.program import Program, SkillCall
from agent.run_teach import RunConfig, list_episodes, main, run_episode
from envs.camera import CAMERA_HEIGHT_ABOVE_AGENT
from perception.providers import GroundTruthProvider, make_provider


def _drive(env, provider, program: Program, max_steps: int = 400) -> Executor:
    """Run ``program`` with the executor in ``env`` until it is done."""
    executor = Executor(program)
    event = env.last_event
    obs = build_observation(event, 0, provider.observe(event), provider.memory)
    executor.observe(obs)
    steps = executor.run()
    action = next(steps)
    for n in range(1, max_steps):
        event = env.step(action=action.name, **action.thor_args())
        obs = build_observation(event, n, provider.observe(event), provider.memory)
        try:
            action = steps.send(obs)
        except StopIteration:
            break
    return executor


def _objects(env, object_type):
    return [o for o in env.last_event.metadata["objects"] if o["objectType"] == object_type]


def test_skills_in_a_kitchen():
    """Open and close the fridge, slice a tomato with a knife, and put things down, with ground-truth perception."""
    from envs import make_env

    with make_env() as env:
        env.reset(scene="FloorPlan1")
        env.step(action="LookDown")
        provider = make_provider("gt")
        program = Program([SkillCall("slice", {"object": "Tomato"}), SkillCall("pickup", {"object": "TomatoSliced"}),
                           SkillCall("put_down", {}), SkillCall("open", {"object": "Fridge"}),
                           SkillCall("close", {"object": "Fridge"})])
        executor = _drive(env, provider, program, max_steps=800)
        assert [r.ok for r in executor.records] == [True] * 5, executor.records
        assert not _objects(env, "Fridge")[0]["isOpen"]
        assert any(t["isSliced"] for t in _objects(env, "Tomato"))
        assert _objects(env, "TomatoSliced")
        assert env.last_event.metadata["inventoryObjects"] == []  # the knife and the slice were put down
        assert executor.failures <= 3


@pytest.fixture(scope="module")
def lexical_planner():
    return RetrievalPlanner(encoder=None)


def _episode(data: Path, mode: str = "tfd"):
    config = RunConfig(split="valid_unseen", mode=mode, data_dir=str(data))
    return config, list_episodes(data, "valid_unseen", mode)[0]


def test_a_whole_tfd_episode_succeeds_with_gt(tiny_teach_data, lexical_planner):
    from envs import make_env

    config, episode = _episode(tiny_teach_data)
    agent = DialogueAgent(lexical_planner)
    with make_env() as env:
        record = run_episode(env, make_provider("gt"), agent, episode, config)
    assert record["error"] == 0, record.get("error_message")
    assert record["success"] == 1, record.get("skills")
    assert record["predicted_stop"] == 1
    assert record["traj_len"] == len(record["pred_actions"]) <= 1000
    assert record["intent"]["family"] == record["task"]


class _Forbidden(list):
    """An object list that fails on any access: the agent must never read the simulator's objects."""

    def _fail(self, *args, **kwargs):
        raise AssertionError("the agent read metadata['objects']")

    __iter__ = __getitem__ = __len__ = __contains__ = __bool__ = _fail


class _GuardedEnv:
    """Hands out events whose ``metadata['objects']`` is forbidden; keeps the real ones for a side-channel provider
    and for scoring (``export_state``)."""

    def __init__(self, env):
        self.env = env
        self.real_event = None

    def _guard(self, event):
        self.real_event = event
        guarded = SimpleNamespace(**{k: getattr(event, k) for k in (
            "frame", "depth_frame", "instance_segmentation_frame", "color_to_object_id", "object_id_to_color",
            "instance_index", "instance_index_names")})
        guarded.metadata = dict(event.metadata, objects=_Forbidden())
        return guarded

    @property
    def last_event(self):
        return self._guard(self.env.last_event)

    def reset(self, **kwargs):
        return self._guard(self.env.reset(**kwargs))

    def step(self, **kwargs):
        return self._guard(self.env.step(**kwargs))

    def export_state(self):
        return self.env.export_state()


class _SideChannelProvider(GroundTruthProvider):
    """Not ``gt``: a provider that gets its labels from outside the event the agent's world hands around (a
    stand-in for a perfect detector), so the guarded event can be forbidden everywhere else."""

    name = "side-channel"

    def __init__(self, guarded_env):
        super().__init__()
        self.guarded_env = guarded_env

    def detect(self, event):
        return super().detect(self.guarded_env.real_event)


def test_the_agent_never_reads_the_simulator_objects(tiny_teach_data, lexical_planner):
    from envs import make_env

    config, episode = _episode(tiny_teach_data)
    with make_env() as env:
        guarded = _GuardedEnv(env)
        record = run_episode(guarded, _SideChannelProvider(guarded), DialogueAgent(lexical_planner), episode, config)
        with pytest.raises(AssertionError, match="read metadata"):  # the guard does bite
            list(guarded.step(action="Pass").metadata["objects"])
    assert record["error"] == 0, record.get("error_message")
    assert record["success"] == 1


def _two_episode_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    tfd_dir = dst / "tfd_instances" / "valid_unseen"
    first = sorted(tfd_dir.glob("*.tfd.json"))[0]
    shutil.copy(first, tfd_dir / first.name.replace(".tfd.json", "b.tfd.json"))
    return dst


RANDOM = ["--model", "agent.baselines.random_agent:RandomTeachModel", "--model-args=--max-steps=3", "--quiet"]


def test_a_killed_run_resumes_without_redoing_or_losing_an_episode(tiny_teach_data, tmp_path, monkeypatch):
    import agent.run_teach as runner

    data = _two_episode_copy(tiny_teach_data, tmp_path / "data")
    out = tmp_path / "run"
    real = runner.run_episode
    calls: list[str] = []

    def killed_on_second(env, provider, agent, episode, config, video=None):
        calls.append(episode.instance_id)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the run is killed while the second episode is in flight
        return real(env, provider, agent, episode, config, video)

    monkeypatch.setattr(runner, "run_episode", killed_on_second)
    with pytest.raises(KeyboardInterrupt):
        main(["--data-dir", str(data), "--out", str(out), *RANDOM])
    lines = (out / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 1
    monkeypatch.setattr(runner, "run_episode", lambda *a, **k: (calls.append(a[3].instance_id), real(*a, **k))[1])
    assert main(["--data-dir", str(data), "--out", str(out), *RANDOM]) == 2  # without --resume: refused
    assert main(["--data-dir", str(data), "--out", str(out), "--resume", *RANDOM]) == 0
    records = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(records) == 2 and len({r["instance_id"] for r in records}) == 2
    assert calls[2:] == [calls[1]]  # only the episode that was in flight ran again
    summary = json.loads((out / "summary.json").read_text())
    assert summary["success"]["num_evals"] == 2


def test_a_malformed_episode_file_is_recorded_and_the_run_goes_on(tiny_teach_data, tmp_path):
    data = _two_episode_copy(tiny_teach_data, tmp_path / "data")
    broken = sorted((data / "tfd_instances" / "valid_unseen").glob("*b.tfd.json"))[0]
    broken.write_text('{"game_id": 3, "dialog_history": "not a list"')
    out = tmp_path / "run"
    assert main(["--data-dir", str(data), "--out", str(out), *RANDOM]) == 0
    records = {r["instance_id"]: r for r in map(json.loads, (out / "episodes.jsonl").read_text().splitlines())}
    assert len(records) == 2
    bad = records[broken.name[: -len(".json")]]
    assert bad["error"] == 1 and broken.name in bad["error_message"]
    good = [r for r in records.values() if r is not bad][0]
    assert good["error"] == 0 and good["traj_len"] >= 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["success"]["num_evals"] == 2 and summary["num_fails_by_error"] == 1


def test_edh_replays_the_history_before_the_agent_acts(tiny_teach_data, tmp_path):
    out = tmp_path / "edh"
    assert main(["--data-dir", str(tiny_teach_data), "--mode", "edh", "--limit", "1", "--out", str(out), *RANDOM]) == 0
    record = json.loads((out / "episodes.jsonl").read_text().splitlines()[0])
    assert record["mode"] == "edh" and record["init_success"] == 1 and record["error"] == 0
    assert np.isfinite(record["goal_condition_success"])


def _collect(env, provider, executor, steps, max_steps: int = 200, blind: bool = False) -> list[str]:
    """Drive the executor generator ``steps`` in ``env``; the names of the actions it sent. ``blind``: the memory
    is kept up to date but each step's detections are withheld (a detector that does not fire)."""
    from perception.detections import Detections

    names = []
    try:
        action = next(steps)
        for n in range(1, max_steps):
            names.append(action.name)
            event = env.step(action=action.name, **action.thor_args())
            detections = provider.observe(event)
            if blind:
                detections = Detections.empty(*event.frame.shape[:2])
            action = steps.send(build_observation(event, n, detections, provider.memory))
    except StopIteration:
        pass
    return names


def _looked_around(env, scene: str = "FloorPlan1"):
    """A gt provider and an idle executor in ``scene`` after the executor's look-around from the start."""
    event = env.reset(scene=scene)
    provider = make_provider("gt")
    executor = Executor(Program([SkillCall("stop", {})]))
    executor.observe(build_observation(event, 0, provider.observe(event), provider.memory))
    _collect(env, provider, executor, executor.look_around())
    return provider, executor


def test_searching_keeps_the_last_failed_actions_for_the_task():
    """Peeking into a container opens it while failed actions are plentiful, and only looks once the executor is
    within its search reserve of TEACh's limit (a misperceived "cabinet" would otherwise spend them)."""
    from envs import make_env

    for failures, opens in ((0, True), (None, False)):
        with make_env() as env:
            provider, executor = _looked_around(env)
            holders = [i for i in provider.memory.instances() if i.class_name in ("Cabinet", "Drawer", "Fridge")]
            assert holders, "no container seen from the start of FloorPlan1"
            config = executor.config
            executor.failures = failures if failures is not None else \
                config.max_failures - config.failure_margin - config.search_failure_reserve
            names = _collect(env, provider, executor, executor.peek(holders[0], found=lambda: None), 300)
            assert ("OpenObject" in names) is opens, names


def test_a_surface_sweep_looks_at_counter_pieces_from_close_up_once():
    """With nothing found from afar, the search walks up to the pieces of open surfaces that accept the object
    (nearest first), only navigates and looks (no opening), marks what it saw from close up, and stops as soon as
    the object is found."""
    from envs import make_env

    with make_env() as env:
        provider, executor = _looked_around(env)
        before = executor.surface_pieces(("Mug",))
        assert before and {p.class_name for p in before} <= {"CounterTop", "DiningTable", "SideTable", "Shelf",
                                                              "StoveBurner", "Stool", "Chair"}
        assert not executor.surface_pieces(("__nothing__",))
        near_before = int(executor.map.seen_near.sum())
        names = _collect(env, provider, executor, executor.sweep_surfaces(("Mug",), lambda: None, 2), 300)
        assert names and set(names) <= {"MoveAhead", "RotateLeft", "RotateRight", "LookUp", "LookDown"}, names
        assert len(executor.swept) == 2
        assert int(executor.map.seen_near.sum()) > near_before
        after = {p.key for p in executor.surface_pieces(("Mug",))}
        assert not (after & executor.swept)
        # found at once: nothing is sent
        assert _collect(env, provider, executor, executor.sweep_surfaces(("Mug",), lambda: object(), 2)) == []


def test_a_doubtful_sighting_is_walked_up_to_and_confirmed():
    """An instance of the wanted type below the acting confidence is looked at from close up first; the new views
    raise its confidence above the line (ground truth confirms what it sees), and nothing but motion is sent."""
    from envs import make_env

    with make_env() as env:
        provider, executor = _looked_around(env)
        small = [i for i in provider.memory.instances() if i.class_name in ("Apple", "Tomato", "Mug", "Bread",
                                                                             "Potato", "Cup", "Egg", "Knife")]
        assert small, "no small object seen from the start of FloorPlan1"
        target = small[0]
        target.evidence = 0.1  # one faint sighting
        floor = executor.config.min_confidence
        assert executor.config.doubtful_confidence <= target.confidence < floor
        types = (target.class_name,)
        names = _collect(env, provider, executor, executor.look_at_doubtful(types, lambda: None, 1), 300)
        assert names and set(names) <= {"MoveAhead", "RotateLeft", "RotateRight", "LookUp", "LookDown"}, names
        assert provider.memory.get(target.instance_id).confidence >= floor
        assert _collect(env, provider, executor, executor.look_at_doubtful(types, lambda: None, 1)) == []


def test_a_thing_picked_up_is_put_back_where_it_lay_when_the_agent_has_not_moved():
    """put_down(put_back=True) right after a pickup (a wrong pick) clicks the pickup's pixel again (the surface under
    it), one action, no surface from the memory needed; after a turn it falls back to a mapped surface; a plain
    put_down (clearing a sink) never puts a thing back where it was taken from."""
    from envs import make_env

    with make_env() as env:
        provider, executor = _looked_around(env)
        names = _collect(env, provider, executor, executor.skill_pickup("Apple|Tomato|Potato|Mug|Bread"), 300)
        assert executor.obs.held, names
        held = executor.obs.held[0]
        assert _collect(env, provider, executor, executor.skill_put_down(put_back=True)) == ["PutObject"]
        assert not executor.obs.held
        assert executor.focus[held] is not None
        _collect(env, provider, executor, executor.skill_pickup(held), 300)
        assert executor.obs.held
        executor.last_pickup = (executor.last_pickup[0], executor.last_pickup[1], np.eye(4))  # as if it had moved
        _collect(env, provider, executor, executor.skill_put_down(put_back=True), 300)
        assert not executor.obs.held and executor.last_put_point is not None  # on a mapped surface
        _collect(env, provider, executor, executor.skill_pickup(held), 300)
        first = executor.last_pickup
        names = _collect(env, provider, executor, executor.skill_put_down(), 300)
        assert not executor.obs.held and executor.last_pickup is first  # not put back at the pickup pixel


def test_after_a_failed_search_the_best_runner_up_instance_stands_in():
    """A learned detector may map a dining table as 'SideTable' with 'DiningTable' among its votes: when a search
    finds no instance whose top class is wanted, ``locate`` acts on the confident instance that gives the wanted
    type the largest vote share (at least ``runner_up_share``), remembers it for the next ``locate`` (no second
    search), and a detection of the stand-in's own class over its mapped points is its mask."""
    from envs import make_env

    with make_env() as env:
        provider, executor = _looked_around(env)
        searches = []

        def no_search(types, found):
            searches.append(types)
            return
            yield

        executor.search = no_search
        assert executor.runner_up(("Statue",)) is None  # ground truth votes one class: nothing stands in
        with pytest.raises(SkillFailure, match="found no Statue"):
            _collect(env, provider, executor, executor.locate("Statue"))
        table = max((i for i in provider.memory.instances() if i.class_name == "CounterTop"),
                    key=lambda i: len(i.points))
        weak = next(i for i in provider.memory.instances() if i.class_name not in ("CounterTop", "Statue"))
        table.class_votes = {"CounterTop": 6.8, "Statue": 2.1}  # 24 %
        weak.class_votes = {weak.class_name: 9.0, "Statue": 1.0}  # 10 %, below the default share
        executor.stand_ins.clear()
        assert executor.runner_up(("Statue",)) is table
        executor.config.runner_up_share = 0.3
        assert executor.runner_up(("Statue",)) is None
        executor.config.runner_up_share = 0.15
        executor.stand_ins.clear()
        searches.clear()
        found = []

        def locate():
            found.append((yield from executor.locate("Statue")))

        _collect(env, provider, executor, locate())
        _collect(env, provider, executor, locate())
        assert found == [table, table] and len(searches) == 1  # searched once, then remembered
        assert executor.runner_up(("Statue",), exclude_ids={table.instance_id}) is None
        # its own class's detection over its mapped points is the target's mask
        _collect(env, provider, executor, executor.go_to_view(table), 300)
        mask = executor.target_mask(_Target(("Statue",), table), executor.obs)
        assert mask is not None and mask.any()
        assert executor.target_mask(_Target(("Statue",), weak), executor.obs) is None


def test_a_second_fridge_in_the_map_is_not_searched():
    """A kitchen has one fridge: of several mapped (a learned detector's false one), only the most confident is
    among the containers to search."""
    from envs import make_env

    with make_env() as env:
        provider, executor = _looked_around(env)
        fridges = [h for h in executor.containers_for(("Apple",)) if h.class_name == "Fridge"]
        assert len(fridges) == 1
        fake = provider.memory.insert("Fridge", np.random.default_rng(0).uniform(0, 0.4, (50, 3)) + [1.0, 0.5, 1.0],
                                      score=0.6)
        assert fake.confidence >= executor.config.min_confidence
        again = [h for h in executor.containers_for(("Apple",)) if h.class_name == "Fridge"]
        assert [h.instance_id for h in again] == [fridges[0].instance_id]


def test_with_no_detection_in_view_the_executor_clicks_the_mapped_points_of_a_task_target():
    """A learned detector may not fire on the fridge from the viewpoint the memory chose: switching it on (a toggle
    on a big fixed thing) clicks where the mapped fridge projects; opening it does not (a false container would cost
    failed clicks), nor does a call with the fallback off."""
    from envs import make_env
    from agent.executor import _Target

    with make_env() as env:
        provider, executor = _looked_around(env)
        fridge = [i for i in provider.memory.instances() if i.class_name == "Fridge"][0]

        def blind(steps):
            return _collect(env, provider, executor, steps, blind=True)

        from agent.executor import SkillFailure

        with pytest.raises(SkillFailure, match="not in view|not there"):
            blind(executor.interact(_Target(("Fridge",), fridge), "OpenObject"))
        assert not _objects(env, "Fridge")[0]["isOpen"]
        kinds = ("CoffeeMachine", "Toaster", "Microwave")
        switch = [i for i in provider.memory.instances() if i.class_name in kinds][0]
        with pytest.raises(SkillFailure, match="not in view"):
            blind(executor.interact(_Target((switch.class_name,), switch), "ToggleObjectOn", memory_fallback=False))
        names = blind(executor.interact(_Target((switch.class_name,), switch), "ToggleObjectOn"))
        assert names[-1] == "ToggleObjectOn" and _objects(env, switch.class_name)[0]["isToggled"]
        assert any("clicking the mapped points" in t for t in executor.trace)


def test_put_all_of_something_never_found_is_a_failed_skill_not_a_vacuous_success():
    from envs import make_env
    from agent.executor import ExecutorConfig, SkillFailure

    with make_env() as env:
        provider, executor = _looked_around(env)
        executor.config = ExecutorConfig(frontier_visits=0, container_opens=0)
        assert not executor.instances(("Statue",))
        with pytest.raises(SkillFailure, match="found no Statue"):
            _collect(env, provider, executor, executor.skill_put_all("Statue", "CounterTop", single=True), 300)


def test_perception_options_reach_the_provider_and_bad_ones_are_refused_by_name(capsys):
    from agent.run_teach import make_perception, parse_args

    config = parse_args(["--perception", "gt", "--perception-option", "min-pixels=5",
                         "--perception-option", "include_states=false"])
    assert config.perception_options == {"min_pixels": 5, "include_states": False}
    provider = make_perception(config)
    assert provider.min_pixels == 5 and provider.include_states is False
    config = parse_args(["--perception", "gt", "--memory-option", "unseen_penalty=0.3",
                         "--memory-option", "misses_to_remove=2"])
    assert config.perception_options == {"memory": {"unseen_penalty": 0.3, "misses_to_remove": 2}}
    memory = make_perception(config).memory.config
    assert memory.unseen_penalty == 0.3 and memory.misses_to_remove == 2
    for bad, message in ((["--perception-option", "min_pixel=5"], "min_pixel: not an option of the 'gt'"),
                         (["--perception-option", "5"], "must be KEY=VALUE"),
                         (["--memory-option", "unseen=1"], "--memory-option 'unseen=1': MemoryConfig has no field"),
                         (["--memory-option", "unseen_penalty=-1"], "unseen_penalty must be >= 0")):
        with pytest.raises(SystemExit):
            parse_args(["--perception", "gt", *bad])
        assert message in capsys.readouterr().err


def test_a_click_on_a_pixel_resolves_to_that_pixel_at_the_frame_size_and_at_teachs_window():
    from agent.executor import pixel_click
    from envs.clicks import click_pixel

    for height, width in ((300, 300), (7, 13)):
        for row in range(height):
            for col in range(width):
                x, y = pixel_click(row, col, height, width)
                assert click_pixel(x, y, height, width) == (row, col)
                if (height, width) == (300, 300):  # TEACh's 900 x 900 window: the pixel's 3 x 3 block
                    big_row, big_col = click_pixel(x, y, 900, 900)
                    assert (big_row // 3, big_col // 3) == (row, col)


def test_after_a_view_hidden_behind_something_the_next_looks_from_another_angle():
    """A cup on a fridge's lower shelf is hidden by the shelf above from every step along one row: once a view is
    found hidden (the target's mapped points in the frame, all behind a nearer surface), viewpoints seeing the target
    at about the same angle from the same side rank after those that do not; ``hidden_behind`` tells a hidden target
    from one in plain view or out of the frame."""
    from envs import make_env

    with make_env() as env:
        provider, executor = _looked_around(env)
        target = next(i for i in provider.memory.instances() if i.class_name in ("Apple", "Tomato", "Mug", "Bread",
                                                                                 "Potato", "Cup", "Egg", "Knife"))
        body_y = float(executor.obs.agent_position[1])

        def sight(view):
            x, z = executor.map.node_xz(*view[0])
            return executor.sight(np.array([x, body_y + CAMERA_HEIGHT_ABOVE_AGENT, z]), np.asarray(target.centroid))

        views = executor.viewpoints(target, set())
        assert len(views) > 3
        failed = sight(views[0])
        again = executor.viewpoints(target, set(), hidden_sights=[failed])
        assert again[0] != views[0]
        elevation, azimuth = sight(again[0])
        assert abs(elevation - failed[0]) >= 6.0 or abs((azimuth - failed[1] + 180.0) % 360.0 - 180.0) >= 40.0
        assert sorted(again) == sorted(views)  # re-ranked, none refused

        # hidden_behind: a wall of depth 0.5 m in front of the points, then nothing in front of them
        cam = np.eye(4)
        obs = SimpleNamespace(width=64, height=64, fov=90.0, camera_to_world=cam, depth=np.full((64, 64), 0.5))
        ahead = SimpleNamespace(points=np.array([[0.0, 0.0, 2.0], [0.1, 0.0, 2.0], [0.0, 0.1, 2.0], [0.1, 0.1, 2.1]]))
        from envs.camera import project_points
        uv, depth = project_points(ahead.points, 64, 64, 90.0, cam)
        assert np.all(depth > 0), "test points must lie in front of the camera"
        assert executor.hidden_behind(ahead, obs)
        obs.depth = np.full((64, 64), 5.0)
        assert not executor.hidden_behind(ahead, obs)
        behind = SimpleNamespace(points=-ahead.points)
        assert not executor.hidden_behind(behind, obs)


def test_a_mapped_thing_no_detection_shows_from_close_up_is_not_chosen_again():
    """A learned map's false mug on a counter: after ``refute_views`` viewpoints within reach from which its mapped
    points are in plain view and no detection shows it, the skill gives up on it and later choices skip its place
    for its type (the map keeps it); putting one of that type there lifts it. Ground truth never refutes."""
    from envs import make_env
    from perception.detections import Detections

    with make_env() as env:
        provider, executor = _looked_around(env)
        fridge = [i for i in provider.memory.instances() if i.class_name == "Fridge"][0]
        assert fridge in executor.instances(("Fridge",))
        sent = _collect(env, provider, executor, executor.interact(_Target(("Fridge",), fridge), "OpenObject"))
        assert sent[-1] == "OpenObject" and _objects(env, "Fridge")[0]["isOpen"]  # seen: opened, nothing refuted
        assert executor.refuted == []
        event = env.last_event  # what the executor sees now, without its detections
        executor.observe(build_observation(event, executor.steps, Detections.empty(*event.frame.shape[:2]),
                                           provider.memory))
        with pytest.raises(SkillFailure, match="not there"):
            _collect(env, provider, executor, executor.interact(_Target(("Fridge",), fridge), "CloseObject"),
                     blind=True)
        notes = [t for t in executor.trace if "CloseObject Fridge: not in view" in t]
        assert len(notes) == executor.config.refute_views
        assert any("refuted" in t for t in executor.trace)
        assert fridge.instance_id in {i.instance_id for i in provider.memory.instances()}
        assert fridge not in executor.instances(("Fridge",))
        assert executor.refuted_at(fridge)
        executor.remember_left("Fridge", np.asarray(fridge.centroid))
        assert not executor.refuted_at(fridge) and fridge in executor.instances(("Fridge",))
