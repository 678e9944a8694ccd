"""One call on a lent GPU machine: make the data on all its cores, train ODIN on the GPU, evaluate, bring back fp16.

    python -m perception.gpu_recipe --out $OUT [--minutes 9.3] [--resolution 256] [--variants 2] [--init CKPT]

Run by ``scripts/gpu_odin.sh`` inside one device call (at most 10 minutes, see ``/work/.library/device``), after
``scripts/gpu_prepare.sh`` prepared, on the CPU machine, the wheels, GL libraries and text-embedding cache the GPU
image lacks. Every stage is a subprocess of this repository's own CLIs, timed against one wall-clock budget:

1. data: ``perception.make_dataset`` for the unseen evaluation floorplans (look-arounds) and, into a directory of its
   own, the train floorplans with ``--variants`` layout variants each and ``--object-views`` object-centric views
   appended to every look-around (small objects at about 1 m, what an agent sees when it walks up to them), with
   ``--workers`` = the machine's cores (skipped with ``--data DIR``, which then serves both);
2. training: ``perception.train`` on ``--device`` (cuda by default) with ``--max-minutes`` = whatever the budget
   leaves after the reserve for evaluation and export, fine-tuning ``--init`` when given;
3. evaluation: ``perception.evaluate`` of the result on valid_unseen + test_unseen (3D and 2D AP);
4. export: the weights in float16 (half the bytes; loading casts them back) with config, recipe, hash, loss log and
   evaluation, in one ``--out/gpu_odin.tar`` (the device tool brings back at most 8 plain files, 16 MB each).

Each stage's log goes to ``--out/gpu_recipe.log``; a failed stage stops the recipe with its exit code and leaves
what the earlier stages made. The CUDA-independent parts (budgeting, commands, fp16 export) are tested on the CPU in
``tests/test_gpu_recipe.py`` with ``--device cpu`` on a tiny dataset.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from envs.cli import ArgumentParser

EVAL_SPLITS = ["valid_unseen", "test_unseen"]
MAX_FILE_BYTES = 16 * 1024 * 1024  # the device tool's limit per returned file


class Budget:
    """Wall-clock seconds left of the call, measured from construction."""

    def __init__(self, minutes: float):
        self.start = time.monotonic()
        self.seconds = minutes * 60.0

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.start)


def training_minutes(budget_left_s: float, reserve_s: float, minimum_s: float = 30.0) -> float:
    """Minutes the training stage may take: what is left after the evaluation / export reserve; raises when that is
    under ``minimum_s`` (a run that short would bring back nothing worth its device time)."""
    usable = budget_left_s - reserve_s
    if usable < minimum_s:
        raise RuntimeError(f"only {budget_left_s:.0f} s left of the budget with {reserve_s:.0f} s reserved for "
                           f"evaluation and export: no time to train (give more --minutes or less data)")
    return usable / 60.0


def train_data_dir(args, data: Path) -> Path:
    """Where the training sequences are: ``data`` itself when given with ``--data`` or without object views (one
    dataset directory holds one view setting), else a sibling ``<data>_train``."""
    if args.data is not None or not args.object_views:
        return data
    return data.with_name(data.name + "_train")


def stage_commands(args, data: Path, run: Path, train_minutes: float | None = None) -> dict[str, list[str]]:
    """The subprocess command of every stage (train needs its minutes, known only once the data exist)."""
    py = [sys.executable, "-m"]
    workers = ["--workers", str(args.workers)] if args.workers > 1 else []
    train_data = train_data_dir(args, data)
    object_views = ["--object-views", str(args.object_views)] if args.object_views else []
    commands = {
        "data_eval": py + ["perception.make_dataset", "--scenes", *args.eval_splits, "--views", str(args.views_per_scene),
                           "--out", str(data), *workers],
        "data_train": py + ["perception.make_dataset", "--scenes", "train", "--variants", str(args.variants),
                            "--views", str(args.views_per_scene), *object_views, "--out", str(train_data), *workers],
        "evaluate": py + ["perception.evaluate", "--checkpoint", str(run / "last.safetensors"), "--data", str(data),
                          "--splits", *args.eval_splits, "--out", str(run / "eval"), "--label", "gpu",
                          "--threads", str(min(args.workers, 8))],
    }
    if train_minutes is not None:
        config = args.config or (str(args.init.with_suffix(".json")) if args.init is not None else "small")
        train = py + ["perception.train", "--config", config, "--ablation", args.ablation, "--data", str(train_data),
                      "--out", str(run), "--device", args.device, "--resolution", str(args.resolution),
                      "--max-minutes", f"{train_minutes:.2f}", "--save-minutes", "1"]
        if args.lr is not None:
            train += ["--lr", str(args.lr)]
        if args.init is not None:
            train += ["--init-weights", str(args.init)]
        if args.max_steps is not None:
            train += ["--max-steps", str(args.max_steps)]
        if args.targets_3d is not None:
            train += ["--targets-3d", args.targets_3d]
        train += ["--class-balance", str(args.class_balance), "--zoom-crops", str(args.zoom_crops)]
        train += ["--mask-targets", args.mask_targets]
        if args.mask_positive_weight is not None:
            train += ["--mask-positive-weight", str(args.mask_positive_weight)]
        if args.matcher_positive_weight is not None:
            train += ["--matcher-positive-weight", str(args.matcher_positive_weight)]
        if args.repeat_factor is not None:
            train += ["--repeat-factor", str(args.repeat_factor)]
        commands["train"] = train
    return commands


def export_half(weights: Path, target: Path) -> Path:
    """Write ``target`` (.safetensors): ``weights`` with every floating tensor in float16, its config JSON and hash
    beside it. :func:`perception.odin.load_checkpoint` reads it into a float32 model (``load_state_dict`` casts)."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from .odin.checkpoint import config_path_for, verify_checksum, write_checksum

    verify_checksum(weights)
    state = load_file(str(weights), device="cpu")
    half = {name: (t.half() if t.is_floating_point() else t).contiguous() for name, t in state.items()}
    with safe_open(str(weights), framework="pt") as original:  # keep the original's metadata (format, config)
        metadata = dict(original.metadata() or {})
    metadata["dtype"] = "float16"
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(half, str(target), metadata=metadata)
    shutil.copyfile(config_path_for(weights), config_path_for(target))
    write_checksum(target)
    return target


