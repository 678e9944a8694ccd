"""TEACh model plug-ins: loading ``package.module:Class``, the TeachModelAgent adapter (row-first coordinates, falsy
start, invalid actions, prev_action bookkeeping), the random baseline, and the baseline run end to end by the runner."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest
from PIL import Image

from agent.base import EpisodeInput, InvalidAction
from agent.baselines.random_agent import DRIVER_ACTIONS, OBJECT_ACTIONS, RandomTeachModel
from agent.observation import AgentAction, Observation
from agent.teach_model import TeachModel, TeachModelAgent, load_model_class

FRAME = np.zeros((30, 40, 3), dtype=np.uint8)


def observation(step: int = 0) -> Observation:
    return Observation(rgb=FRAME, depth=np.ones((30, 40), dtype=np.float32), camera_to_world=np.eye(4),
                       intrinsics=np.eye(3), fov=90.0, agent_position=np.zeros(3), yaw=0.0, horizon=0.0, held=(),
                       last_action_success=True, last_error="", step=step)


def episode(history_frames=(), path: str = "") -> EpisodeInput:
    return EpisodeInput(mode="edh", instance_id="g1.edh0", game_id="g1", dialogue=[("Commander", "hi")],
                        instance={"instance_id": "g1.edh0", "dialog_history": []},
                        history_frames=list(history_frames), path=path)


class ScriptedModel(TeachModel):
    """Answers from a script and records every call."""

    script: list = []
    ready = True

    def __init__(self, process_index, num_processes, model_args):
        super().__init__(process_index, num_processes, model_args)
        self.answers = list(type(self).script)
        self.calls: list[dict] = []
        self.starts: list[dict] = []

    def start_new_edh_instance(self, edh_instance, edh_history_images, edh_name=None):
        self.starts.append({"instance": edh_instance, "images": edh_history_images, "edh_name": edh_name})
        return type(self).ready

    def get_next_action(self, img, edh_instance, prev_action, img_name=None, edh_name=None):
        self.calls.append({"img": img, "prev_action": prev_action, "img_name": img_name, "edh_name": edh_name})
        return self.answers.pop(0)


def scripted(*answers, ready=True) -> TeachModelAgent:
    model_class = type("Scripted", (ScriptedModel,), {"script": list(answers), "ready": ready})
    return TeachModelAgent(model_class)


# load_model_class ---------------------------------------------------------------------------------------------------


@pytest.fixture
def plugin_module(monkeypatch):
    module = types.ModuleType("fake_teach_plugin")
    module.Good = ScriptedModel

    class DuckTyped:  # TEACh's own TeachModel subclasses are not ours; the loader goes by shape
        def get_next_action(self, *a, **k): ...
        def start_new_edh_instance(self, *a, **k): ...

    class Shapeless:
        def get_next_action(self, *a, **k): ...

    module.DuckTyped, module.Shapeless, module.not_a_class = DuckTyped, Shapeless, 3
    monkeypatch.setitem(sys.modules, "fake_teach_plugin", module)
    return module


def test_load_model_class_accepts_teach_shaped_classes(plugin_module):
    assert load_model_class("agent.baselines.random_agent:RandomTeachModel") is RandomTeachModel
    assert load_model_class("fake_teach_plugin:Good") is ScriptedModel
    assert load_model_class("fake_teach_plugin:DuckTyped") is plugin_module.DuckTyped


@pytest.mark.parametrize("spec, message", [
    ("agent.baselines.random_agent.RandomTeachModel", "expected 'package.module:Class'"),
    ("a:b:c", "expected 'package.module:Class'"),
    (":RandomTeachModel", "expected 'package.module:Class'"),
    ("agent.baselines.random_agent:", "expected 'package.module:Class'"),
    ("no_such_package.models:Model", "no module named 'no_such_package'"),
    ("agent.no_such_module:Model", "no module named 'agent.no_such_module'"),
    ("agent.baselines.random_agent:NoSuchModel", "has no attribute 'NoSuchModel'"),
    ("fake_teach_plugin:Shapeless", "is not a TeachModel class"),
    ("fake_teach_plugin:not_a_class", "is not a TeachModel class"),
])
def test_load_model_class_errors(plugin_module, spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_model_class(spec)


def test_load_model_class_names_a_broken_dependency(monkeypatch, tmp_path):
    (tmp_path / "plugin_with_missing_dep.py").write_text("import surely_not_installed_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="importing 'plugin_with_missing_dep' failed.*surely_not_installed_xyz"):
        load_model_class("plugin_with_missing_dep:Model")


def test_agent_rejects_what_is_not_a_model():
    with pytest.raises(ValueError, match="not a TeachModel class"):
        TeachModelAgent(dict)
    with pytest.raises(ValueError, match="expected a 'package.module:Class' spec"):
        TeachModelAgent(42)
    with pytest.raises(TypeError, match="split it first"):
        TeachModelAgent(RandomTeachModel, model_args="--seed 3")


# TeachModelAgent ----------------------------------------------------------------------------------------------------


def test_coordinates_are_read_row_first():
    agent = scripted(("Pickup", [0.2, 0.7]), ("Forward", None), ("Place", (0.9, 0.1)), ("Stop", None))
    agent.start(episode())
    assert agent.act(observation()) == AgentAction("PickupObject", x=0.7, y=0.2)
    assert agent.act(observation()) == AgentAction("MoveAhead")
    assert agent.act(observation()) == AgentAction("PutObject", x=0.1, y=0.9)
    assert agent.act(observation()) == AgentAction("Stop")


def test_start_passes_pil_history_and_edh_name():
    frames = [np.full((30, 40, 3), k, dtype=np.uint8) for k in (1, 2)]
    agent = scripted(("Stop", None))
    agent.start(episode(frames, path="/data/edh_instances/valid_unseen/g1.edh0.json"))
    (start,) = agent.model.starts
    assert start["edh_name"] == "/data/edh_instances/valid_unseen/g1.edh0.json"
    assert start["instance"] == {"instance_id": "g1.edh0", "dialog_history": []}
    assert [type(i) for i in start["images"]] == [Image.Image, Image.Image]
    assert [i.getpixel((0, 0)) for i in start["images"]] == [(1, 1, 1), (2, 2, 2)]

    agent = scripted(("Stop", None))
    agent.start(episode())  # no path: the instance id names it; TfD: no history
    assert agent.model.starts[0]["edh_name"] == "g1.edh0" and agent.model.starts[0]["images"] == []


def test_falsy_start_stops_at_once():
    agent = scripted(("Forward", None), ready=False)
    agent.start(episode())
    assert agent.act(observation()) == AgentAction("Stop")
    assert agent.model.calls == []


@pytest.mark.parametrize("answer, message", [
    (("Jump", None), "unknown TEACh action 'Jump'"),
    (("MoveAhead", None), "unknown TEACh action 'MoveAhead'"),  # AI2-THOR's name, not TEACh's
    ((None, None), "unknown TEACh action None"),
    (("Pickup", None), "needs obj_relative_coord"),
    (("Pickup", [0.5]), "needs obj_relative_coord"),
    (("Pickup", "ab"), "needs obj_relative_coord"),
    (("Open", [0.5, 1.5]), "outside"),
    (("Open", [float("nan"), 0.5]), "outside"),
])
def test_invalid_requests_raise_invalid_action(answer, message):
    agent = scripted(answer, ("Forward", None))
    agent.start(episode())
    with pytest.raises(InvalidAction, match=message):
        agent.act(observation())
    # TEACh records the request anyway; the next step goes on
    assert agent.prev_action == {"action": answer[0], "obj_relative_coord": answer[1]}
    assert agent.act(observation()) == AgentAction("MoveAhead")
    assert agent.model.calls[1]["prev_action"] == {"action": answer[0], "obj_relative_coord": answer[1]}


def test_malformed_answer_is_an_error_not_an_action():
    agent = scripted("Forward")
    agent.start(episode())
    with pytest.raises(TypeError, match="expected \\(action, obj_relative_coord\\)"):
        agent.act(observation())


def test_prev_action_img_name_and_restart():
    agent = scripted(("Open", [0.25, 0.5]), ("Turn Left", None), ("Stop", None), ("Forward", None))
    agent.start(episode(path="p.json"))
    for _ in range(3):
        agent.act(observation())
    calls = agent.model.calls
    assert [c["prev_action"] for c in calls] == [
        None, {"action": "Open", "obj_relative_coord": [0.25, 0.5]},
        {"action": "Turn Left", "obj_relative_coord": None}]
    assert [c["img_name"] for c in calls] == ["img__g1.edh0_1.jpeg", "img__g1.edh0_2.jpeg", "img__g1.edh0_3.jpeg"]
    assert {c["edh_name"] for c in calls} == {"p.json"}
    assert all(isinstance(c["img"], Image.Image) and c["img"].size == (40, 30) for c in calls)

    agent.start(episode())  # a new episode forgets the previous action and restarts the step count
    agent.act(observation())
    assert calls[3]["prev_action"] is None and calls[3]["img_name"] == "img__g1.edh0_1.jpeg"


def test_agent_from_spec_passes_arguments_and_reports():
    agent = TeachModelAgent("agent.baselines.random_agent:RandomTeachModel", ["--seed", "7"], process_index=1,
                            num_processes=3)
    model = agent.model
    assert (model.process_index, model.num_processes, model.model_args, model.seed) == (1, 3, ["--seed", "7"], 7)
    assert agent.report() == {"model": "agent.baselines.random_agent:RandomTeachModel"}
    assert json.dumps(agent.report())
    with pytest.raises(ValueError, match="process_index 3 outside"):
        TeachModelAgent(RandomTeachModel, process_index=3, num_processes=3)


def test_agent_wraps_a_model_instance():
    model = RandomTeachModel(0, 1, [])
    agent = TeachModelAgent(model)
    assert agent.model is model
    assert agent.report() == {"model": "agent.baselines.random_agent:RandomTeachModel"}


# RandomTeachModel ---------------------------------------------------------------------------------------------------


def rollout(model: RandomTeachModel, n: int = 200) -> list:
    assert model.start_new_edh_instance({}, [], edh_name="x")
    return [model.get_next_action(Image.fromarray(FRAME), {}, None) for _ in range(n)]


def test_random_model_is_deterministic_per_seed_and_process():
    run = rollout(RandomTeachModel(0, 1, ["--seed", "3", "--max-steps", "500"]))
    assert run == rollout(RandomTeachModel(0, 1, ["--seed=3", "--max-steps=500"]))
    assert run != rollout(RandomTeachModel(0, 1, ["--seed", "4", "--max-steps", "500"]))
    assert run != rollout(RandomTeachModel(1, 2, ["--seed", "3", "--max-steps", "500"]))
    assert {name for name, _ in run} == set(DRIVER_ACTIONS)
    for name, coord in run:
        if name in OBJECT_ACTIONS:
            assert len(coord) == 2 and all(0.0 <= c <= 1.0 for c in coord)
        else:
            assert coord is None


def test_random_model_stops_at_max_steps_every_episode():
    model = RandomTeachModel(0, 1, ["--max-steps", "5"])
    for _ in range(2):
        names = [name for name, _ in rollout(model, 5)]
        assert names[:4] == [n for n in names[:4] if n != "Stop"] and names[4] == "Stop"
    assert RandomTeachModel(0, 1, []).max_steps == 100


def test_random_model_through_the_agent_gives_valid_actions():
    agent = TeachModelAgent(RandomTeachModel, ["--max-steps", "50"])
    agent.start(episode())
    actions = [agent.act(observation()) for _ in range(50)]
    assert actions[-1] == AgentAction("Stop") and all(a.name != "Stop" for a in actions[:-1])


@pytest.mark.parametrize("args", [["--seed", "x"], ["--max-steps", "0"], ["--unknown"]])
def test_random_model_rejects_bad_arguments(args):
    with pytest.raises(ValueError, match="RandomTeachModel"):
        RandomTeachModel(0, 1, args)


# End to end ---------------------------------------------------------------------------------------------------------


def test_random_baseline_through_the_runner(request, tmp_path):
    run_teach = pytest.importorskip("agent.run_teach")
    tiny_teach_data = request.getfixturevalue("tiny_teach_data")  # generated only once the runner exists
    out = tmp_path / "run"
    code = run_teach.main(["--split", "valid_unseen", "--model", "agent.baselines.random_agent:RandomTeachModel",
                           "--model-args=--max-steps=5", "--limit", "1", "--data-dir", str(tiny_teach_data),
                           "--out", str(out)])
    assert code in (0, None)
    lines = (out / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["traj_len"] <= 5
    assert record["error"] == 0, record.get("error_message")
    assert record["predicted_stop"] == 1  # the model stopped itself at --max-steps
    assert record["model"] == "agent.baselines.random_agent:RandomTeachModel"
    assert (out / "summary.json").exists()
