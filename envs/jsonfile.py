"""The one JSON reader every package uses (DESIGN.md: ``envs/`` owns it): a file that is missing, unreadable, not
UTF-8 or not JSON raises one error whose message starts with the file's path.

JSON text is UTF-8 (RFC 8259 section 8.1); a leading byte order mark is ignored, as the RFC allows. Python's parser
also accepts ``NaN`` and ``Infinity``, which JSON does not define: they are read as floats, and the validators that
know what a field means refuse them there, naming the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class JsonFileError(ValueError):
    """A JSON file that cannot be read or parsed: ``path`` is the file, ``reason`` says why."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def read_json(path: str | Path, hint: str = "") -> Any:
    """Parse the JSON file at ``path``. A missing file raises ``FileNotFoundError`` (``hint`` is appended to its
    message, e.g. the command that makes the file); an unreadable, non-UTF-8 or malformed one :class:`JsonFileError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: not found{hint}") from None
    except OSError as exc:
        raise JsonFileError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonFileError(path, f"not a UTF-8 text file (byte {exc.start} is {raw[exc.start]:#04x}); "
                                  "a JSON file was expected") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonFileError(path, f"not valid JSON (truncated?): {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from None
    except RecursionError:
        raise JsonFileError(path, "not valid JSON: nested too deeply") from None
