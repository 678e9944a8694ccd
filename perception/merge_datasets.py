"""Join exported datasets into one training directory without copying frames.

    python -m perception.merge_datasets OUT DIR [DIR ...] [--splits train] [--scenes REGEX [REGEX ...]]

Each DIR is what :mod:`perception.make_dataset` wrote. OUT gets a ``dataset.json`` (the first DIR's settings and
vocabulary, the joined ``splits``, the commands) and, per split, a symbolic link for every finished sequence of the
chosen splits whose scene matches ``--scenes`` (regular expressions matched at the start of the scene name, one
per DIR or one for all). A
sequence whose name is already taken (the same floorplan exported with another seed) is linked as
``<scene>_x<k>``, k the DIR's position. The vocabularies must be identical (class ids index it); COCO files are not
joined, so OUT serves ``perception.train`` (2D evaluation wants make_dataset's own directories). Session 8 weighted
kitchens this way: every train floorplan of one export plus the train kitchens of a second.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from envs.jsonfile import read_json

from .data import dataset_vocabulary, sequence_dirs


def merge_datasets(out: Path, sources: list[Path], splits: list[str],
                   scenes: list[str] | None = None) -> dict[str, list[str]]:
    """Link the finished sequences of ``splits`` in ``sources`` under ``out`` (``scenes``: one regular expression per
    source, or one for all, that scene names must match at their start); returns {split: [linked name, ...]}. Raises
    ValueError naming the file when a vocabulary differs, a split is missing or nothing is linked."""
    patterns = [re.compile(p) for p in (scenes or [".*"])]
    if len(patterns) == 1:
        patterns = patterns * len(sources)
    if len(patterns) != len(sources):
        raise ValueError(f"scenes: one pattern or one per source ({len(sources)}), got {len(patterns)}")
    vocabulary = dataset_vocabulary(sources[0])
    first_plan = read_json(Path(sources[0]) / "dataset.json")
    joined: dict[str, list[str]] = {split: [] for split in splits}
    for k, source in enumerate(sources):
        if dataset_vocabulary(source) != vocabulary:
            raise ValueError(f"{Path(source) / 'dataset.json'}: its vocabulary differs from "
                             f"{Path(sources[0]) / 'dataset.json'}'s (class ids would not agree)")
        for split in splits:
            (out / split).mkdir(parents=True, exist_ok=True)
            for directory in sequence_dirs(source, [split]):
                if not patterns[k].match(directory.name):
                    continue
                name = directory.name if directory.name not in joined[split] else f"{directory.name}_x{k}"
                if name in joined[split]:
                    raise ValueError(f"{directory}: the name {name!r} is taken twice (give each DIR once)")
                link = out / split / name
                if link.is_symlink() or link.exists():
                    link.unlink()
                os.symlink(directory.resolve(), link, target_is_directory=True)
                joined[split].append(name)
    if not any(joined.values()):
        raise ValueError(f"no finished sequences of splits {splits} matching {scenes!r} in {[str(s) for s in sources]}")
    plan = {"settings": first_plan.get("settings", {}), "splits": joined, "vocabulary": vocabulary,
            "sources": [str(Path(s).resolve()) for s in sources],
            "commands": [" ".join(["python -m perception.merge_datasets", *sys.argv[1:]])]}
    (out / "dataset.json").write_text(json.dumps(plan, indent=1) + "\n")
    return joined


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m perception.merge_datasets", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the joined dataset directory (created)")
    parser.add_argument("sources", type=Path, nargs="+", help="dataset directories from perception.make_dataset")
    parser.add_argument("--splits", nargs="+", default=["train"], help="splits to join (default: train)")
    parser.add_argument("--scenes", default=None, nargs="+",
                        help="per source, a regular expression the scene names must match at their start ('.' for "
                             "all); one value applies to every source")
    args = parser.parse_args(argv)
    if args.scenes is not None and len(args.scenes) not in (1, len(args.sources)):
        parser.error(f"--scenes takes one pattern or one per source ({len(args.sources)}), got {len(args.scenes)}")
    for pattern in args.scenes or []:
        try:
            re.compile(pattern)
        except re.error as error:
            parser.error(f"--scenes {pattern!r}: {error}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        joined = merge_datasets(args.out, args.sources, args.splits, args.scenes)
    except (FileNotFoundError, ValueError) as error:
        print(f"perception.merge_datasets: {error}", file=sys.stderr)
        return 2
    for split, names in joined.items():
        print(f"{split}: {len(names)} sequences -> {args.out / split}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
