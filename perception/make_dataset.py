"""Record posed RGB-D sequences with 2D/3D instance ground truth and export them (ScanNet-like layout + COCO).

    python -m perception.make_dataset --env embedded --scenes train valid_unseen --views 40 --out data/odin_thor

Layout: ``OUT/dataset.json`` (settings, splits, vocabulary, command lines), ``OUT/<split>/<scene>/`` one sequence per
scene (see :mod:`perception.dataset.writer`), ``OUT/coco_<split>.json``. Finished sequences are skipped on a rerun;
floorplans never appear in two splits, also across reruns into the same ``OUT``.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

from tqdm import tqdm

from envs.jsonfile import read_json

from .cli import command_line
from .dataset.coco import build_coco, write_coco
from .dataset.splits import check_disjoint, resolve_scenes
from .dataset.trajectory import look_around
from .dataset.vocabulary import class_vocabulary
from .dataset.writer import SequenceWriter, sequence_is_complete

DATASET_FILE = "dataset.json"


def scene_seed(seed: int, scene: str) -> int:
    """A per-scene seed that does not depend on which other scenes are in the run (so reruns reproduce)."""
    return (seed * 1_000_003 + zlib.crc32(scene.encode())) % (2**32)


def export_scene(env, scene: str, split: str, directory: Path, n_views: int, seed: int, command: str = "") -> dict:
    """Record one look-around sequence of ``scene`` into ``directory``; returns its meta."""
    writer = SequenceWriter(directory, env.width, env.height, env.fov, class_vocabulary())
    for event in look_around(env, scene, n_views, scene_seed(seed, scene)):
        writer.add(event)
    return writer.close({"scene": scene, "split": split, "seed": seed, "scene_seed": scene_seed(seed, scene),
                         "command": command})


def _load_dataset_file(out: Path) -> dict | None:
    path = out / DATASET_FILE
    if not path.is_file():
        return None
    return read_json(path)


def plan_dataset(args, command: str) -> dict:
    """Merge the requested splits with what ``OUT`` already holds, refusing floorplan overlaps or new settings."""
    requested = resolve_scenes(args.scenes, args.variants, args.max_scenes_per_split)
    settings = {"env": args.env, "width": args.width, "height": args.height, "fov": args.fov, "views": args.views,
                "seed": args.seed}
    existing = _load_dataset_file(args.out)
    if existing is None:
        return {"settings": settings, "splits": requested, "vocabulary": list(class_vocabulary()),
                "commands": [command]}
    changed = {k: (existing["settings"].get(k), v) for k, v in settings.items() if existing["settings"].get(k) != v}
    if changed:
        shown = ", ".join(f"{k}: {old} -> {new}" for k, (old, new) in changed.items())
        raise ValueError(f"{args.out / DATASET_FILE} was made with other settings ({shown}); use another --out")
    check_disjoint(existing["splits"], requested)
    merged = {split: list(scenes) for split, scenes in existing["splits"].items()}
    for split, scenes in requested.items():
        merged.setdefault(split, []).extend(s for s in scenes if s not in merged[split])
    return {**existing, "splits": merged, "commands": existing.get("commands", []) + [command]}


def parse_args(argv=None) -> argparse.Namespace:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m perception.make_dataset", description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="embedded", choices=("embedded", "ai2thor"), help="backend for envs.make_env")
    parser.add_argument("--scenes", nargs="+", default=["train", "valid_unseen"],
                        help="split names (train, valid_unseen, test_unseen, ...) and/or scenes (FloorPlan1, "
                             "FloorPlan1_v2); a bare scene goes to its ALFRED split")
    parser.add_argument("--views", type=int, default=40,
                        help="frames per sequence (one sequence per scene); every figure in perception/README.md "
                             "used 24")
    parser.add_argument("--variants", type=int, default=0,
                        help="extra seeded layouts FloorPlan<N>_v1.. per train floorplan")
    parser.add_argument("--max-scenes-per-split", type=int, default=None, help="keep only the first N scenes per split")
    parser.add_argument("--out", type=Path, default=Path("data/perception/thor_sequences"), help="output directory")
    parser.add_argument("--width", type=int, default=300, help="frame width in pixels")
    parser.add_argument("--height", type=int, default=300, help="frame height in pixels")
    parser.add_argument("--fov", type=float, default=90.0, help="vertical field of view in degrees")
    parser.add_argument("--seed", type=int, default=0, help="seed of the layouts and camera paths (same seed, same data)")
    args = parser.parse_args(argv)
    if args.views < 1:
        parser.error(f"--views must be >= 1, got {args.views}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} exists and is not a directory")
    return args


def run(args, command: str) -> dict:
    from envs import make_env

    plan = plan_dataset(args, command)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / DATASET_FILE).write_text(json.dumps(plan, indent=1))
    todo = [(split, scene) for split, scenes in plan["splits"].items() for scene in scenes
            if not sequence_is_complete(args.out / split / scene)]
    if todo:
        # Both backends render depth and instance segmentation by default.
        with make_env(backend=args.env, width=args.width, height=args.height, fov=args.fov, seed=args.seed) as env:
            for split, scene in tqdm(todo, desc="sequences", unit="seq"):
                export_scene(env, scene, split, args.out / split / scene, args.views, args.seed, command)
    written = {}
    for split, scenes in plan["splits"].items():
        done = [args.out / split / s for s in scenes if sequence_is_complete(args.out / split / s)]
        coco = build_coco(args.out, done, plan["vocabulary"])
        written[split] = str(write_coco(args.out / f"coco_{split}.json", coco))
    return written


def main(argv=None) -> int:
    args = parse_args(argv)
    command = command_line("perception.make_dataset", argv)
    try:
        written = run(args, command)
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as exc:  # RuntimeError: backend cannot start
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for split, path in written.items():
        print(f"{split}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
