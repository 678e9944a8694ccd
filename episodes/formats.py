"""TEACh's files as objects: :class:`Game`, :class:`EdhInstance`, :class:`TfdInstance`; read, validate, build, write.

Each object keeps the file's dict as it was read (``data``), so writing it back gives the same JSON; the properties
are views onto TEACh's keys (see :mod:`episodes.schema` for the format and its sources). The ``make_*`` builders
produce the dicts in the key order TEACh's ``to_dict`` methods write, for our generator.

Naming on disk (TEACh README, ``cli/eval.py``): ``<game_id>.game.json``, ``<game_id>.edh<k>.json`` (instance id =
file name minus ``.json``), ``<game_id>.tfd.json``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs import jsonfile
from envs.jsonfile import JsonFileError

from .actions import default_definitions
from .schema import EpisodeFormatError, validate_edh_instance, validate_game, validate_tfd_instance

GAME_SUFFIX = ".game.json"
TFD_SUFFIX = ".tfd.json"


def read_json(path: str | Path) -> Any:
    """Parse a JSON file with ``envs.jsonfile.read_json``; a missing, unreadable, binary or truncated file raises
    :class:`EpisodeFormatError` naming it (field ``<file>``)."""
    try:
        return jsonfile.read_json(path)
    except JsonFileError as exc:
        raise EpisodeFormatError(path, "<file>", exc.reason) from None
    except OSError as exc:
        raise EpisodeFormatError(path, "<file>", f"cannot read: {exc.strerror or exc}") from None


def write_json(data: Any, path: str | Path, indent: int | None = 2) -> Path:
    """Write JSON atomically (temporary file, then rename) so a crash never leaves a truncated file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(data, out, indent=indent)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; data files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _stem(path: Path, suffix: str) -> str:
    return path.name[: -len(suffix)] if path.name.endswith(suffix) else path.stem


# ---------------------------------------------------------------- games


@dataclass
class Game:
    """A TEACh gameplay session; ``game_id`` comes from the file name, since the file itself does not carry it."""

    game_id: str
    data: dict
    path: Path | None = None

    @property
    def task(self) -> dict:
        return self.data["tasks"][0]

    @property
    def episode(self) -> dict:
        return self.task["episodes"][0]

    @property
    def task_id(self) -> int:
        return self.task["task_id"]

    @property
    def task_name(self) -> str:
        return self.task["task_name"]

    @property
    def task_params(self) -> list[str]:
        return list(self.task["task_params"])

    @property
    def world(self) -> str:
        return self.episode["world"]

    @property
    def world_type(self) -> str:
        return self.episode["world_type"]

    @property
    def interactions(self) -> list[dict]:
        return self.episode["interactions"]

    @property
    def initial_state(self) -> dict:
        return self.episode["initial_state"]

    @property
    def final_state(self) -> dict | None:
        return self.episode.get("final_state")

    def utterances(self) -> list[tuple[str, str]]:
        """(speaker, utterance) for every Keyboard/Audio interaction, speaker "Commander"/"Driver"."""
        speakers = {0: "Commander", 1: "Driver"}
        return [(speakers.get(i.get("agent_id"), str(i.get("agent_id"))), i["utterance"])
                for i in self.interactions if "utterance" in i]

    def to_dict(self) -> dict:
        return self.data


def load_game(path: str | Path) -> Game:
    path = Path(path)
    data = validate_game(read_json(path), path)
    return Game(_stem(path, GAME_SUFFIX), data, path)


def make_game(game_id: str, task: dict, world: str, world_type: str, initial_state: dict, interactions: list[dict],
              final_state: dict | None = None, episode_id: str | None = None, task_type: str = "EDH",
              comments: str = "", definitions: dict | None = None) -> Game:
    """Build and validate a game in TEACh's layout (``Dataset``/``Task_THOR``/``Episode.to_dict`` key order).

    ``task`` is a task record (task_id, task_name, task_params, task_nparams, task_anchor_object, desc, components,
    relations), e.g. from :func:`episodes.tasks.task_record`; ``definitions`` defaults to TEACh's agents, actions and
    status. ``commander_embodied`` is written as the string "False", as TEACh writes it.
    """
    episode = {
        "episode_id": episode_id or game_id,
        "world": world,
        "world_type": world_type,
        "commander_embodied": "False",
        "initial_state": initial_state,
        "interactions": list(interactions),
    }
    if final_state is not None:
        episode["final_state"] = final_state
    task_dict = {key: task[key] for key in ("task_id", "task_name", "task_params", "task_nparams",
                                            "task_anchor_object", "desc", "components", "relations")}
    task_dict["comments"] = task.get("comments", "")
    task_dict["episodes"] = [episode]
    data = {
        "version": "2.0",
        "task_type": task_type,
        "comments": comments,
        "definitions": definitions if definitions is not None else default_definitions(),
        "tasks": [task_dict],
    }
    return Game(game_id, validate_game(data, f"<game {game_id}>"))


