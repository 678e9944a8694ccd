"""The run directory: ``config.json``, ``episodes.jsonl`` (one JSON line per finished episode), ``summary.json`` and
``summary.md`` (DESIGN.md, "Results"; the files are described in ``results/README.md``).

Each line of ``episodes.jsonl`` is TEACh's per-trajectory record (``episodes.metrics.TRAJ_FIELDS``, the entries of
``traj_stats`` that TEACh's ``eval/compute_metrics.py`` builds with ``create_new_traj_metrics``/``evaluate_traj``)
plus our run fields (:data:`RUN_FIELDS`) and any extras (e.g. ``program``). Lines are appended, flushed and fsynced one
episode at a time, so a killed run loses at most the episode in flight; a summary is always recomputed from the lines
with TEACh's ``aggregate_metrics`` (``episodes.metrics.aggregate_metrics``), so a resumed or merged run gives the same
numbers as an uninterrupted one. A repeated ``instance_id`` keeps its last line, as TEACh keys ``traj_stats`` by id.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import math
import os
import statistics
import warnings
from pathlib import Path
from typing import Any, Iterable

from episodes.metrics import TRAJ_FIELDS, aggregate_metrics

CONFIG_FILE = "config.json"
EPISODES_FILE = "episodes.jsonl"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"

RUN_FIELDS = ("task", "split", "mode", "steps", "failed_actions", "wall_time_s", "cpu_time_s", "error_message")
"""Our per-episode fields beside TEACh's: the task family (``Coffee``), split, ``tfd``/``edh``, the number of actions
sent to the simulator, how many of them failed, wall and CPU seconds, and the exception text (null when none)."""

RECORD_FIELDS = TRAJ_FIELDS + RUN_FIELDS

CONFIG_KEY_FIELDS = ("mode", "split", "perception", "planner", "model", "data_dir", "seed", "perception_options")
"""Config fields that must match for a run to be resumed into the same directory (``perception_options`` is stored
only when options were given, so runs without any, older ones included, match)."""

MODES = ("tfd", "edh")
UNKNOWN_TASK = "(unknown)"


class ResultsFormatError(ValueError):
    """A line of ``episodes.jsonl`` (other than a truncated last one) that is not a JSON record."""

    def __init__(self, path: Path | str, line_number: int, reason: str):
        self.path = Path(path)
        self.line_number = line_number
        self.reason = reason
        super().__init__(f"{path}: line {line_number}: {reason}")


def _json_default(value: Any) -> Any:
    """Serialise what a runner naturally hands over: numpy scalars and arrays, paths, dataclasses, tuples/sets."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _to_json_text(value: Any, **kwargs) -> str:
    return json.dumps(value, default=_json_default, allow_nan=False, **kwargs)


def _plain_config(config: Any) -> dict:
    """The config as JSON would store it (tuples become lists, paths strings), so stored and given configs compare."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict or a dataclass instance, not {type(config).__name__}")
    try:
        return json.loads(_to_json_text(config))
    except (TypeError, ValueError) as error:
        raise ValueError(f"config is not JSON-serialisable: {error}") from None


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a sibling temporary file and rename it over ``path``, so readers never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _parse_line(path: Path, line_number: int, line: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ResultsFormatError(path, line_number, f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise ResultsFormatError(path, line_number, f"expected a JSON object, got {type(record).__name__}")
    if not isinstance(record.get("instance_id"), str):
        raise ResultsFormatError(path, line_number, "field 'instance_id' is missing or not a string")
    return record


def read_episode_lines(path: Path | str, repair: bool = False) -> list[dict]:
    """Every record of an ``episodes.jsonl``, in file order (repeated ids included).

    A malformed LAST line is what a killed run leaves (the process died mid-write): it is dropped with a warning and,
    when ``repair``, the file is rewritten without it so later appends start on a clean line (a valid last line that
    lost only its newline gets one back). A malformed line anywhere else raises :class:`ResultsFormatError` naming the
    file and the line number. Blank lines are skipped.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    # split() leaves "" after a final newline; the last real line is the last non-blank one.
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    records: list[dict] = []
    kept_lines: list[str] = []
    dropped_last = False
    for position, (number, line) in enumerate(numbered):
        try:
            records.append(_parse_line(path, number, line))
            kept_lines.append(line)
        except ResultsFormatError as error:
            if position != len(numbered) - 1:
                raise
            warnings.warn(f"{path}: dropping a truncated or malformed last line {number} (an interrupted run?): "
                          f"{error.reason}", RuntimeWarning, stacklevel=2)
            dropped_last = True
    if repair and (dropped_last or (numbered and not text.endswith("\n"))):
        _write_atomic(path, "".join(line + "\n" for line in kept_lines))
    return records


