"""Per-split statistics of a TEACh-format data directory: counts by task family, dialogue length, expert path length.

    python -m episodes.stats DATA [--split valid_seen] [--json]

Reads ``DATA/games/<split>/``, ``DATA/edh_instances/<split>/`` and ``DATA/tfd_instances/<split>/`` (TEACh's layout).
Dialogue length is the number of utterances (games: Keyboard/Audio interactions; instances: ``dialog_history``
turns); expert path length is the driver's action count (games: the Driver's non-utterance interactions; instances:
``len(driver_actions_future)``, the path-length reference of TEACh's metrics). Malformed files (binary ones too) are
left out of the numbers, and each gets one line on stderr naming the file and field; the exit status is then 1.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from envs.scenes import SPLITS

from .actions import load_actions
from .dataset import DIVIDED_SPLITS, KINDS, SkippedFile, iter_split, present_splits, split_files
from .formats import EdhInstance, Game, TfdInstance

DRIVER = 1


def _summary(values: list[int]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "mean": round(statistics.fmean(values), 2), "median": statistics.median(values),
            "min": min(values), "max": max(values)}


def game_driver_actions(game: Game) -> int:
    """The Driver's environment actions in a game: its interactions that are not utterances."""
    table = load_actions()
    return sum(1 for i in game.interactions if i.get("agent_id") == DRIVER and i["action_id"] in table
               and not table.by_id(i["action_id"]).is_utterance)


def _file_numbers(item: Game | EdhInstance | TfdInstance, family_of_game: dict[str, str]) -> tuple:
    """(task family, dialogue length, expert path length or None) of one loaded file."""
    if isinstance(item, Game):
        return item.task_name, len(item.utterances()), game_driver_actions(item)
    future = item.driver_actions_future
    family = family_of_game.get(item.game_id, "(game not found)")
    return family, len(item.dialog_history), None if future is None else len(future)


def split_stats(root: str | Path, split: str) -> dict:
    """Statistics of one split: for each file kind present, counts by task family, dialogue and path lengths.
    Files are streamed (a released game holds full simulator states), keeping only these numbers."""
    result: dict = {}
    family_of_game: dict[str, str] = {}
    for kind in KINDS:
        files = split_files(root, kind, split)
        if not files:
            continue
        families: Counter = Counter()
        dialogue, path, skipped = [], [], []
        items = tqdm(iter_split(root, kind, split), total=len(files), desc=f"{split}/{kind}", leave=False,
                     disable=None, file=sys.stderr)
        for item in items:
            if isinstance(item, SkippedFile):
                skipped.append(str(item))
                continue
            if isinstance(item, Game):
                family_of_game[item.game_id] = item.task_name
            family, turns, steps = _file_numbers(item, family_of_game)
            families[family] += 1
            dialogue.append(turns)
            if steps is not None:
                path.append(steps)
        result[kind] = {
            "files": len(dialogue),
            "skipped": skipped,
            "by_task_family": dict(sorted(families.items())),
            "dialogue_length": _summary(dialogue),
            "expert_path_length": _summary(path),
        }
    return result


def dataset_stats(root: str | Path, splits: list[str] | None = None) -> dict:
    root = Path(root)
    present = {s for kind in KINDS for s in present_splits(root, kind)}
    found = [s for s in SPLITS + DIVIDED_SPLITS if s in present]
    return {split: split_stats(root, split) for split in (splits or found)}


def _format(stats: dict) -> str:
    lines = []
    for split, kinds in stats.items():
        lines.append(f"== {split}")
        if not kinds:
            lines.append("  (no files)")
        for kind, entry in kinds.items():
            lines.append(f"  {kind}: {entry['files']} files" + (f", {len(entry['skipped'])} skipped"
                                                                 if entry["skipped"] else ""))
            for family, count in entry["by_task_family"].items():
                lines.append(f"    {family:<28} {count:>6}")
            for label, key in (("dialogue length", "dialogue_length"), ("expert path length", "expert_path_length")):
                s = entry[key]
                detail = (f"mean {s['mean']}  median {s['median']}  min {s['min']}  max {s['max']}  (n={s['n']})"
                          if s["n"] else "n/a")
                lines.append(f"    {label:<20} {detail}")
            for skipped in entry["skipped"]:
                lines.append(f"    skipped: {skipped}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m episodes.stats", description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", metavar="DIR", help="TEACh-format directory holding games/, edh_instances/, "
                                                        "tfd_instances/")
    parser.add_argument("--split", action="append", help="only this split (repeatable); default: every split found")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")
    args = parser.parse_args(argv)
    root = Path(args.data_dir)
    if not root.is_dir():
        print(f"error: DIR {root} is not a directory", file=sys.stderr)
        return 2
    if not any(present_splits(root, kind) for kind in KINDS):
        print(f"error: DIR {root} holds no TEACh data (expected games/<split>/, edh_instances/<split>/ or "
              f"tfd_instances/<split>/)", file=sys.stderr)
        return 2
    try:
        stats = dataset_stats(root, args.split)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(stats, indent=2) if args.json else _format(stats))
    skipped = [line for kinds in stats.values() for entry in kinds.values() for line in entry["skipped"]]
    for line in skipped:
        print(f"error: {line}", file=sys.stderr)
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
