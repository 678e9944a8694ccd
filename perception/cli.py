"""Shared bits of the perception command-line tools."""

from __future__ import annotations

import shlex
import sys
from typing import Sequence


def command_line(module: str, argv: Sequence[str] | None) -> str:
    """The command as a user would retype it (``python -m <module> <args>``), recorded beside runs and results;
    ``argv`` None means this process's own arguments."""
    args = sys.argv[1:] if argv is None else argv
    return f"python -m {module} " + " ".join(shlex.quote(a) for a in args)
