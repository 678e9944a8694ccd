"""The real AI2-THOR backend: an adapter from ``ai2thor.controller.Controller`` (the Unity simulator) to ``Env``.

It drives the controller the way TEACh's wrapper does (``alexa/teach`` ``src/teach/simulators/simulator_THOR.py`` at
903191e: ``__launch_simulator``, ``add_interaction``, ``restore_scene_object_locs_and_states``), through the API of the
``ai2thor`` 3.1.0 / 5.0.0 wheels (``ai2thor/controller.py``, ``ai2thor/server.py``):

* TEACh's controller settings (gridSize 0.25, snapToGrid, visibilityDistance 1.5) plus depth and instance segmentation
  on every step, at the requested frame size and vertical field of view.
* Object actions given a click ``x, y`` are resolved to an objectId with :func:`envs.clicks.resolve_click` and
  range-checked with :func:`envs.clicks.within_reach`; a miss fails the step (``lastActionSuccess`` False) instead of
  raising. ``PutObject`` then goes out as TEACh sends it (the click, ``putNearXY``, ``forceAction``,
  ``placeStationary``, no objectId, so Unity's raycast picks the spot); ``SliceObject`` needs a held knife; ``Pour`` is
  TEACh's compound of ``FillObjectWithLiquid`` on the target and ``EmptyLiquidFromObject`` on the held object.
* TEACh's simbot properties (:mod:`envs.simbot`) are tracked around every object interaction and merged into the
  metadata objects of the returned :class:`envs.event.Event`.

The Unity build cannot be downloaded everywhere; when the controller cannot start, one ``RuntimeError`` says so and
points at the embedded backend.
"""

from __future__ import annotations

import copy
from typing import Any

from . import clicks
from .base import INTERACTION_ACTIONS, Env, normalise_step_args
from .event import Event
from .simbot import SimbotTracker, custom_metadata_from_state
from .validation import check_state, invalid_argument

TEACH_INITIALIZE_SETTINGS = {"gridSize": 0.25, "snapToGrid": True, "visibilityDistance": 1.5}
"""The ``Initialize`` parameters TEACh's ``__launch_simulator`` passes (``visibility_distance`` 1.5 m)."""

NO_TARGET_MESSAGE = "Could not find a target object at the specified location"
TOO_FAR_MESSAGE = "{} is too far away to be interacted with"
EMBEDDED_HINT = 'Use the embedded simulator instead: envs.make_env(backend="embedded").'

WATER_BASIN_TYPES = ("Sink", "SinkBasin", "Bathtub", "BathtubBasin")
"""Pour targets that only empty the held object (TEACh empties it even though filling a basin fails)."""

STATE_RESTORE_ACTIONS = {
    "toggleable": ("isToggled", "ToggleObjectOn", "ToggleObjectOff"),
    "canFillWithLiquid": ("isFilledWithLiquid", "FillObjectWithLiquid", "EmptyLiquidFromObject"),
    "dirtyable": ("isDirty", "DirtyObject", "CleanObject"),
    "openable": ("isOpen", "OpenObject", "CloseObject"),
    "canBeUsedUp": ("isUsedUp", "UseUpObject", None),
    "sliceable": ("isSliced", "SliceObject", None),
    "cookable": ("isCooked", "CookObject", None),
    "breakable": ("isBroken", "BreakObject", None),
}
"""affordance -> (state key, action that sets it, action that clears it or None): TEACh's
``restore_scene_object_locs_and_states`` table, applied in this order."""


def controller_settings(width: int, height: int, fov: float, teach_settings: bool = True,
                        cloud_rendering: bool = False, **controller_kwargs: Any) -> dict:
    """Keyword arguments for ``ai2thor.controller.Controller``; explicit ``controller_kwargs`` win."""
    settings: dict[str, Any] = {"width": int(width), "height": int(height), "fieldOfView": float(fov),
                                "renderDepthImage": True, "renderInstanceSegmentation": True}
    if teach_settings:
        settings.update(TEACH_INITIALIZE_SETTINGS)
    if cloud_rendering:
        try:
            from ai2thor.platform import CloudRendering
        except ImportError as exc:  # ai2thor < 3.3 has no off-screen platform
            raise RuntimeError(f"cloud_rendering=True needs ai2thor >= 5 (ai2thor.platform.CloudRendering): {exc}. "
                               f"{EMBEDDED_HINT}") from None
        settings["platform"] = CloudRendering
    settings.update(controller_kwargs)
    return settings


