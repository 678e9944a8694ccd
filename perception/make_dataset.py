"""Record posed RGB-D sequences with 2D/3D instance ground truth and export them (ScanNet-like layout + COCO).

    python -m perception.make_dataset --env embedded --scenes train valid_unseen --views 40 --out data/odin_thor

Layout: ``OUT/dataset.json`` (settings, splits, vocabulary, command lines), ``OUT/<split>/<scene>/`` one sequence per
scene (see :mod:`perception.dataset.writer`), ``OUT/coco_<split>.json``. Finished sequences are skipped on a rerun;
floorplans never appear in two splits, also across reruns into the same ``OUT``.

``--workers N`` records scenes on N processes (each with its own simulator), ``--ray ADDRESS`` on Ray workers
(``parallel.run_jobs``); every scene's camera path depends on (seed, scene) alone, so the files are the same as a
serial run's (the recorded commands leave out these options). A sequence is written into a hidden partial directory
and renamed into place when complete, so a kill leaves no half sequence; a scene that raises, runs past
``--scene-timeout`` or kills its worker is retried once on a fresh worker, then reported (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from envs.jsonfile import read_json

from .cli import command_line
from .dataset.coco import build_coco, write_coco
from .dataset.splits import check_disjoint, resolve_scenes
from .dataset.trajectory import look_around, object_views, target_types
from .dataset.vocabulary import class_vocabulary
from .dataset.writer import SequenceWriter, sequence_is_complete

DATASET_FILE = "dataset.json"


def scene_seed(seed: int, scene: str) -> int:
    """A per-scene seed that does not depend on which other scenes are in the run (so reruns reproduce)."""
    return (seed * 1_000_003 + zlib.crc32(scene.encode())) % (2**32)


def export_scene(env, scene: str, split: str, directory: Path, n_views: int, seed: int, command: str = "",
                 n_object_views: int = 0) -> dict:
    """Record one sequence of ``scene`` into ``directory`` (whole or not at all: written beside it under a hidden
    partial name, then renamed): ``n_views`` look-around views, then up to ``n_object_views`` object-centric views
    (:func:`perception.dataset.trajectory.object_views`, favouring the types the look-around showed least); returns its
    meta. Without object views the files are exactly those of a look-around export."""
    from parallel import atomic_directory

    with atomic_directory(directory) as partial:
        writer = SequenceWriter(partial, env.width, env.height, env.fov, class_vocabulary())
        seen: Counter = Counter()
        for event in look_around(env, scene, n_views, scene_seed(seed, scene)):
            writer.add(event)
            if n_object_views:
                seen.update(target_types(event))
        meta = {"scene": scene, "split": split, "seed": seed, "scene_seed": scene_seed(seed, scene),
                "command": command}
        if n_object_views:
            # After the look-around rather than interleaved: its frames stay those of an export without object
            # views, and the close-ups form runs of their own for the trainer's consecutive-frame 3D chunks.
            look_around_frames = writer.n_frames
            for event in object_views(env, n_object_views, scene_seed(seed, scene), seen):
                writer.add(event)
            meta.update(look_around_views=look_around_frames, object_views=writer.n_frames - look_around_frames)
        meta = writer.close(meta)
    return meta


@dataclass(frozen=True)
class _Settings:
    env: str
    width: int
    height: int
    fov: float
    seed: int
    views: int
    command: str
    object_views: int = 0


def _worker_setup(settings: _Settings, info):
    from envs import make_env

    # Both backends render depth and instance segmentation by default.
    return make_env(backend=settings.env, width=settings.width, height=settings.height, fov=settings.fov,
                    seed=settings.seed)


def _worker_run(env, job: tuple) -> str:
    settings, split, scene, directory = job
    export_scene(env, scene, split, Path(directory), settings.views, settings.seed, settings.command,
                 settings.object_views)
    return scene


def _worker_teardown(env) -> None:
    env.close()


EXECUTION_OPTIONS = ("--workers", "--ray", "--scene-timeout")
"""How an invocation runs, not what it makes: left out of the commands recorded with the data."""


def recorded_argv(argv: list[str]) -> list[str]:
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in EXECUTION_OPTIONS:
            skip = True
        elif not arg.startswith(tuple(option + "=" for option in EXECUTION_OPTIONS)):
            kept.append(arg)
    return kept


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
    object_views = getattr(args, "object_views", 0)
    if object_views:  # absent when 0, so datasets made before the option read as made with 0
        settings["object_views"] = object_views
    existing = _load_dataset_file(args.out)
    if existing is None:
        return {"settings": settings, "splits": requested, "vocabulary": list(class_vocabulary()),
                "commands": [command]}
    before = {"object_views": 0, **existing["settings"]}
    changed = {k: (before.get(k), v) for k, v in {"object_views": 0, **settings}.items() if before.get(k) != v}
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
    parser.add_argument("--object-views", type=int, default=0, metavar="N",
                        help="object-centric views appended to each sequence after the --views look-around: a small "
                             "object (types the look-around showed least first) from 0.6-1.5 m, near the frame's "
                             "centre (default 0: look-around only)")
    parser.add_argument("--variants", type=int, default=0,
                        help="extra seeded layouts FloorPlan<N>_v1.. per train floorplan")
    parser.add_argument("--max-scenes-per-split", type=int, default=None, help="keep only the first N scenes per split")
    parser.add_argument("--out", type=Path, default=Path("data/perception/thor_sequences"), help="output directory")
    parser.add_argument("--width", type=int, default=300, help="frame width in pixels")
    parser.add_argument("--height", type=int, default=300, help="frame height in pixels")
    parser.add_argument("--fov", type=float, default=90.0, help="vertical field of view in degrees")
    parser.add_argument("--seed", type=int, default=0, help="seed of the layouts and camera paths (same seed, same data)")
    parser.add_argument("--workers", type=int, default=None,
                        help="record scenes on N processes (default 1); with --ray, Ray workers (default: one per "
                             "cluster CPU)")
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="record scenes as Ray tasks: 'local', 'auto' or a cluster address HOST:PORT (needs the "
                             "'distributed' extra; --out must be on storage every node shares)")
    parser.add_argument("--scene-timeout", type=float, metavar="SECONDS",
                        help="stop a scene after this many seconds and retry it once (default: no limit)")
    args = parser.parse_args(argv)
    if args.views < 1:
        parser.error(f"--views must be >= 1, got {args.views}")
    if args.object_views < 0:
        parser.error(f"--object-views must be >= 0, got {args.object_views}")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    if args.scene_timeout is not None and not args.scene_timeout > 0:
        parser.error(f"--scene-timeout must be > 0 seconds, got {args.scene_timeout}")
    from parallel import valid_ray_address

    if args.ray is not None and not valid_ray_address(args.ray):
        parser.error(f"--ray must be 'local', 'auto', HOST:PORT or ray://HOST:PORT, got {args.ray!r}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} exists and is not a directory")
    return args


def run(args, command: str, failed: list | None = None) -> dict:
    """Record the planned scenes not yet complete and write the COCO files; scenes that failed twice are appended to
    ``failed`` as (split, scene, error)."""
    from parallel import Job, remove_partials, run_jobs, write_text_atomic

    plan = plan_dataset(args, command)
    args.out.mkdir(parents=True, exist_ok=True)
    remove_partials(args.out)  # hidden partial sequences of a killed earlier run
    write_text_atomic(args.out / DATASET_FILE, json.dumps(plan, indent=1))
    todo = [(split, scene) for split, scenes in plan["splits"].items() for scene in scenes
            if not sequence_is_complete(args.out / split / scene)]
    settings = _Settings(args.env, args.width, args.height, args.fov, args.seed, args.views, command,
                         getattr(args, "object_views", 0))
    workers = getattr(args, "workers", None)
    ray = getattr(args, "ray", None)
    outcomes = run_jobs([Job(f"{split}/{scene}", (settings, split, scene, str(args.out / split / scene)))
                         for split, scene in todo], _worker_setup, _worker_run, settings,
                        workers=workers if workers is not None or ray else 1, ray=ray,
                        timeout=getattr(args, "scene_timeout", None), teardown=_worker_teardown,
                        on_retry=lambda o: print(f"{o.key}: {o.error}; retrying on a fresh worker", file=sys.stderr))
    try:
        for outcome in tqdm(outcomes, total=len(todo), desc="sequences", unit="seq"):
            if outcome.value is None:
                split, scene = outcome.key.split("/", 1)
                print(f"{outcome.key}: failed twice: {outcome.error}", file=sys.stderr)
                if failed is not None:
                    failed.append((split, scene, outcome.error))
    finally:
        outcomes.close()
    written = {}
    for split, scenes in plan["splits"].items():
        done = [args.out / split / s for s in scenes if sequence_is_complete(args.out / split / s)]
        coco = build_coco(args.out, done, plan["vocabulary"])
        written[split] = str(write_coco(args.out / f"coco_{split}.json", coco))
    return written


def main(argv=None) -> int:
    args = parse_args(argv)
    command = command_line("perception.make_dataset", recorded_argv(sys.argv[1:] if argv is None else list(argv)))
    failed: list = []
    try:
        written = run(args, command, failed)
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as exc:  # RuntimeError: backend cannot start
        print(f"error: {exc}", file=sys.stderr)  # (and parallel.WorkerSetupError, parallel.RayUnavailable)
        return 2
    except KeyboardInterrupt:
        print("perception.make_dataset: interrupted; finished sequences are complete. Run the same command again to "
              "continue (they are skipped).", file=sys.stderr)
        return 130
    for split, path in written.items():
        print(f"{split}: {path}")
    if failed:
        print(f"error: {len(failed)} scene(s) failed twice and are left out: "
              + ", ".join(f"{split}/{scene}" for split, scene, _ in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