def dedupe_records(records: Iterable[dict]) -> list[dict]:
    """One record per ``instance_id``, the last one seen (TEACh keys ``traj_stats`` by id), in first-seen order."""
    by_id: dict[str, dict] = {}
    for record in records:
        by_id[record["instance_id"]] = record
    return list(by_id.values())


def load_records(run_dir: Path | str) -> list[dict]:
    """The episodes of a run directory: ``run_dir/episodes.jsonl`` read by :func:`read_episode_lines` (the file is
    left untouched) with repeated instance ids collapsed to their last record.

    Raises ``FileNotFoundError`` naming the directory or file when either is missing.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: run directory not found")
    path = run_dir / EPISODES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no {EPISODES_FILE} in this run directory")
    return dedupe_records(read_episode_lines(path))


def load_config(run_dir: Path | str) -> dict | None:
    """The run's ``config.json``, or None when the directory has none."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(config).__name__}")
    return config


def validate_record(record: dict) -> None:
    """Check a record before it is written: every field of :data:`RECORD_FIELDS`, a string ``instance_id`` and
    ``task``, ``mode`` one of :data:`MODES`, ``error_message`` a string or null. Raises ``ValueError`` naming the
    offending fields."""
    if not isinstance(record, dict):
        raise TypeError(f"an episode record must be a dict, not {type(record).__name__}")
    missing = [field for field in RECORD_FIELDS if field not in record]
    if missing:
        raise ValueError(f"episode record {record.get('instance_id', '?')!r} lacks field(s): {', '.join(missing)}")
    problems = []
    if not isinstance(record["instance_id"], str) or not record["instance_id"]:
        problems.append("instance_id must be a non-empty string")
    if not isinstance(record["task"], str) or not record["task"]:
        problems.append("task must be a non-empty string (the task family, e.g. 'Coffee')")
    if record["mode"] not in MODES:
        problems.append(f"mode must be one of {MODES}, got {record['mode']!r}")
    if record["error_message"] is not None and not isinstance(record["error_message"], str):
        problems.append("error_message must be a string or null")
    if problems:
        raise ValueError(f"episode record {record.get('instance_id')!r}: " + "; ".join(problems))


def _median(values: list) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
               and math.isfinite(v)]
    return float(statistics.median(numbers)) if numbers else None


def _mean(values: list) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
               and math.isfinite(v)]
    return float(statistics.fmean(numbers)) if numbers else None


def task_family(record: dict) -> str:
    """The record's task family, :data:`UNKNOWN_TASK` when it has none."""
    task = record.get("task")
    return task if isinstance(task, str) and task else UNKNOWN_TASK


def summarize(records: Iterable[dict]) -> dict:
    """TEACh's aggregate (``episodes.metrics.aggregate_metrics``, i.e. ``aggregate_metrics`` of TEACh's
    ``eval/compute_metrics.py``, keys unchanged so TEACh's tooling reads it) over the deduplicated records, plus:

    - ``per_task``: {family: ``aggregate_metrics`` of that family's records}, families sorted by name;
    - ``counts``: {``episodes``: records after dedupe, ``errors``: records with ``error == 1``};
    - ``cost``: {``median_wall_time_s``, ``median_cpu_time_s``, ``mean_steps``} (null when no record has the value).
    """
    unique = dedupe_records(records)
    summary = aggregate_metrics(unique)
    families: dict[str, list[dict]] = {}
    for record in unique:
        families.setdefault(task_family(record), []).append(record)
    summary["per_task"] = {family: aggregate_metrics(families[family]) for family in sorted(families)}
    summary["counts"] = {"episodes": len(unique), "errors": sum(1 for r in unique if r.get("error") == 1)}
    summary["cost"] = {
        "median_wall_time_s": _median([r.get("wall_time_s") for r in unique]),
        "median_cpu_time_s": _median([r.get("cpu_time_s") for r in unique]),
        "mean_steps": _mean([r.get("steps") for r in unique]),
    }
    return summary