def start_controller(settings: dict):
    """Construct the Unity controller, or raise one RuntimeError explaining why it cannot run here."""
    try:
        from ai2thor.controller import Controller
    except ImportError as exc:
        raise RuntimeError(f"The ai2thor backend needs the 'ai2thor' package, which is not importable ({exc}). "
                           f"{EMBEDDED_HINT}") from None
    try:
        return Controller(**settings)
    except Exception as exc:  # no build for this platform/commit, no network, no X server / Vulkan, ...
        raise RuntimeError(
            f"The ai2thor backend could not start AI2-THOR's Unity build ({type(exc).__name__}: {exc}). The build is "
            "downloaded on first use (or given with local_executable_path=...) and needs an X server, or "
            f"cloud_rendering=True with a Vulkan GPU. {EMBEDDED_HINT}") from exc


def _name_stem(name: str) -> str:
    # TEACh cuts Unity's "(Copy)..." / "(Clone)" suffixes before matching object names.
    return name[: name.index("(")] if "(" in name else name


def _nearest(objects: list[dict], position: dict) -> dict | None:
    def dist2(o):
        p = o["position"]
        return (p["x"] - position["x"]) ** 2 + (p["y"] - position["y"]) ** 2 + (p["z"] - position["z"]) ** 2

    return min(objects, key=dist2, default=None)


