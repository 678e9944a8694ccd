"""TEACh's model plug-in interface, and an :class:`~agent.base.EpisodeAgent` that drives any such model.

:class:`TeachModel` mirrors TEACh's ``src/teach/inference/teach_model.py`` (``alexa/teach`` at 903191e), so a model
written for TEACh's ``teach_inference`` runs under our runner unchanged (``--model package.module:Class``), and a model
written here runs under TEACh's. :class:`TeachModelAgent` adapts one to our runner: it turns our frames into PIL images,
calls the model as TEACh's ``InferenceRunnerBase`` does, and turns its ``(action, obj_relative_coord)`` answer into an
:class:`~agent.observation.AgentAction`.

TEACh reads the returned coordinate **row first**: ``y = coord[0]``, ``x = coord[1]`` (``_execute_action``), although
its docstring says "(x, y)"; ET's ``get_obj_click`` returns it in that order too. We follow the runner.
"""

from __future__ import annotations

import abc
import importlib
import math
from typing import Any, Sequence

import numpy as np

from .base import EpisodeAgent, EpisodeInput, InvalidAction
from .observation import OBJECT_ACTIONS, STOP, TEACH_NAMES, THOR_NAMES, AgentAction, Observation

TEACH_OBJECT_ACTIONS = tuple(sorted(name for name, thor in THOR_NAMES.items() if thor in OBJECT_ACTIONS))
"""TEACh's object interactions (need an ``obj_relative_coord``): Close, Open, Pickup, Place, Pour, Slice, ToggleOff,
ToggleOn."""
TEACH_MOTIONS = tuple(sorted(name for name, thor in THOR_NAMES.items()
                             if thor not in OBJECT_ACTIONS and thor != STOP))
"""TEACh's motions (no coordinate): Backward, Forward, Look Down, Look Up, Pan Left, Pan Right, Turn Left,
Turn Right."""


class TeachModel(abc.ABC):
    """TEACh's model interface (``teach/inference/teach_model.py``).

    One instance is built per evaluation process. For each EDH or TfD instance the runner calls
    :meth:`start_new_edh_instance` once, then :meth:`get_next_action` once per step until the model answers ``"Stop"``,
    the trajectory reaches 1,000 steps or 30 actions have failed.
    """

    def __init__(self, process_index: int, num_processes: int, model_args: list[str]):
        """Build the model for process ``process_index`` of ``num_processes`` (0-based).

        :param model_args: the command-line arguments the runner did not recognise (TEACh passes its unknown CLI
            arguments here); a model parses them itself, e.g. with ``argparse``.
        """
        self.process_index = process_index
        self.num_processes = num_processes
        self.model_args = list(model_args)

    @abc.abstractmethod
    def get_next_action(self, img, edh_instance, prev_action, img_name=None,
                        edh_name=None) -> tuple[str, list | tuple | None]:
        """The next action for the current egocentric frame.

        :param img: the current frame, a ``PIL.Image.Image`` (RGB).
        :param edh_instance: the instance JSON (dialogue, for EDH the history actions; the fields used for scoring
            are withheld by our runner).
        :param prev_action: ``None`` at the first step, else ``{"action": name, "obj_relative_coord": coord}`` as this
            model returned it at the previous step. There is no success flag.
        :param img_name: the file name the runner saves the frame under (``img__<instance id>_<step>.jpeg``).
        :param edh_name: the instance's file path (or id).
        :returns: ``(action, obj_relative_coord)``: ``action`` one of TEACh's names (``"Stop"``, ``"Forward"``,
            ``"Backward"``, ``"Turn Left"``, ``"Turn Right"``, ``"Look Up"``, ``"Look Down"``, ``"Pan Left"``,
            ``"Pan Right"``, ``"Pickup"``, ``"Place"``, ``"Open"``, ``"Close"``, ``"ToggleOn"``, ``"ToggleOff"``,
            ``"Slice"``, ``"Pour"``); for object actions ``obj_relative_coord`` is the click **row first**,
            ``[y, x]``, fractions of the frame's height and width in [0, 1]; for the others it is ignored (``None``).
        """

    @abc.abstractmethod
    def start_new_edh_instance(self, edh_instance, edh_history_images, edh_name=None) -> bool:
        """Reset for a new instance.

        :param edh_instance: the instance JSON (see :meth:`get_next_action`).
        :param edh_history_images: the history's frames as ``PIL.Image.Image``, oldest first (TfD: ``[]``).
        :param edh_name: the instance's file path (or id).
        :returns: truthy if the model is ready; when falsy the runner requests no actions and the instance is scored
            with a trajectory of length 0.
        """


def _is_model_class(obj: Any) -> bool:
    return isinstance(obj, type) and all(callable(getattr(obj, m, None))
                                         for m in ("get_next_action", "start_new_edh_instance"))


def load_model_class(spec: str) -> type:
    """The class named by ``"package.module:Class"`` (``Class`` may be dotted, for a nested class).

    A class is accepted if it has ``get_next_action`` and ``start_new_edh_instance``, so models subclassing TEACh's own
    ``TeachModel`` load as well as ours. Raises ``ValueError`` naming what is wrong otherwise.
    """
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ValueError(f"model spec {spec!r}: expected 'package.module:Class'")
    module_name, class_name = (part.strip() for part in spec.split(":"))
    if not module_name or not class_name:
        raise ValueError(f"model spec {spec!r}: expected 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise ValueError(f"model spec {spec!r}: no module named {missing!r}") from error
        raise ValueError(f"model spec {spec!r}: importing {module_name!r} failed: {error}") from error
    except Exception as error:
        raise ValueError(f"model spec {spec!r}: importing {module_name!r} failed: {type(error).__name__}: {error}") \
            from error
    obj: Any = module
    for part in class_name.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"model spec {spec!r}: module {module_name!r} has no attribute {class_name!r}")
        obj = getattr(obj, part)
    if not _is_model_class(obj):
        raise ValueError(f"model spec {spec!r}: {class_name!r} is not a TeachModel class "
                         "(a class with get_next_action and start_new_edh_instance)")
    return obj


