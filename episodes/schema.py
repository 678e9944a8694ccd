"""Field-by-field validation of TEACh's JSON files: games, EDH instances and TfD instances.

The keys and their types follow the released dataset as ``alexa/teach`` reads and writes it (HEAD 903191e):
``src/teach/dataset/{dataset,task_THOR,episode,initialization,interaction,actions}.py`` (``from_dict``/``to_dict``),
the EDH/TfD key lists of ``src/teach/analysis/teach_data_exploration.ipynb`` and the readers in ``inference/`` and
``eval/``. Keys TEACh reads are required; keys it writes but never reads are checked only when present; unknown keys
are kept untouched so a file round-trips. Every problem raises one :class:`EpisodeFormatError` naming the file and the
field path (``tasks[0].episodes[0].interactions[3].action_id``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from envs.scenes import parse_scene
from envs.validation import state_problems

from .actions import ACTION_TYPE_KEYS, ActionTable, load_actions


class EpisodeFormatError(ValueError):
    """A TEACh file that does not match the format: ``path`` is the file, ``field`` the dotted field path."""

    def __init__(self, path: str | Path | None, field: str, message: str):
        self.path = str(path) if path is not None else "<in memory>"
        self.field = field
        self.message = message
        super().__init__(f"{self.path}: field {field!r}: {message}")


_NUMBER = (int, float)
_TYPE_NAMES = {str: "string", int: "integer", float: "number", list: "list", dict: "object", bool: "boolean",
               type(None): "null"}


def _type_label(types: tuple) -> str:
    names = []
    for t in types:
        label = _TYPE_NAMES.get(t, t.__name__)
        if label not in names:
            names.append(label)
    return " or ".join(names)


class _Checker:
    """Carries the file path so every helper can raise an error naming it."""

    def __init__(self, path):
        self.path = path

    def fail(self, field: str, message: str):
        raise EpisodeFormatError(self.path, field, message)

    def value(self, value: Any, field: str, types: tuple) -> Any:
        is_bool = isinstance(value, bool)
        allowed = isinstance(value, types) and not (is_bool and bool not in types)
        if not allowed:
            self.fail(field, f"expected {_type_label(types)}, got {type(value).__name__} {_short(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(field, f"expected a finite number, got {value}")
        return value

    def fraction(self, record: dict, key: str, where: str, required: bool = True, nullable: bool = False) -> Any:
        """A click coordinate: a number in [0, 1] of the frame's width or height (TEACh's relative x, y)."""
        value = self.key(record, key, where, _NUMBER + ((type(None),) if nullable else ()), required)
        if value is not None and not 0.0 <= value <= 1.0:
            self.fail(_field(where, key), f"expected a fraction of the frame in [0, 1], got {value}")
        return value

    def key(self, record: dict, key: str, where: str, types: tuple, required: bool = True) -> Any:
        field = f"{where}.{key}" if where else key
        if key not in record:
            if required:
                self.fail(field, "missing")
            return None
        return self.value(record[key], field, types)

    def list_of(self, record: dict, key: str, where: str, item_types: tuple, required: bool = True) -> list | None:
        items = self.key(record, key, where, (list,), required)
        if items is None:
            return None
        field = f"{where}.{key}" if where else key
        for i, item in enumerate(items):
            self.value(item, f"{field}[{i}]", item_types)
        return items


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _field(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


# ---------------------------------------------------------------- games


def validate_game(data: Any, path=None) -> dict:
    """Validate a ``*.game.json`` dict (TEACh ``Dataset.from_dict`` + ``Task_THOR``/``Episode``/``Interaction``)."""
    check = _Checker(path)
    check.value(data, "<root>", (dict,))
    check.key(data, "version", "", (str,), required=False)
    check.key(data, "task_type", "", (str, type(None)))
    definitions = check.key(data, "definitions", "", (dict,))
    game_actions = _validate_definitions(check, definitions)
    tasks = check.key(data, "tasks", "", (list,))
    if not tasks:
        check.fail("tasks", "empty; a game holds one task")
    for t, task in enumerate(tasks):
        where = f"tasks[{t}]"
        check.value(task, where, (dict,))
        _validate_task_record(check, task, where)
        episodes = check.key(task, "episodes", where, (list,))
        if not episodes:
            check.fail(f"{where}.episodes", "empty; a game task holds one episode")
        for e, episode in enumerate(episodes):
            _validate_episode(check, episode, f"{where}.episodes[{e}]", game_actions)
    return data


def _validate_definitions(check: _Checker, definitions: dict) -> dict[int, str]:
    """The game's own action definitions decide each interaction's type, as in TEACh's ``Definitions``."""
    for key in ("agents", "status"):
        check.key(definitions, key, "definitions", (list,))
    actions = check.key(definitions, "actions", "definitions", (list,))
    action_types = {}
    for i, action in enumerate(actions):
        where = f"definitions.actions[{i}]"
        check.value(action, where, (dict,))
        action_id = check.key(action, "action_id", where, (int,))
        check.key(action, "action_name", where, (str,))
        action_type = check.key(action, "action_type", where, (str,))
        action_types[action_id] = action_type
    return action_types


