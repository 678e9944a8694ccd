"""Shared bits of the perception command-line tools."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Sequence

DEFAULT_EVAL_OUT = Path("results") / "perception_eval"
"""Where the evaluation commands write by default: a git-ignored run folder, never beside a (shipped) checkpoint."""


def command_line(module: str, argv: Sequence[str] | None) -> str:
    """The command as a user would retype it (``python -m <module> <args>``), recorded beside runs and results;
    ``argv`` None means this process's own arguments."""
    args = sys.argv[1:] if argv is None else argv
    return f"python -m {module} " + " ".join(shlex.quote(a) for a in args)


def recorded_command(path: Path) -> str | None:
    """The command a results file says made it: ``command`` of a JSON file, or a Markdown file's first line
    written as `` `command` ``; None when it records none or cannot be read."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None
        return data.get("command") if isinstance(data, dict) else None
    first = text.split("\n", 1)[0].strip()
    return first[1:-1] if len(first) > 1 and first.startswith("`") and first.endswith("`") else None


def refuse_to_overwrite(paths: Sequence[Path], command: str, overwrite: bool = False) -> None:
    """Raise ValueError naming the first of ``paths`` that exists and was written by another command (results
    shipped with the repository, or another setting's), unless ``overwrite``. A rerun of the same command may
    replace its own files. Called before any work, so a refused run costs nothing."""
    if overwrite:
        return
    for path in paths:
        if path.is_file():
            recorded = recorded_command(path)
            if recorded != command:
                made_by = f"made by `{recorded}`" if recorded else "not made by this command"
                raise ValueError(f"{path} exists, {made_by}; write elsewhere with --out DIR or --label NAME, or "
                                 f"pass --overwrite to replace it")
