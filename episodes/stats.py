"""Per-split statistics of a TEACh-format data directory: counts by task family, dialogue length, expert path length.

    python -m episodes.stats DATA [--split valid_seen] [--json]

Reads ``DATA/games/<split>/``, ``DATA/edh_instances/<split>/`` and ``DATA/tfd_instances/<split>/`` (TEACh's layout).
Dialogue length is the number of utterances (games: Keyboard/Audio interactions; instances: ``dialog_history``
turns); expert path length is the driver's action count (games: the Driver's non-utterance interactions; instances:
``len(driver_actions_future)``, the path-length reference of TEACh's metrics). Malformed files are skipped and listed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

from .actions import load_actions
from envs.scenes import SPLITS

from .dataset import DIVIDED_SPLITS, KINDS, load_split, present_splits
from .formats import Game

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


def split_stats(root: str | Path, split: str) -> dict:
    """Statistics of one split: for each file kind present, counts by task family, dialogue and path lengths."""
    result: dict = {}
    family_of_game: dict[str, str] = {}
    games = load_split(root, "games", split)
    for game in games.items:
        family_of_game[game.game_id] = game.task_name
    for kind in KINDS:
        report = games if kind == "games" else load_split(root, kind, split)
        if not report.items and not report.skipped:
            continue
        if kind == "games":
            families = Counter(g.task_name for g in report.items)
            dialogue = [len(g.utterances()) for g in report.items]
            path = [game_driver_actions(g) for g in report.items]
        else:
            families = Counter(family_of_game.get(i.game_id, "(game not found)") for i in report.items)
            dialogue = [len(i.dialog_history) for i in report.items]
            path = [len(i.driver_actions_future) for i in report.items if i.driver_actions_future is not None]
        result[kind] = {
            "files": len(report.items),
            "skipped": [str(s) for s in report.skipped],
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
    parser = argparse.ArgumentParser(prog="python -m episodes.stats", description=__doc__.split("\n\n")[0])
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