def _validate_task_record(check: _Checker, task: dict, where: str) -> None:
    check.key(task, "task_id", where, (int,))
    check.key(task, "task_name", where, (str,))
    nparams = check.key(task, "task_nparams", where, (int,))
    params = check.list_of(task, "task_params", where, (str,))
    if len(params) != nparams:
        check.fail(f"{where}.task_params", f"has {len(params)} values but task_nparams is {nparams}")
    check.key(task, "task_anchor_object", where, (str, type(None)))
    check.key(task, "desc", where, (str,))
    check.key(task, "components", where, (dict,))
    check.key(task, "relations", where, (list,))
    check.key(task, "comments", where, (str, type(None)), required=False)


def _validate_episode(check: _Checker, episode: Any, where: str, action_types: dict[int, str]) -> None:
    check.value(episode, where, (dict,))
    check.key(episode, "episode_id", where, (str,))
    world = check.key(episode, "world", where, (str,))
    try:
        parse_scene(world)
    except ValueError as exc:
        check.fail(f"{where}.world", str(exc))
    check.key(episode, "world_type", where, (str,))
    check.key(episode, "commander_embodied", where, (str, bool))
    validate_state(check, check.key(episode, "initial_state", where, (dict,)), f"{where}.initial_state")
    final_state = check.key(episode, "final_state", where, (dict,), required=False)
    if final_state is not None:
        validate_state(check, final_state, f"{where}.final_state")
    interactions = check.key(episode, "interactions", where, (list,))
    for i, interaction in enumerate(interactions):
        validate_interaction(check, interaction, f"{where}.interactions[{i}]", action_types)


def validate_state(check: _Checker, state: dict, where: str) -> None:
    """A saved simulator state (TEACh ``Initialization``): time_start, agents (the commander and the driver, each
    with a finite pose), objects (each with an objectId, objectType and finite pose; ``envs.validation``, the rule a
    simulator applies when it restores a state), custom_object_metadata."""
    check.key(state, "time_start", where, _NUMBER)
    for field, problem in state_problems(state, require_agents=True)[:1]:
        check.fail(f"{where}.{field}", problem)
    custom = check.key(state, "custom_object_metadata", where, (dict,), required=False) or {}
    for object_id, props in custom.items():
        check.value(props, f"{where}.custom_object_metadata.{object_id}", (dict,))


def validate_interaction(check: _Checker, interaction: Any, where: str, action_types: dict[int, str]) -> None:
    """One interaction: agent_id (or object_id), a known action_id and the keys its action type needs."""
    check.value(interaction, where, (dict,))
    if "object_id" in interaction:
        check.key(interaction, "object_id", where, (str, int))
    else:
        agent = check.key(interaction, "agent_id", where, (int,))
        if agent not in (0, 1):
            check.fail(_field(where, "agent_id"), f"expected 0 (Commander) or 1 (Driver), got {agent}")
    action_id = check.key(interaction, "action_id", where, (int,))
    if action_id not in action_types:
        check.fail(_field(where, "action_id"), f"unknown action id {action_id}; known ids: {sorted(action_types)}")
    check.key(interaction, "time_start", where, _NUMBER)
    check.key(interaction, "duration", where, _NUMBER)
    success = check.key(interaction, "success", where, (int, bool, type(None)))
    if isinstance(success, int) and success not in (0, 1):
        check.fail(_field(where, "success"), f"expected 1 or 0, got {success}")
    action_type = action_types[action_id]
    for key in ACTION_TYPE_KEYS.get(action_type, ()):
        if key == "pose":
            pose = check.list_of(interaction, "pose", where, _NUMBER)
            if len(pose) != 6:
                check.fail(_field(where, "pose"), f"expected 6 numbers, got {len(pose)}")
        elif key == "oid":
            check.key(interaction, "oid", where, (str, type(None)))
        elif action_type == "ObjectInteraction" and key in ("x", "y"):
            check.fraction(interaction, key, where)
        elif key in ("utterance", "query", "file_name"):
            check.key(interaction, key, where, (str,))
        else:
            check.key(interaction, key, where, _NUMBER)
    if "pose_delta" in interaction and interaction["pose_delta"] is not None:
        check.list_of(interaction, "pose_delta", where, _NUMBER)


# ---------------------------------------------------------------- EDH / TfD instances


def _validate_dialog(check: _Checker, data: dict, key: str, required: bool) -> None:
    turns = check.list_of(data, key, "", (list,), required)
    for i, turn in enumerate(turns or []):
        if len(turn) < 2:
            check.fail(f"{key}[{i}]", f"expected [speaker, utterance], got {_short(turn)}")
        check.value(turn[0], f"{key}[{i}][0]", (str,))
        check.value(turn[1], f"{key}[{i}][1]", (str,))


