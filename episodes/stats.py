"""Per-split statistics of a TEACh-format data directory: counts by task family, dialogue length, expert path length.

    python -m episodes.stats DATA [--split valid_seen] [--json]

Reads ``DATA/games/<split>/``, ``DATA/edh_instances/<split>/`` and ``DATA/tfd_instances/<split>/`` (TEACh's layout).
Dialogue length is the number of utterances (games: Keyboard/Audio interactions; instances: ``dialog_history``
turns); expert path length is the driver's action count (games: the Driver's non-utterance interactions; instances:
``len(driver_actions_future)``, the path-length reference of TEACh's metrics). Malformed files (binary ones too) are
left out of the numbers, and each gets one line on stderr naming the file and field; the exit status is then 1.

For games it also prints language figures (utterances per game, Commander utterances, the Commander's vocabulary,
how many Commander utterances are distinct once object names and numbers are masked, dialogue-act shares from
``da_metadata``) and driver figures (actions per game split into navigation and object interactions, failed
actions, Pan / Backward and distinct action durations per game).
Vocabulary and templates are measured on ``corrected_utterance`` where a game has it (typos would inflate both), else
on the utterance as typed.
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
from .language import all_names, mask_utterance, words_of

DRIVER = 1
COMMANDER = 0


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


class _GameFigures:
    """Language and driver figures gathered while the games stream by (only small lists are kept)."""

    def __init__(self):
        self.utterances: list[int] = []
        self.commander: list[str] = []
        self.acts: Counter = Counter()
        self.actions: list[int] = []
        self.navigation: list[int] = []
        self.object_actions: list[int] = []
        self.failed: list[int] = []
        self.pan_or_back: list[int] = []
        self.durations: list[int] = []

    def add(self, game: Game) -> None:
        table = load_actions()
        self.utterances.append(len(game.utterances()))
        driver_actions = failed = pan_or_back = navigation = 0
        gaps = set()
        previous = None
        for interaction in game.interactions:
            if "utterance" in interaction:
                if interaction.get("agent_id") == COMMANDER:
                    self.commander.append(interaction.get("corrected_utterance") or interaction["utterance"])
                for act in (interaction.get("da_metadata") or {}).get("das", []):
                    if act:
                        self.acts[act] += 1
                continue
            if interaction.get("agent_id") != DRIVER or interaction.get("action_id") not in table:
                continue
            driver_actions += 1
            failed += not interaction.get("success", 1)
            action = table.by_id(interaction["action_id"])
            pan_or_back += action.name in ("Pan Left", "Pan Right", "Backward")
            navigation += not action.is_object_interaction
            if previous is not None:
                gaps.add(round(float(interaction["time_start"]) - previous, 2))
            previous = float(interaction["time_start"])
        self.actions.append(driver_actions)
        self.navigation.append(navigation)
        self.object_actions.append(driver_actions - navigation)
        self.failed.append(failed)
        self.pan_or_back.append(pan_or_back)
        self.durations.append(len(gaps))

    def result(self) -> dict:
        names = all_names()
        templates = {mask_utterance(u, names) for u in self.commander}
        vocabulary = {w for u in self.commander for w in words_of(u)}
        total_acts = sum(self.acts.values())
        return {
            "language": {
                "utterances_per_game": _summary(self.utterances),
                "commander_utterances": len(self.commander),
                "commander_vocabulary": len(vocabulary),
                "commander_templates": len(templates),
                "commander_distinct_share": round(len(templates) / len(self.commander), 3) if self.commander else None,
                "dialogue_act_shares": {a: round(c / total_acts, 3) for a, c in self.acts.most_common()},
            },
            "driver": {
                "actions_per_game": _summary(self.actions),
                "navigation_actions_per_game": _summary(self.navigation),
                "object_interactions_per_game": _summary(self.object_actions),
                "failed_actions_per_game": _summary(self.failed),
                "pan_or_backward_per_game": _summary(self.pan_or_back),
                "distinct_action_gaps_per_game": _summary(self.durations),
            },
        }


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
        figures = _GameFigures() if kind == "games" else None
        items = tqdm(iter_split(root, kind, split), total=len(files), desc=f"{split}/{kind}", leave=False,
                     disable=None, file=sys.stderr)
        for item in items:
            if isinstance(item, SkippedFile):
                skipped.append(str(item))
                continue
            if isinstance(item, Game):
                family_of_game[item.game_id] = item.task_name
                figures.add(item)
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
        if figures is not None and dialogue:
            result[kind].update(figures.result())
        elif kind == "edh_instances" and family_of_game:
            result[kind]["per_game"] = round(len(dialogue) / len(family_of_game), 2)
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
            if "per_game" in entry:
                lines.append(f"    {'instances per game':<20} {entry['per_game']}")
            if "language" in entry:
                lines.extend(_format_figures(entry))
            for skipped in entry["skipped"]:
                lines.append(f"    skipped: {skipped}")
    return "\n".join(lines)


def _format_figures(entry: dict) -> list[str]:
    language, driver = entry["language"], entry["driver"]

    def mean(s: dict) -> str:
        return f"mean {s['mean']}  median {s['median']}  max {s['max']}" if s["n"] else "n/a"

    acts = ", ".join(f"{a} {100 * v:.1f}%" for a, v in language["dialogue_act_shares"].items()) or "none labelled"
    return [f"    {'utterances / game':<20} {mean(language['utterances_per_game'])}",
            f"    {'commander language':<20} {language['commander_utterances']} utterances, vocabulary "
            f"{language['commander_vocabulary']} words, {language['commander_templates']} distinct once names and "
            f"numbers are masked ({100 * (language['commander_distinct_share'] or 0):.1f}%)",
            f"    {'dialogue acts':<20} {acts}",
            f"    {'driver actions':<20} {mean(driver['actions_per_game'])}",
            f"    {'  navigation':<20} {mean(driver['navigation_actions_per_game'])}",
            f"    {'  object actions':<20} {mean(driver['object_interactions_per_game'])}",
            f"    {'failed actions':<20} {mean(driver['failed_actions_per_game'])}",
            f"    {'pan / backward':<20} {mean(driver['pan_or_backward_per_game'])}",
            f"    {'distinct gaps':<20} {mean(driver['distinct_action_gaps_per_game'])}"]


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