def _percent(rate: float) -> str:
    return f"{100.0 * rate:.1f}%"


def headline(aggregate: dict) -> dict[str, str]:
    """SR, GC, PLW-SR and PLW-GC of one ``aggregate_metrics`` result as text with their counts."""
    success = aggregate["success"]
    goal = aggregate["goal_condition_success"]
    return {
        "SR": f"{_percent(success['success_rate'])} ({success['num_successes']}/{success['num_evals']})",
        "GC": (f"{_percent(goal['goal_condition_success_rate'])} "
               f"({goal['completed_goal_conditions']}/{goal['total_goal_conditions']} goal conditions)"),
        "PLW-SR": _percent(aggregate["path_length_weighted_success_rate"]),
        "PLW-GC": _percent(aggregate["path_length_weighted_goal_condition_success_rate"]),
    }


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    """A GitHub markdown table (pandas' ``to_markdown`` needs ``tabulate``, which we do not depend on)."""
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_markdown(summary: dict, title: str = "Run summary", config: dict | None = None) -> str:
    """The short report of ``summary.md``: headline metrics with counts, a per-family table, errors and cost."""
    lines = [f"# {title}", ""]
    if config:
        described = [f"{key} `{config[key]}`" for key in CONFIG_KEY_FIELDS if config.get(key) is not None]
        if described:
            lines += [", ".join(described), ""]
    counts = summary["counts"]
    lines += [markdown_table(["metric", "value"], [[name, text] for name, text in headline(summary).items()]), ""]
    lines += [f"Episodes: {counts['episodes']}. Errors (exception during the episode, scored as is): "
              f"{counts['errors']}.", ""]
    rows = []
    for family, aggregate in summary["per_task"].items():
        row = headline(aggregate)
        rows.append([family, aggregate["success"]["num_evals"], row["SR"], row["GC"], row["PLW-SR"], row["PLW-GC"],
                     aggregate["num_fails_by_error"]])
    if rows:
        lines += ["## Per task family", "",
                  markdown_table(["family", "N", "SR", "GC", "PLW-SR", "PLW-GC", "errors"], rows), ""]
    cost = summary["cost"]

    def fmt(value: float | None, unit: str = "") -> str:
        return "n/a" if value is None else f"{value:.2f}{unit}"
    lines += ["## Cost", "", f"Median wall time {fmt(cost['median_wall_time_s'], ' s')}, median CPU time "
              f"{fmt(cost['median_cpu_time_s'], ' s')}, mean steps {fmt(cost['mean_steps'])} per episode.", ""]
    return "\n".join(lines)