def validate_driver_actions(check: _Checker, data: dict, key: str, required: bool, table: ActionTable) -> None:
    """EDH/TfD driver action lists: action_id, action_name, action_idx, time_start, obj_interaction_action, oid,
    x, y."""
    actions = check.list_of(data, key, "", (dict,), required)
    for i, action in enumerate(actions or []):
        where = f"{key}[{i}]"
        action_id = check.key(action, "action_id", where, (int,))
        if action_id not in table:
            check.fail(f"{where}.action_id", f"unknown action id {action_id}; known ids: {table.ids}")
        known = table.by_id(action_id)
        name = check.key(action, "action_name", where, (str,))
        if name != known.name:
            check.fail(f"{where}.action_name", f"{name!r} does not match action_id {action_id} ({known.name!r})")
        idx = check.key(action, "action_idx", where, (int,), required=False)
        if idx is not None and idx != known.idx:
            check.fail(f"{where}.action_idx", f"{idx} does not match action_id {action_id} (action_idx {known.idx})")
        check.key(action, "time_start", where, _NUMBER)
        check.key(action, "obj_interaction_action", where, (int, bool), required=False)
        check.key(action, "oid", where, (str, type(None)), required=False)
        check.fraction(action, "x", where, required=False, nullable=True)
        check.fraction(action, "y", where, required=False, nullable=True)


def _validate_state_changes(check: _Checker, data: dict, key: str) -> None:
    changes = check.key(data, key, "", (dict,), required=False)
    if changes is None:
        return
    objects = check.key(changes, "objects", key, (dict,))
    for object_id, props in objects.items():
        check.value(props, f"{key}.objects.{object_id}", (dict,))


def _validate_instance_common(check: _Checker, data: dict, table: ActionTable, history_required: bool) -> None:
    check.key(data, "game_id", "", (str,))
    _validate_dialog(check, data, "dialog_history", required=True)
    _validate_dialog(check, data, "dialog_history_cleaned", required=False)
    check.key(data, "dialog_history_with_das", "", (list,), required=False)
    validate_driver_actions(check, data, "driver_action_history", history_required, table)
    validate_driver_actions(check, data, "driver_actions_future", False, table)
    check.list_of(data, "driver_image_history", "", (str,), history_required)
    check.list_of(data, "driver_images_future", "", (str,), required=False)
    for key in ("history_subgoals", "future_subgoals"):
        check.key(data, key, "", (list,), required=False)
    interactions = check.list_of(data, "interactions", "", (dict,), required=False) or []
    action_types = {a.action_id: a.action_type for a in table.actions}
    for i, interaction in enumerate(interactions):
        validate_interaction(check, interaction, f"interactions[{i}]", action_types)


def validate_edh_instance(data: Any, path=None, table: ActionTable | None = None) -> dict:
    """Validate an EDH instance (``<game_id>.edh<k>.json``). The future, state diffs and cached goal-condition counts
    are optional because TEACh strips them from test instances; metrics that need them say so when absent."""
    check = _Checker(path)
    table = table or load_actions()
    check.value(data, "<root>", (dict,))
    _validate_instance_common(check, data, table, history_required=True)
    instance_id = check.key(data, "instance_id", "", (str,))
    if not instance_id.startswith(data["game_id"] + ".edh"):
        check.fail("instance_id", f"{instance_id!r} is not '<game_id>.edh<k>' for game_id {data['game_id']!r}")
    if path is not None and Path(path).name != instance_id + ".json":
        check.fail("instance_id", f"{instance_id!r} does not match the file name {Path(path).name!r}")
    start = check.key(data, "pred_start_idx", "", (int,))
    interactions = data.get("interactions")
    if interactions is not None and not 0 <= start <= len(interactions):
        check.fail("pred_start_idx", f"{start} is outside 0..{len(interactions)} (number of interactions)")
    for key in ("init_state_diff", "final_state_diff"):
        check.key(data, key, "", (dict,), required=False)
    _validate_state_changes(check, data, "state_changes")
    for key in ("expected_init_goal_conditions_total", "expected_init_goal_conditions_satisfied"):
        check.key(data, key, "", (int,), required=False)
    return data


def validate_tfd_instance(data: Any, path=None, table: ActionTable | None = None) -> dict:
    """Validate a TfD instance (``<game_id>.tfd.json``); its id is the file name minus ``.json``."""
    check = _Checker(path)
    table = table or load_actions()
    check.value(data, "<root>", (dict,))
    _validate_instance_common(check, data, table, history_required=False)
    if path is not None and Path(path).name != f"{data['game_id']}.tfd.json":
        check.fail("game_id", f"{data['game_id']!r} does not match the file name {Path(path).name!r}")
    return data
