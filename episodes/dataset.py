"""TEACh's directory layout: ``DATA/games/<split>/``, ``DATA/edh_instances/<split>/``, ``DATA/tfd_instances/<split>/``,
``DATA/images/<split>/<game_id>/`` (TEACh README, ``cli/download.py``), for the released data and ours alike.

Loading a split never stops at a bad file: each malformed file is skipped and recorded with the error naming its
field, and every good file is still returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from envs.scenes import SPLITS

from .formats import (GAME_SUFFIX, TFD_SUFFIX, EdhInstance, Game, TfdInstance, load_edh_instance, load_game,
                      load_tfd_instance, write_json)
from .schema import EpisodeFormatError

DIVIDED_SPLITS = ("divided_val_seen", "divided_val_unseen", "divided_test_seen", "divided_test_unseen")
"""The re-divided valid/test splits TEACh's inference CLI also accepts (``meta_data_files/divided_split/``)."""

KINDS = ("games", "edh_instances", "tfd_instances")
_PATTERNS = {"games": "*" + GAME_SUFFIX, "edh_instances": "*.edh*.json", "tfd_instances": "*" + TFD_SUFFIX}
_LOADERS: dict[str, Callable] = {"games": load_game, "edh_instances": load_edh_instance,
                                 "tfd_instances": load_tfd_instance}


def check_split(split: str) -> str:
    if split not in SPLITS and split not in DIVIDED_SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS + DIVIDED_SPLITS}")
    return split


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown file kind {kind!r}; expected one of {KINDS}")
    return kind


def split_dir(root: str | Path, kind: str, split: str) -> Path:
    return Path(root) / check_kind(kind) / check_split(split)


def images_dir(root: str | Path, split: str, game_id: str) -> Path:
    return Path(root) / "images" / check_split(split) / game_id


def game_path(root: str | Path, split: str, game_id: str) -> Path:
    return split_dir(root, "games", split) / f"{game_id}{GAME_SUFFIX}"


def edh_path(root: str | Path, split: str, instance_id: str) -> Path:
    return split_dir(root, "edh_instances", split) / f"{instance_id}.json"


def tfd_path(root: str | Path, split: str, game_id: str) -> Path:
    return split_dir(root, "tfd_instances", split) / f"{game_id}{TFD_SUFFIX}"


def write_game(game: Game, root: str | Path, split: str) -> Path:
    return write_json(game.to_dict(), game_path(root, split, game.game_id))


def write_edh_instance(instance: EdhInstance, root: str | Path, split: str) -> Path:
    return write_json(instance.to_dict(), edh_path(root, split, instance.instance_id))


def write_tfd_instance(instance: TfdInstance, root: str | Path, split: str) -> Path:
    return write_json(instance.to_dict(), tfd_path(root, split, instance.game_id))


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of a load, and why."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: field {self.field!r}: {self.message}"


@dataclass
class LoadReport:
    """The files of one kind and split that loaded, and those skipped with the reason."""

    kind: str
    split: str
    items: list = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def split_files(root: str | Path, kind: str, split: str) -> list[Path]:
    """The files of ``kind`` in ``split``, sorted by name; an absent split directory gives an empty list."""
    directory = split_dir(root, kind, split)
    return sorted(directory.glob(_PATTERNS[kind])) if directory.is_dir() else []


def iter_split(root: str | Path, kind: str, split: str) -> Iterator[Game | EdhInstance | TfdInstance | SkippedFile]:
    """Yield each loaded file, or a :class:`SkippedFile` for one that failed validation."""
    loader = _LOADERS[check_kind(kind)]
    for path in split_files(root, kind, split):
        try:
            yield loader(path)
        except EpisodeFormatError as error:
            yield SkippedFile(error.path, error.field, error.message)


def load_split(root: str | Path, kind: str, split: str) -> LoadReport:
    report = LoadReport(kind, split)
    for item in iter_split(root, kind, split):
        (report.skipped if isinstance(item, SkippedFile) else report.items).append(item)
    return report


def present_splits(root: str | Path, kind: str) -> list[str]:
    """Splits of ``kind`` that exist under ``root``, in TEACh's order."""
    return [s for s in SPLITS + DIVIDED_SPLITS if (Path(root) / kind / s).is_dir()]