def collect(run: Path, out: Path) -> Path:
    """The run's results in one ``out/gpu_odin.tar`` (the device tool returns at most 8 files): fp16 weights
    ``gpu_small.safetensors`` with config and hash, recipe, losses, legs and evaluation reports. Unpack it here with
    ``tar -xf gpu_odin.tar -C DIR``."""
    staging = run / "returned"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    export_half(run / "last.safetensors", staging / "gpu_small.safetensors")
    for name, target in (("train_config.json", "gpu_small.train.json"), ("losses.csv", "gpu_small_losses.csv"),
                         ("legs.jsonl", "gpu_small_legs.jsonl")):
        if (run / name).is_file():
            shutil.copyfile(run / name, staging / target)
    for report in sorted((run / "eval").glob("eval_*.*")) if (run / "eval").is_dir() else []:
        shutil.copyfile(report, staging / f"gpu_{report.name}")
    archive = out / "gpu_odin.tar"
    with tarfile.open(archive, "w") as tar:
        for path in sorted(staging.iterdir()):
            tar.add(path, arcname=path.name)
    if archive.stat().st_size > MAX_FILE_BYTES:
        raise RuntimeError(f"{archive}: {archive.stat().st_size / 2**20:.1f} MB, over the "
                           f"{MAX_FILE_BYTES / 2**20:.0f} MB a device call brings back")
    return archive