class ResultsWriter:
    """Writes one run directory: ``config.json`` at open, one ``episodes.jsonl`` line per :meth:`append`, and
    ``summary.json``/``summary.md`` on :meth:`write_summary`.

    A fresh run refuses a directory whose ``episodes.jsonl`` already has records (``FileExistsError``); ``resume=True``
    continues it, after checking the stored config's :data:`CONFIG_KEY_FIELDS` equal the given ones (``ValueError``
    naming the differing fields otherwise; other differing fields only warn, and the stored ``config.json`` is kept).
    A truncated last line left by a killed run is dropped (with a warning) and the file rewritten without it.
    """

    def __init__(self, out_dir: Path | str, config: dict, resume: bool = False):
        self.out_dir = Path(out_dir)
        self.config = _plain_config(config)
        self.resume = resume
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise NotADirectoryError(f"{self.out_dir}: exists and is not a directory")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.episodes_path = self.out_dir / EPISODES_FILE
        self.config_path = self.out_dir / CONFIG_FILE
        existing = read_episode_lines(self.episodes_path, repair=True) if self.episodes_path.is_file() else []
        if existing and not resume:
            raise FileExistsError(f"{self.episodes_path} already holds {len(existing)} episode(s); pass --resume to "
                                  f"continue that run, or choose another --out")
        stored = load_config(self.out_dir) if resume else None
        if stored is not None:
            self._check_resumable(stored)
            self.config = stored
        else:
            _write_atomic(self.config_path, _to_json_text(self.config, indent=2, sort_keys=True) + "\n")
        self._done = {record["instance_id"] for record in existing}

    def _check_resumable(self, stored: dict) -> None:
        differing = [key for key in CONFIG_KEY_FIELDS if stored.get(key) != self.config.get(key)]
        if differing:
            details = "; ".join(f"{key}: stored {stored.get(key)!r}, given {self.config.get(key)!r}"
                                for key in differing)
            raise ValueError(f"{self.config_path}: cannot resume, config field(s) {', '.join(differing)} differ "
                             f"({details}); use another --out for a different configuration")
        others = sorted(key for key in set(stored) | set(self.config)
                        if key not in CONFIG_KEY_FIELDS and stored.get(key) != self.config.get(key))
        if others:
            warnings.warn(f"{self.config_path}: resuming with other values of {', '.join(others)}; "
                          f"the stored config is kept", RuntimeWarning, stacklevel=3)

    def done_ids(self) -> set[str]:
        """Instance ids already recorded (to skip on resume)."""
        return set(self._done)

    def append(self, record: dict) -> None:
        """Validate the record (:func:`validate_record`) and append it as one JSON line, flushed and fsynced."""
        validate_record(record)
        try:
            line = _to_json_text(record)
        except (TypeError, ValueError) as error:
            raise ValueError(f"episode record {record['instance_id']!r} is not JSON-serialisable: {error}") from None
        with open(self.episodes_path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._done.add(record["instance_id"])

    def rewrite_in_order(self, order: list[str]) -> None:
        """Rewrite ``episodes.jsonl`` atomically with one line per episode (the last one recorded), ordered as
        ``order`` lists instance ids (ids not in it follow in file order). Parallel runs append lines as episodes
        finish; rewritten at the end, their file is the one a serial run writes."""
        if not self.episodes_path.is_file():
            return
        rank = {instance_id: k for k, instance_id in enumerate(order)}
        records = self.records()
        records.sort(key=lambda r: rank.get(r["instance_id"], len(rank)))  # stable: unknown ids keep file order
        _write_atomic(self.episodes_path, "".join(_to_json_text(r) + "\n" for r in records))

    def records(self) -> list[dict]:
        """The recorded episodes, re-read from ``episodes.jsonl`` and deduplicated."""
        if not self.episodes_path.is_file():
            return []
        return dedupe_records(read_episode_lines(self.episodes_path))

    def write_summary(self) -> dict:
        """Recompute the summary from the lines (:func:`summarize`), write ``summary.json`` and ``summary.md``, and
        return it."""
        summary = summarize(self.records())
        _write_atomic(self.out_dir / SUMMARY_JSON, _to_json_text(summary, indent=2) + "\n")
        _write_atomic(self.out_dir / SUMMARY_MD,
                      summary_markdown(summary, title=f"Run summary: {self.out_dir.name}", config=self.config))
        return summary


class RunDirectoryBusy(FileExistsError):
    """Another live process holds the run directory."""


@contextlib.contextmanager
def run_lock(run_dir: Path | str):
    """Hold ``run_dir/.lock`` (an advisory ``flock``) for a run's duration, so two runs never append to one
    ``episodes.jsonl`` (a resume started while the first run still lives would repeat its episodes). The kernel
    releases the lock when the holder dies, however it dies. Raises :class:`RunDirectoryBusy` naming the holder."""
    path = Path(run_dir) / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise RunDirectoryBusy(f"{run_dir} is in use by another run (pid {holder}); wait for it to end or choose "
                                   f"another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield path
    finally:
        handle.close()