class AI2ThorEnv(Env):
    """``Env`` over the real Unity AI2-THOR (``pip install ai2thor``), with TEACh's wrapper rules.

    ``controller`` injects a prepared ``ai2thor.controller.Controller`` (tests use one wired to a fake server);
    otherwise one is built from :func:`controller_settings`. ``cloud_rendering=True`` selects ai2thor 5's off-screen
    Vulkan platform on headless Linux.
    """

    def __init__(self, width: int = 300, height: int = 300, fov: float = 90, seed: int = 0, controller=None,
                 teach_settings: bool = True, cloud_rendering: bool = False, **controller_kwargs: Any):
        self.width, self.height, self.fov, self.seed = int(width), int(height), float(fov), seed
        self.teach_settings = teach_settings
        self.tracker = SimbotTracker()
        self.restore_errors: list[str] = []
        self._event: Event | None = None
        self._closed = False
        if controller is None:
            settings = controller_settings(width, height, fov, teach_settings, cloud_rendering, **controller_kwargs)
            controller = start_controller(settings)
        self.controller = controller
        if getattr(controller, "last_event", None) is not None:
            self.tracker.reset(controller.last_event.metadata["objects"])
            self._event = self._convert(controller.last_event)

    # --- Env surface ------------------------------------------------------------------------------------------------
    @property
    def last_event(self) -> Event:
        if self._event is None:
            raise RuntimeError("no event yet: call reset(scene=...) first")
        return self._event

    def reset(self, scene: str | None = None, initial_state: dict | None = None, **options: Any) -> Event:
        """``controller.reset(scene)``; then, with a TEACh ``initial_state``, restore it as TEACh's
        ``load_scene_state`` does. Restore problems are reported in the returned event's ``errorMessage`` (and
        ``restore_errors``), with ``lastActionSuccess`` False, as TEACh reports them with a False success flag."""
        raw = self.controller.reset(scene, **options)
        self.tracker.reset(raw.metadata["objects"])
        self.restore_errors = []
        if initial_state is not None:
            self.restore_errors = self._restore(initial_state)
        self.tracker.apply_step_rules(self._current_objects, self._run_follow_up)
        # The sink rule may have stepped the controller since: report the reset itself.
        outcome = {k: raw.metadata.get(k) for k in ("lastAction", "lastActionSuccess", "errorMessage")}
        if initial_state is not None:
            outcome.update(lastActionSuccess=not self.restore_errors, errorMessage="\n".join(self.restore_errors))
        self._event = self._convert(self.controller.last_event, outcome)
        return self._event

    def step(self, action: str | dict | None = None, **args: Any) -> Event:
        if self._event is None:
            raise RuntimeError("step() before reset(): call reset(scene=...) first")
        name, args = normalise_step_args(action, args)
        args = {key: value for key, value in args.items() if value is not None}  # None = not given
        problem = invalid_argument(name, args)
        if problem is not None:  # envs.validation: reported as a failed action, as the embedded world does
            self._event = self._convert(self.controller.last_event, {
                "lastAction": name, "lastActionSuccess": False, "errorMessage": problem,
                "errorCode": "InvalidArgument", "actionReturn": None})
            return self._event
        if name in INTERACTION_ACTIONS:
            self._event = self._interact(name, args)
        else:
            self._event = self._convert(self.controller.step(action=name, **args))
        return self._event

    def export_state(self) -> dict:
        """TEACh's ``get_current_state``: re-derive classes and run the step rules, then capture
        ``agents`` ([commander camera, driver]; the driver's dict stands in when there is no third-party camera),
        ``objects`` with the simbot properties merged, and ``custom_object_metadata``."""
        self.tracker.add_classes(self._current_objects())
        self.tracker.apply_step_rules(self._current_objects, self._run_follow_up)
        meta = self.controller.last_event.metadata
        if self._event is not None:
            kept = {k: self._event.metadata.get(k) for k in ("lastAction", "lastActionSuccess", "errorMessage")}
            self._event = self._convert(self.controller.last_event, kept)
        driver = copy.deepcopy(dict(meta["agent"]))
        cameras = meta.get("thirdPartyCameras") or []
        commander = copy.deepcopy(dict(cameras[0])) if cameras else copy.deepcopy(driver)
        return {"agents": [commander, driver], "objects": self.tracker.merged(meta["objects"]),
                "custom_object_metadata": copy.deepcopy(self.tracker.custom)}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.controller.stop()

    # --- object interactions ------------------------------------------------------------------------------------------
    def _interact(self, action: str, args: dict) -> Event:
        before = self.controller.last_event.metadata
        held_before = [o["objectId"] for o in before.get("inventoryObjects") or []]
        self.tracker.before_interaction(before["objects"])
        raw, target, message = self._send_interaction(action, dict(args), held_before)
        success = raw is not None and bool(raw.metadata["lastActionSuccess"])
        self.tracker.after_interaction(action, success, target, held_before, self._current_objects,
                                       self._run_follow_up)
        if success:
            error = ""
        elif raw is not None and raw.metadata.get("errorMessage"):
            error = raw.metadata["errorMessage"]
        else:
            error = message or ""
        outcome = {"lastAction": action, "lastActionSuccess": success, "errorMessage": error}
        if raw is not None:
            outcome["actionReturn"] = raw.metadata.get("actionReturn")
        return self._convert(self.controller.last_event, outcome)

    def _send_interaction(self, action: str, args: dict, held_before: list[str]):
        """Resolve the target and send the AI2-THOR call(s). Returns (raw event or None, target id, message)."""
        x, y = args.pop("x", None), args.pop("y", None)
        if (x is None) != (y is None):
            raise ValueError(f"{action}: a click needs both x and y, got x={x!r}, y={y!r}")
        clicked = x is not None and "objectId" not in args
        if x is not None and not clicked:  # the caller named the object; keep their click arguments as given
            args.update(x=x, y=y)
        objects = {o["objectId"]: o for o in self.tracker.merged(self.controller.last_event.metadata["objects"])}
        held = objects.get(held_before[0]) if held_before else None

        if action in ("PutObject", "Pour") and held is None:
            return None, None, f"{action}: ObjectInteraction only supported when holding an object"
        if action == "Pour" and not held.get("isFilledWithLiquid"):
            return None, None, "Pour: ObjectInteraction only supported for held object filled with liquid"
        if action == "SliceObject" and self.teach_settings and (held is None or "Knife" not in held["objectType"]):
            return None, None, "SliceObject: ObjectInteraction only supported for held object Knife"

        target = args.get("objectId")
        if clicked and action in clicks.ACTION_AFFORDANCES:
            target = clicks.resolve_click(self._event, x, y, action, objects=objects)
            if target is None:
                return None, None, NO_TARGET_MESSAGE
            if not clicks.within_reach(self._event, x, y):
                return None, target, TOO_FAR_MESSAGE.format(target)
        elif clicked:  # no TEACh affordance for this action (e.g. CookObject): let AI2-THOR's own raycast pick
            args.update(x=x, y=y)

        if action == "Pour":
            if target is None:
                raise ValueError("Pour needs a target: objectId=... or a click x=..., y=...")
            return self._pour(target, held, args), target, None
        call = {"action": action, **args}
        if clicked and action in clicks.ACTION_AFFORDANCES:
            if action == "PutObject":
                call = {"action": "PutObject", "x": x, "y": y, "putNearXY": True, "forceAction": True,
                        "placeStationary": True, **args}
            else:
                call["objectId"] = target
                if action == "SliceObject":
                    call.update(x=x, y=y)
        if action == "FillObjectWithLiquid":
            call.setdefault("fillLiquid", "water")
        return self.controller.step(call), target, None

    def _pour(self, target: str, held: dict, args: dict):
        liquid = "coffee" if held.get("simbotIsFilledWithCoffee") else "water"
        fill = self.controller.step({"action": "FillObjectWithLiquid", "objectId": target, "fillLiquid": liquid,
                                     **args})
        target_obj = next((o for o in self.controller.last_event.metadata["objects"] if o["objectId"] == target), None)
        if fill.metadata["lastActionSuccess"] or (target_obj and target_obj["objectType"] in WATER_BASIN_TYPES):
            return self.controller.step({"action": "EmptyLiquidFromObject", "objectId": held["objectId"]})
        return fill

    def _run_follow_up(self, **action: Any):
        return self.controller.step(action)

    def _current_objects(self) -> list[dict]:
        return self.controller.last_event.metadata["objects"]

    # --- initial state ------------------------------------------------------------------------------------------------
    def _restore(self, state: dict) -> list[str]:
        """TEACh's ``load_scene_state``: object poses, then object states, then the driver's pose; then breakables
        made unbreakable and the custom properties loaded. Returns the problems met (empty when all went well)."""
        check_state(state)
        errors: list[str] = []

        def run(call: dict) -> None:
            event = self.controller.step(call)
            if not event.metadata["lastActionSuccess"]:
                errors.append(f"{call['action']}: {event.metadata.get('errorMessage', '')}")

        scene_names = {_name_stem(o["name"]) for o in self._current_objects() if "name" in o}
        poses = [{"objectName": _name_stem(o["name"]), "rotation": dict(o["rotation"]), "position": dict(o["position"])}
                 for o in state["objects"]
                 if (o.get("pickupable") or o.get("moveable")) and "name" in o and _name_stem(o["name"]) in scene_names]
        run({"action": "SetObjectPoses", "objectPoses": poses, "placeStationary": True})

        scene = self._current_objects()
        scene_by_id = {o["objectId"]: o for o in scene}
        for saved in state["objects"]:
            for affordance, (key, set_action, clear_action) in STATE_RESTORE_ACTIONS.items():
                if not saved.get(affordance):
                    continue
                current = scene_by_id.get(saved["objectId"]) or _nearest(scene, saved["position"])
                if current is None or current["objectType"] != saved["objectType"]:
                    errors.append(f"restore states: could not find scene obj for {saved['objectId']}")
                    continue
                if saved.get(key) == current.get(key):
                    continue
                wanted = set_action if saved.get(key) else clear_action
                if wanted is None:
                    errors.append(f"restore states: unable to take action to remedy object {saved['objectId']} "
                                  f"wants state {key}={saved.get(key)} while scene obj has {current.get(key)}")
                    continue
                call = {"action": wanted, "objectId": current["objectId"], "forceAction": True}
                if wanted == "FillObjectWithLiquid":
                    call["fillLiquid"] = "water"
                run(call)

        agents = state.get("agents") or []  # none listed: the scene's start pose stays, as in the embedded world
        driver = agents[1] if len(agents) > 1 else agents[0] if agents else None
        if driver is not None:
            run({"action": "TeleportFull", "x": driver["position"]["x"], "y": driver["position"]["y"],
                 "z": driver["position"]["z"], "rotation": dict(driver["rotation"]),
                 "horizon": driver.get("cameraHorizon", 0.0), "standing": driver.get("isStanding", True)})

        if self.teach_settings:  # TEACh: keep Place (PutObject with forceAction) from shattering plates
            for object_type in sorted({o["objectType"] for o in self._current_objects() if o.get("breakable")}):
                self.controller.step({"action": "MakeObjectsOfTypeUnbreakable", "objectType": object_type})
        self.tracker.reset(self._current_objects(), custom_metadata_from_state(state))
        return errors

    # --- conversion ---------------------------------------------------------------------------------------------------
    def _convert(self, raw, outcome: dict | None = None) -> Event:
        """``ai2thor.server.Event`` -> our Event: same frames and colours, metadata as a plain dict with the simbot
        properties merged into ``objects``; ``outcome`` overrides the action-result keys."""
        metadata = dict(raw.metadata)
        metadata["objects"] = self.tracker.merged(raw.metadata["objects"])
        if outcome:
            metadata.update(outcome)
        return Event(metadata, raw.frame, raw.depth_frame, raw.instance_segmentation_frame,
                     dict(raw.object_id_to_color or {}))