def _run_stage(name: str, command: list[str], log) -> None:
    log.write(f"\n=== {name}: {' '.join(command)}\n")
    log.flush()
    started = time.monotonic()
    result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    log.write(f"=== {name}: exit {result.returncode} after {time.monotonic() - started:.0f} s\n")
    log.flush()
    print(f"{name}: exit {result.returncode} after {time.monotonic() - started:.0f} s", flush=True)
    if result.returncode != 0:
        raise SystemExit(f"python -m perception.gpu_recipe: stage {name} failed (exit {result.returncode}); "
                         f"see {log.name}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(prog="python -m perception.gpu_recipe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="where the returned files go (the device's $OUT)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/odin_gpu"), help="data and run directory (scratch)")
    parser.add_argument("--data", type=Path, default=None, help="use this dataset instead of making one")
    parser.add_argument("--minutes", type=float, default=9.3, help="wall-clock budget of the whole recipe")
    parser.add_argument("--reserve-minutes", type=float, default=1.5,
                        help="part of the budget kept for evaluation and export")
    parser.add_argument("--device", default="cuda", help="torch device for training (evaluation runs on the CPUs)")
    parser.add_argument("--eval-splits", nargs="+", default=EVAL_SPLITS, help="dataset splits to evaluate on")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="dataset export processes")
    parser.add_argument("--variants", type=int, default=2, help="layout variants per train floorplan")
    parser.add_argument("--views-per-scene", type=int, default=24, help="look-around frames per exported sequence")
    parser.add_argument("--object-views", type=int, default=12,
                        help="object-centric views appended to each train sequence (perception.make_dataset "
                             "--object-views; 0: look-arounds only, train and evaluation data in one directory)")
    parser.add_argument("--config", default=None,
                        help="model config (see perception.train; default: --init's own config beside it, else small)")
    parser.add_argument("--ablation", default="views-4", help="training recipe (see perception.train)")
    parser.add_argument("--resolution", type=int, default=256, help="model input size in pixels (multiple of 32)")
    parser.add_argument("--lr", type=float, default=None, help="override the recipe's learning rate")
    parser.add_argument("--init", type=Path, default=None, help="fine-tune this checkpoint (--init-weights)")
    parser.add_argument("--max-steps", type=int, default=None, help="also cap the training steps (for tests)")
    parser.add_argument("--targets-3d", default=None, choices=("pixel", "voxel"),
                        help="3D supervision per pixel or per voxel (perception.train --targets-3d; default: the "
                             "recipe's, pixel)")
    parser.add_argument("--class-balance", type=float, default=0.5,
                        help="class-balanced CE power (perception.train --class-balance; default 0.5, the shipped "
                             "model's)")
    parser.add_argument("--zoom-crops", type=float, default=0.5,
                        help="share of 2D samples cropped around a small object (perception.train --zoom-crops; "
                             "default 0.5, the shipped model's)")
    parser.add_argument("--mask-targets", default="peak", choices=("share", "peak"),
                        help="stride-4 soft mask targets (perception.train --mask-targets; default peak, the shipped "
                             "model's)")
    parser.add_argument("--mask-positive-weight", type=float, default=None, metavar="CAP",
                        help="class-balanced mask BCE cap (perception.train --mask-positive-weight; default: the "
                             "recipe's, 1 = plain BCE)")
    parser.add_argument("--matcher-positive-weight", type=float, default=None, metavar="CAP",
                        help="the matching cost's cap apart (perception.train --matcher-positive-weight; default: "
                             "--mask-positive-weight's)")
    parser.add_argument("--repeat-factor", type=float, default=None, metavar="T",
                        help="repeat-factor sampling of the 2D frames (perception.train --repeat-factor; default: "
                             "the recipe's, 0 = off)")
    args = parser.parse_args(argv)
    if args.repeat_factor is not None and not 0.0 <= args.repeat_factor <= 1.0:
        parser.error(f"--repeat-factor must be in [0, 1], got {args.repeat_factor}")
    if not 0.0 <= args.zoom_crops <= 1.0:
        parser.error(f"--zoom-crops must be in [0, 1], got {args.zoom_crops}")
    if args.minutes <= args.reserve_minutes:
        parser.error(f"--minutes ({args.minutes}) must exceed --reserve-minutes ({args.reserve_minutes})")
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    if args.object_views < 0:
        parser.error(f"--object-views must be >= 0, got {args.object_views}")
    if args.init is not None and not args.init.is_file():
        parser.error(f"--init {args.init}: no such checkpoint")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    budget = Budget(args.minutes)
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.data or args.work / "data"
    run = args.work / "run"
    with open(args.out / "gpu_recipe.log", "a") as log:
        log.write(json.dumps({"argv": sys.argv, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}) + "\n")
        if args.data is None:
            commands = stage_commands(args, data, run)
            _run_stage("data_eval", commands["data_eval"], log)
            _run_stage("data_train", commands["data_train"], log)
        minutes = training_minutes(budget.left(), args.reserve_minutes * 60.0)
        commands = stage_commands(args, data, run, minutes)
        _run_stage("train", commands["train"], log)
        _run_stage("evaluate", commands["evaluate"], log)
        archive = collect(run, args.out)
    print(f"returned: {archive.name} ({archive.stat().st_size / 2**20:.1f} MB) and gpu_recipe.log")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
