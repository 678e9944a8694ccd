"""TEACh's action space: ids, names, types and the compact ``action_idx`` used in EDH/TfD action lists.

Read from TEACh's own data files (copied under ``episodes/data/teach/``, MIT licence beside them):
``default_definitions.json`` (``definitions.actions``: action_id, action_name, action_type, pose_delta) and
``ai2thor_resources/action_to_action_idx.json`` / ``action_idx_to_action_name.json`` (ids 0-35 for models).
Which keys an interaction of each action type carries follows ``alexa/teach`` ``src/teach/dataset/actions.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from envs.jsonfile import read_json

DATA_DIR = Path(__file__).with_name("data") / "teach"

ACTION_TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "Motion": ("pose",),
    "MapGoal": ("start_x", "start_y", "end_x", "end_y"),
    "ObjectInteraction": ("x", "y", "oid"),
    "ChangeCamera": (),
    "ProgressCheck": ("query",),
    "Keyboard": ("utterance",),
    "Audio": ("utterance", "file_name"),
}
"""Keys an interaction of each action type must carry besides action_id/time_start/duration/success (TEACh's
``Action_*.from_dict``). ``ChangeCamera`` falls back to TEACh's ``Action_Basic``."""

UTTERANCE_ACTION_TYPES = ("Keyboard", "Audio")


@dataclass(frozen=True)
class TeachAction:
    """One entry of TEACh's action definitions."""

    action_id: int
    name: str
    action_type: str
    idx: int
    pose_delta: tuple[float, ...] | None = None

    @property
    def is_object_interaction(self) -> bool:
        return self.action_type == "ObjectInteraction"

    @property
    def is_utterance(self) -> bool:
        return self.action_type in UTTERANCE_ACTION_TYPES


class ActionTable:
    """Lookups by id, name and idx over TEACh's action definitions."""

    def __init__(self, actions: list[TeachAction], agents: list[dict], status: list[dict]):
        self.actions = list(actions)
        self.agents = list(agents)
        self.status = list(status)
        self._by_id = {a.action_id: a for a in self.actions}
        self._by_name = {a.name: a for a in self.actions}
        self._by_idx = {a.idx: a for a in self.actions}

    def __contains__(self, action_id: object) -> bool:
        return isinstance(action_id, int) and not isinstance(action_id, bool) and action_id in self._by_id

    def by_id(self, action_id: int) -> TeachAction:
        try:
            return self._by_id[action_id]
        except (KeyError, TypeError):
            raise KeyError(f"unknown TEACh action_id {action_id!r}; known ids: {sorted(self._by_id)}") from None

    def by_name(self, name: str) -> TeachAction:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"unknown TEACh action name {name!r}; known names: {sorted(self._by_name)}") from None

    def by_idx(self, idx: int) -> TeachAction:
        try:
            return self._by_idx[idx]
        except KeyError:
            raise KeyError(f"unknown TEACh action_idx {idx!r}; expected 0-{len(self._by_idx) - 1}") from None

    @property
    def ids(self) -> list[int]:
        return [a.action_id for a in self.actions]

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.actions]


@lru_cache(maxsize=1)
def load_actions(data_dir: str | None = None) -> ActionTable:
    """TEACh's action table from ``default_definitions.json`` and the action_idx files."""
    root = Path(data_dir) if data_dir else DATA_DIR
    definitions = read_json(root / "default_definitions.json")["definitions"]
    id_to_idx = {int(k): v for k, v in read_json(root / "ai2thor_resources" / "action_to_action_idx.json").items()}
    idx_to_name = {int(k): v for k, v in read_json(root / "ai2thor_resources" / "action_idx_to_action_name.json").items()}
    actions = []
    for entry in definitions["actions"]:
        action_id, name = entry["action_id"], entry["action_name"]
        idx = id_to_idx[action_id]
        if idx_to_name[idx] != name:
            raise ValueError(f"{root}: action {action_id} is {name!r} but action_idx {idx} names {idx_to_name[idx]!r}")
        delta = entry.get("pose_delta")
        actions.append(TeachAction(action_id, name, entry["action_type"], idx,
                                   tuple(delta) if delta else None))
    return ActionTable(actions, definitions["agents"], definitions["status"])


def default_definitions() -> dict:
    """A fresh copy of TEACh's ``definitions`` block (agents, actions, status), as written into game files."""
    return read_json(DATA_DIR / "default_definitions.json")["definitions"]


def driver_action_record(action_id: int, time_start: float, oid: str | None = None, x: float | None = None,
                         y: float | None = None) -> dict:
    """One element of an EDH/TfD ``driver_action_history`` / ``driver_actions_future`` list, in TEACh's keys:
    action_id, action_name, action_idx, time_start, obj_interaction_action (1/0), oid, x, y (null when not an object
    interaction)."""
    action = load_actions().by_id(action_id)
    interacts = action.is_object_interaction
    return {
        "action_id": action.action_id,
        "action_name": action.name,
        "action_idx": action.idx,
        "time_start": time_start,
        "obj_interaction_action": 1 if interacts else 0,
        "oid": oid if interacts else None,
        "x": x if interacts else None,
        "y": y if interacts else None,
    }
