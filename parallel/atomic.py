"""Files and directories that appear whole or not at all: written under a hidden partial name beside their final
path, then renamed (``os.replace`` / ``os.rename`` within one directory are atomic on POSIX file systems).

A kill while writing leaves only a hidden ``.<name>.partial-<pid>...`` entry, never a truncated file under the real
name; :func:`remove_partials` sweeps those left by processes that are gone.
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

_PARTIAL = re.compile(r"^\..+\.partial-(\d+)(\.[^.]*)?$")


def _partial_name(path: Path) -> Path:
    # The real suffix is kept last so that writers choosing a format by extension (PIL, cv2) still do.
    return path.with_name(f".{path.name}.partial-{os.getpid()}{path.suffix}")


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends normally it is fsynced and renamed to ``path``,
    otherwise deleted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial_name(path)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


@contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary directory beside ``path``; when the block ends normally it replaces ``path`` (an
    existing ``path`` is removed first), otherwise it is deleted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial_name(path)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        # A directory cannot be renamed over a non-empty one: move the old one aside (hidden, swept if killed here).
        old = path.with_name(f".{path.name}.partial-{os.getpid()}.old")
        if old.exists():
            shutil.rmtree(old)
        os.rename(path, old)
        os.rename(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_partials(root: str | os.PathLike, max_depth: int = 4) -> list[Path]:
    """Delete the partial files and directories under ``root`` (to ``max_depth`` levels) whose writer process is no
    longer alive on this machine; returns what was removed."""
    root = Path(root)
    removed: list[Path] = []
    if not root.is_dir():
        return removed

    def visit(directory: Path, depth: int) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        for entry in entries:
            match = _PARTIAL.match(entry.name)
            if match and not _alive(int(match.group(1))):
                target = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
                removed.append(target)
            elif depth < max_depth and entry.is_dir(follow_symlinks=False):
                visit(Path(entry.path), depth + 1)

    visit(root, 0)
    return removed


__all__ = ["atomic_directory", "atomic_file", "remove_partials", "write_text_atomic"]