# ---------------------------------------------------------------- EDH and TfD instances


@dataclass
class _Instance:
    data: dict
    path: Path | None = None

    @property
    def game_id(self) -> str:
        return self.data["game_id"]

    @property
    def dialog_history(self) -> list[list[str]]:
        return self.data["dialog_history"]

    @property
    def driver_action_history(self) -> list[dict]:
        return self.data.get("driver_action_history", [])

    @property
    def driver_actions_future(self) -> list[dict] | None:
        """The expert's future actions (the path-length reference); None when stripped, as in the test split."""
        return self.data.get("driver_actions_future")

    def to_dict(self) -> dict:
        return self.data


@dataclass
class EdhInstance(_Instance):
    """Execution from Dialogue History: history, the expert future and the state changes the future must cause."""

    @property
    def instance_id(self) -> str:
        return self.data["instance_id"]

    @property
    def pred_start_idx(self) -> int:
        return self.data["pred_start_idx"]

    @property
    def state_changes(self) -> dict | None:
        return self.data.get("state_changes")

    @property
    def expected_init_goal_conditions(self) -> tuple[int, int] | None:
        """(total, satisfied) cached after replaying the history, or None when absent."""
        total = self.data.get("expected_init_goal_conditions_total")
        satisfied = self.data.get("expected_init_goal_conditions_satisfied")
        return None if total is None or satisfied is None else (total, satisfied)


@dataclass
class TfdInstance(_Instance):
    """Trajectory from Dialogue: the whole dialogue, the expert's whole action sequence; checked on the game's task."""

    @property
    def instance_id(self) -> str:
        return f"{self.game_id}.tfd"


def load_edh_instance(path: str | Path) -> EdhInstance:
    path = Path(path)
    return EdhInstance(validate_edh_instance(read_json(path), path), path)


def load_tfd_instance(path: str | Path) -> TfdInstance:
    path = Path(path)
    return TfdInstance(validate_tfd_instance(read_json(path), path), path)


def make_edh_instance(game_id: str, k: int, dialog_history: list, driver_action_history: list[dict],
                      driver_image_history: list[str], driver_actions_future: list[dict],
                      driver_images_future: list[str], interactions: list[dict], pred_start_idx: int,
                      init_state_diff: dict, final_state_diff: dict, state_changes: dict,
                      expected_init_goal_conditions_total: int, expected_init_goal_conditions_satisfied: int,
                      history_subgoals: list | None = None, future_subgoals: list | None = None,
                      dialog_history_cleaned: list | None = None,
                      dialog_history_with_das: list | None = None) -> EdhInstance:
    """Build and validate an EDH instance with the released files' keys (the data notebook's list).
    ``dialog_history_with_das`` is written only when given (its layout in the release is UNVERIFIED; see
    :mod:`episodes.dialogue`)."""
    data = {
        "dialog_history": [list(turn) for turn in dialog_history],
        "driver_action_history": list(driver_action_history),
        "driver_image_history": list(driver_image_history),
        "driver_actions_future": list(driver_actions_future),
        "driver_images_future": list(driver_images_future),
        "interactions": list(interactions),
        "game_id": game_id,
        "instance_id": f"{game_id}.edh{k}",
        "pred_start_idx": pred_start_idx,
        "init_state_diff": init_state_diff,
        "final_state_diff": final_state_diff,
        "state_changes": state_changes,
        "history_subgoals": list(history_subgoals or []),
        "future_subgoals": list(future_subgoals or []),
        "expected_init_goal_conditions_total": expected_init_goal_conditions_total,
        "expected_init_goal_conditions_satisfied": expected_init_goal_conditions_satisfied,
        "dialog_history_cleaned": [list(t) for t in (dialog_history_cleaned or dialog_history)],
    }
    if dialog_history_with_das is not None:
        data["dialog_history_with_das"] = [list(t) for t in dialog_history_with_das]
    return EdhInstance(validate_edh_instance(data))


def make_tfd_instance(game_id: str, dialog_history: list, driver_actions_future: list[dict],
                      driver_images_future: list[str], interactions: list[dict] | None = None,
                      dialog_history_cleaned: list | None = None,
                      dialog_history_with_das: list | None = None) -> TfdInstance:
    """Build and validate a TfD instance: empty history, the whole dialogue, every driver action as the future."""
    data = {
        "game_id": game_id,
        "dialog_history": [list(turn) for turn in dialog_history],
        "dialog_history_cleaned": [list(t) for t in (dialog_history_cleaned or dialog_history)],
        "driver_action_history": [],
        "driver_image_history": [],
        "driver_actions_future": list(driver_actions_future),
        "driver_images_future": list(driver_images_future),
        "interactions": list(interactions or []),
    }
    if dialog_history_with_das is not None:
        data["dialog_history_with_das"] = [list(t) for t in dialog_history_with_das]
    return TfdInstance(validate_tfd_instance(data))