def _to_pil(frame: Any):
    from PIL import Image

    if isinstance(frame, Image.Image):
        return frame
    array = np.asarray(frame)
    if array.dtype != np.uint8:
        raise TypeError(f"frame: expected uint8 RGB, got dtype {array.dtype}")
    return Image.fromarray(array)


def _click(name: str, coord: Any) -> tuple[float, float]:
    """``(x, y)`` from TEACh's row-first ``obj_relative_coord``; InvalidAction if it is not two numbers in [0, 1]."""
    try:
        if isinstance(coord, (str, bytes)) or len(coord) != 2:
            raise TypeError
        y, x = float(coord[0]), float(coord[1])
    except (TypeError, ValueError):
        raise InvalidAction(f"TEACh action {name!r} needs obj_relative_coord [y, x]; got {coord!r}") from None
    if not (math.isfinite(x) and math.isfinite(y) and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise InvalidAction(f"TEACh action {name!r}: obj_relative_coord {list(coord)!r} outside [0, 1]")
    return x, y


def teach_to_agent_action(name: Any, coord: Any) -> AgentAction:
    """A model's ``(action, obj_relative_coord)`` as an :class:`AgentAction`; InvalidAction for what TEACh's simulator
    would reject (an unknown name, an object action without a valid coordinate)."""
    if not isinstance(name, str) or name not in THOR_NAMES:
        raise InvalidAction(f"unknown TEACh action {name!r}; expected one of {sorted(THOR_NAMES)}")
    if name == TEACH_NAMES[STOP]:
        return AgentAction(STOP)
    if name in TEACH_OBJECT_ACTIONS:
        x, y = _click(name, coord)
        return AgentAction.from_teach(name, x=x, y=y)
    return AgentAction.from_teach(name)



class TeachModelAgent(EpisodeAgent):
    """Drives a :class:`TeachModel` the way TEACh's inference runner does (``inference_runner_base._run_edh_instance``).

    :param spec_or_class: a ``"package.module:Class"`` spec, a model class, or a model instance (then ``model_args``,
        ``process_index`` and ``num_processes`` are not used).
    """

    name = "teach_model"

    def __init__(self, spec_or_class: Any, model_args: Sequence[str] = (), process_index: int = 0,
                 num_processes: int = 1):
        if isinstance(model_args, str):
            raise TypeError("model_args: expected a list of strings, got one string (split it first)")
        if not (0 <= process_index < num_processes):
            raise ValueError(f"process_index {process_index} outside [0, num_processes={num_processes})")
        if isinstance(spec_or_class, str):
            self.spec = spec_or_class
            model_class = load_model_class(spec_or_class)
            self.model = model_class(process_index, num_processes, list(model_args))
        elif isinstance(spec_or_class, type):
            if not _is_model_class(spec_or_class):
                raise ValueError(f"{spec_or_class!r} is not a TeachModel class "
                                 "(a class with get_next_action and start_new_edh_instance)")
            self.spec = f"{spec_or_class.__module__}:{spec_or_class.__qualname__}"
            self.model = spec_or_class(process_index, num_processes, list(model_args))
        elif _is_model_class(type(spec_or_class)):
            self.spec = f"{type(spec_or_class).__module__}:{type(spec_or_class).__qualname__}"
            self.model = spec_or_class
        else:
            raise ValueError(f"TeachModelAgent: expected a 'package.module:Class' spec, a TeachModel class or "
                             f"instance; got {spec_or_class!r}")
        self.episode: EpisodeInput | None = None
        self.ready = False
        self.prev_action: dict | None = None
        self.steps = 0

    @property
    def edh_name(self) -> str:
        assert self.episode is not None
        return self.episode.path or self.episode.instance_id

    def start(self, episode: EpisodeInput) -> None:
        self.episode = episode
        self.prev_action = None
        self.steps = 0
        self.ready = False
        images = [_to_pil(frame) for frame in episode.history_frames]
        self.ready = bool(self.model.start_new_edh_instance(episode.instance, images, edh_name=self.edh_name))

    def act(self, observation: Observation) -> AgentAction:
        if self.episode is None:
            raise RuntimeError("TeachModelAgent.act called before start")
        if not self.ready:  # TEACh requests no actions after a falsy start_new_edh_instance
            return AgentAction(STOP)
        self.steps += 1  # TEACh counts steps from 1 and names the frame before asking the model
        img_name = f"img__{self.episode.instance_id}_{self.steps}.jpeg"
        answer = self.model.get_next_action(_to_pil(observation.rgb), self.episode.instance, self.prev_action,
                                            img_name=img_name, edh_name=self.edh_name)
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise TypeError(f"{self.spec}.get_next_action returned {answer!r}; expected (action, obj_relative_coord)")
        name, coord = answer
        # TEACh records the request as the model made it, whether or not the simulator accepts it.
        self.prev_action = {"action": name, "obj_relative_coord": coord}
        return teach_to_agent_action(name, coord)

    def report(self) -> dict:
        return {"model": self.spec}

    def close(self) -> None:
        close = getattr(self.model, "close", None)
        if callable(close):
            close()


__all__ = ["TEACH_MOTIONS", "TEACH_OBJECT_ACTIONS", "TeachModel", "TeachModelAgent", "load_model_class",
           "teach_to_agent_action"]
