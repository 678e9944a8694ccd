"""``EmbeddedEnv``: our AI2-THOR-compatible household simulator (procedural rooms, MuJoCo rendering, CPU, headless).

The env runs one step as AI2-THOR does: check the call (``envs.validation``), let the action act on the world
(:mod:`.actions`), apply the state-change rules (:mod:`.rules`), update TEACh's "simbot" properties around object
interactions (``envs.simbot``, as TEACh's wrapper does after every interaction), then render and report
(:mod:`.metadata`). TEACh states go in and out through :mod:`.state`. Action names, arguments, failure reporting and
state changes follow AI2-THOR 3.x as its documentation describes them (ai2thor.allenai.org/ithor/documentation:
``navigation``, ``interactive-physics``, ``object-state-changes``) and its client reports them (``ai2thor/controller.py``
and ``ai2thor/server.py`` of the ``ai2thor`` 3.1.0 wheel); object interaction by screen coordinates ``x, y`` in [0, 1]
is resolved as TEACh's wrapper resolves clicks (``envs.clicks``: exact pixel first, then a +-10 px square; reach
1.5 m).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..base import INTERACTION_ACTIONS, Env, normalise_step_args
from ..event import Event
from ..scenes import parse_scene
from ..simbot import SimbotTracker, custom_metadata_from_state
from ..validation import check_state, invalid_argument
from .actions import ALL_ACTIONS, ActionFailed, Actions
from .layout import Scene, build_scene
from .metadata import SceneMetadata
from .renderer import SceneRenderer
from .rules import add_slice_pieces, apply_state_rules, reassert
from .state import STATE_DECIMALS, add_copies, check_agent_fits, load_state, rounded, unknown_objects
from .world import GRID_SIZE

__all__ = ["EmbeddedEnv", "ActionFailed", "STATE_DECIMALS"]


class EmbeddedEnv(Env):
    def __init__(self, width: int = 300, height: int = 300, fov: float = 90, seed: int = 0,
                 scene: str | None = None, visibility_distance: float = 1.5, grid_size: float = GRID_SIZE,
                 render_depth: bool = True, render_instance_segmentation: bool = True, **unknown: Any):
        if unknown:
            raise ValueError(f"EmbeddedEnv: unknown option(s) {sorted(unknown)}; expected width, height, fov, seed, "
                             "scene, visibility_distance, grid_size, render_depth, render_instance_segmentation")
        for name, value in (("width", width), ("height", height)):
            if not isinstance(value, int) or not 16 <= value <= 2048:
                raise ValueError(f"EmbeddedEnv: {name} must be an int in [16, 2048], got {value!r}")
        if not 10 <= float(fov) <= 170:
            raise ValueError(f"EmbeddedEnv: fov must be in [10, 170] degrees, got {fov!r}")
        if abs(grid_size - GRID_SIZE) > 1e-9:
            raise ValueError(f"EmbeddedEnv: only gridSize {GRID_SIZE} is supported, got {grid_size}")
        self.width, self.height, self.fov = width, height, float(fov)
        self.seed = int(seed)
        self.visibility_distance = float(visibility_distance)
        self.render_depth = render_depth
        self.render_instance_segmentation = render_instance_segmentation
        self.rng = np.random.default_rng(self.seed)
        self.scene: Scene | None = None
        self.renderer: SceneRenderer | None = None
        self.simbot = SimbotTracker()
        self.unknown_state_objects: list[str] = []
        """objectIds of the last ``initial_state`` that this world lacks (left out, with a warning)."""
        self._metadata: SceneMetadata | None = None
        self._event: Event | None = None
        if scene is not None:
            self.reset(scene=scene)

    # --- Env protocol --------------------------------------------------------------------------------------------------
    @property
    def last_event(self) -> Event:
        if self._event is None:
            raise RuntimeError("EmbeddedEnv: call reset(scene=...) before reading last_event")
        return self._event

    def reset(self, scene: str | None = None, initial_state: dict | None = None, seed: int | None = None,
              **options: Any) -> Event:
        if options:
            raise ValueError(f"reset(): unknown option(s) {sorted(options)}")
        if seed is not None:
            self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        name = scene or (self.scene.name if self.scene else "FloorPlan1")
        name = str(parse_scene(name))
        if initial_state is not None:  # checked before anything changes: a refused state leaves the env as it was
            check_state(initial_state)
        built = build_scene(name)
        if initial_state is not None:
            check_agent_fits(initial_state, built)
        if self.renderer is not None:
            self.renderer.close()
        self.scene = built
        self.unknown_state_objects = []
        if initial_state is not None:
            add_copies(built.world, initial_state)  # before the pieces and the render model are made
        add_slice_pieces(self.world, built.seed + 1)
        self.renderer = SceneRenderer(self.scene, self.width, self.height, self.fov)
        self._metadata = SceneMetadata(self.scene, self.renderer, self.simbot, self.fov, self.width, self.height,
                                       self.visibility_distance, self.render_depth,
                                       self.render_instance_segmentation)
        self._apply_rules()
        self.simbot.reset(self._raw_objects())
        self.simbot.apply_step_rules(self._raw_objects, self._follow_up)  # TEACh runs its rules at episode start
        if initial_state is not None:
            self._load_state(initial_state)
            self._report_unknown_objects(initial_state)
        return self._emit("Initialize", True, "", None)

    def step(self, action: str | dict | None = None, **args: Any) -> Event:
        if self.scene is None:
            raise RuntimeError("EmbeddedEnv: call reset(scene=...) before step()")
        name, args = normalise_step_args(action, args)
        if name not in ALL_ACTIONS:
            raise ValueError(f"InvalidAction: {name!r} is not an action of the embedded simulator; known: "
                             f"{', '.join(sorted(ALL_ACTIONS))}")
        for flag in ("renderInstanceSegmentation", "renderDepthImage", "renderImage"):
            args.pop(flag, None)
        args = {key: value for key, value in args.items() if value is not None}  # None = not given, as in AI2-THOR
        problem = invalid_argument(name, args)
        if problem is not None:  # envs.validation: a bad value fails the action and changes nothing
            return self._emit(name, False, problem, None, error_code="InvalidArgument")
        interaction = name in INTERACTION_ACTIONS
        held_before = [o.object_id for o in self.world.objects.values() if o.held]
        if interaction:
            self.simbot.before_interaction(self._raw_objects())
        target_box: dict = {}
        try:
            result = Actions(self.world, self._event, self.seed).run(name, args, target_box)
            success, error = True, ""
        except ActionFailed as failure:
            result, success, error = None, False, str(failure)
        self.world.invalidate()
        self._apply_rules()
        if interaction:
            self.simbot.after_interaction(name, success, target_box.get("id"), held_before, self._raw_objects,
                                          self._follow_up)
        return self._emit(name, success, error, result)

    def export_state(self) -> dict:
        """The world as a TEACh state: ``agents`` [commander, driver], ``objects`` (metadata with simbot properties)
        and ``custom_object_metadata``, floats rounded to ``STATE_DECIMALS``. The world is first set to that rounded
        state itself (objects move by less than 1e-6 m), so ``reset(initial_state=state)`` rebuilds exactly the world
        the state describes: export -> reset -> export gives the same dict to the letter."""
        self.simbot.add_classes(self._raw_objects())  # as TEACh re-derives classes when it captures a state
        self._load_state(self._captured_state())
        m = self.last_event.metadata
        self._emit(m["lastAction"], m["lastActionSuccess"], m["errorMessage"], m["actionReturn"])
        return self._captured_state()

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None

    @property
    def world(self):
        return self.scene.world

    # --- the parts of a step ------------------------------------------------------------------------------------------
    def _apply_rules(self) -> None:
        apply_state_rules(self.world)
        self._metadata.version += 1

    def _follow_up(self, action: str, objectId: str, fillLiquid: str | None = None, **_: Any) -> None:
        """A follow-up action of TEACh's simbot rules (no render, no new event): see :func:`.rules.reassert`."""
        if reassert(self.world, action, objectId, fillLiquid):
            self._metadata.version += 1

    def _raw_objects(self) -> list[dict]:
        return self._metadata.raw_objects()

    def _emit(self, action: str, success: bool, error: str, result: Any, error_code: str = "ActionFailed") -> Event:
        self._event = self._metadata.emit(action, success, error, result, error_code)
        return self._event

    # --- state in / out --------------------------------------------------------------------------------------------
    def _load_state(self, state: dict) -> None:
        load_state(self.world, state)
        self._apply_rules()
        self.simbot.reset(self._raw_objects(), custom_metadata_from_state(state))
        self.simbot.apply_step_rules(self._raw_objects, self._follow_up)

    def _captured_state(self) -> dict:
        """The state as the last render shows it: a deep copy, floats rounded to ``STATE_DECIMALS``."""
        agent = self.last_event.metadata["agent"]
        return rounded({"time_start": 0, "agents": [agent, agent], "objects": self.simbot.merged(self._raw_objects()),
                        "custom_object_metadata": self.simbot.custom})

    def _report_unknown_objects(self, state: dict) -> None:
        """Objects of a state this world lacks (a real AI2-THOR scene's, say) are left out: say which, in
        ``unknown_state_objects`` and a warning, rather than let them vanish silently."""
        self.unknown_state_objects = unknown_objects(self.world, state)
        if self.unknown_state_objects:
            more = len(self.unknown_state_objects) - 5
            warnings.warn(f"initial_state: {len(self.unknown_state_objects)} object(s) that {self.scene.name} lacks "
                          f"are left out: {', '.join(self.unknown_state_objects[:5])}"
                          f"{f' (+{more} more)' if more > 0 else ''}", stacklevel=3)
