"""Train ODIN on exported AI2-THOR-style sequences: joint 3D (posed multi-view) and 2D (single frame) batches.

    python -m perception.train --config small --data /tmp/odin_data --out runs/odin_small --max-minutes 75
    python -m perception.train --config small --ablation no-3d-fusion --data ... --out runs/odin_small_2d
    torchrun --nproc_per_node 2 -m perception.train --config paper --data ... --out ...      # DDP, one GPU per rank

Recipe (ODIN, Jain et al. 2024; ``reference/odin/odin.md`` sections 6-7): each step is either a 3D batch (V
consecutive posed RGB-D views of one scene, xyz from depth and pose) or a 2D batch (single frames through the same
weights without 3D fusion), drawn with probability ``--p3d``; Hungarian-matched class / BCE / dice losses with deep
supervision; AdamW with weight decay 0.05 (none on norms, biases and embeddings: one rule,
:meth:`Odin.parameter_groups`), gradient-norm clipping, constant learning rate dropped 10x for the last part of the
budget. Our ``small`` model starts from scratch (no ImageNet/COCO weights), so the backbone learns at the full rate
(``TrainConfig.backbone_lr_mult`` 1.0; ODIN uses 0.1 on pretrained weights).

Output in ``--out``: ``last.safetensors`` + ``last.json`` (weights and ``OdinConfig``;
:mod:`perception.odin.checkpoint`), ``last.trainer.pt`` (optimiser and step; tensors only, read with
``weights_only=True``), ``train_config.json`` and ``losses.csv``. A run resumes from ``last.*`` when they exist
(``--resume`` insists on it).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .cli import command_line
from .odin import CONFIGS, Odin, OdinConfig, SetCriterion, get_config, load_checkpoint, save_checkpoint


@dataclass(frozen=True)
class TrainConfig:
    """What a run varies besides the model size. Ablations are named instances (``ABLATIONS``)."""

    name: str = "odin"
    use_3d: bool = True  # False: every batch is 2D (the "no 3D fusion" ablation: same weights, never fused)
    p3d: float = 0.5  # probability that a step is a 3D batch
    views: int = 8  # context views per 3D sample
    scenes_per_batch: int = 1
    frames_per_2d_batch: int = 4
    resolution: int = 128
    freeze_backbone: bool = False
    lr: float = 3e-4
    backbone_lr_mult: float = 1.0
    weight_decay: float = 0.05
    grad_clip: float = 1.0
    final_lr_fraction: float = 0.15  # last part of the time budget at lr / 10
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.p3d <= 1.0:
            raise ValueError(f"TrainConfig.p3d must be in [0, 1], got {self.p3d}")
        if self.views < 1 or self.scenes_per_batch < 1 or self.frames_per_2d_batch < 1:
            raise ValueError("TrainConfig.views, scenes_per_batch and frames_per_2d_batch must be >= 1")
        if self.resolution < 32 or self.resolution % 32:
            raise ValueError(f"TrainConfig.resolution must be a positive multiple of 32, got {self.resolution}")


ABLATIONS: dict[str, TrainConfig] = {
    "odin": TrainConfig(),
    "no-3d-fusion": TrainConfig(name="no-3d-fusion", use_3d=False),
    "views-4": TrainConfig(name="views-4", views=4),
    "frozen-backbone": TrainConfig(name="frozen-backbone", freeze_backbone=True),
}
"""ODIN and its ablations (ODIN paper Table 5 style): no 3D fusion (2D training only, lifted to 3D at evaluation),
fewer context views, and a frozen backbone."""


# ------------------------------------------------------------------------------------------------ distributed
@dataclass
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> Distributed:
    """``torch.distributed`` from torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK); a single process otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    import torch.distributed as dist

    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend=backend)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    return Distributed(dist.get_rank(), dist.get_world_size(), local_rank)


def pick_device(dist_info: Distributed, requested: str | None = None) -> torch.device:
    if requested:
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda", dist_info.local_rank)
    return torch.device("cpu")


def budget_spent(local: bool, dist_info: Distributed) -> bool:
    """Whether any rank ran out of time: ranks must stop at the same step or DDP's all-reduce would wait forever."""
    if dist_info.world_size == 1:
        return local
    import torch.distributed as dist

    device = "cuda" if dist.get_backend() == "nccl" else "cpu"  # NCCL reduces only CUDA tensors
    flag = torch.tensor([1.0 if local else 0.0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


class IndexStream:
    """Endless indices over ``size`` items, this rank's share of each epoch (``DistributedSampler``, reshuffled per
    epoch), so ranks see disjoint scenes / frames."""

    def __init__(self, size: int, dist_info: Distributed, seed: int):
        from torch.utils.data import DistributedSampler

        self.sampler = DistributedSampler(range(size), num_replicas=dist_info.world_size, rank=dist_info.rank,
                                          shuffle=True, seed=seed, drop_last=False)
        self.epoch = 0
        self._iterator = iter(())

    def take(self, count: int) -> list[int]:
        chosen = []
        while len(chosen) < count:
            try:
                chosen.append(next(self._iterator))
            except StopIteration:
                self.sampler.set_epoch(self.epoch)
                self.epoch += 1
                self._iterator = iter(list(self.sampler))
        return chosen


# ---------------------------------------------------------------------------------------------- optimisation
def parameter_groups(model: Odin, config: TrainConfig) -> list[dict]:
    """AdamW groups of ``model`` for this recipe: :meth:`Odin.parameter_groups` (the one weight-decay rule: none on
    norms, biases and embeddings, ``config.weight_decay`` on every other weight; the backbone, not its 3D fusion
    blocks, at ``backbone_lr_mult``; frozen parameters left out), each group with a ``base_lr`` for
    :func:`set_lr_factor`."""
    groups = model.parameter_groups(lr=config.lr, weight_decay=config.weight_decay,
                                    backbone_lr_multiplier=config.backbone_lr_mult)
    for group in groups:
        group["base_lr"] = group["lr"]
    return groups


def build_optimizer(model: Odin, config: TrainConfig) -> torch.optim.AdamW:
    return torch.optim.AdamW(parameter_groups(model, config), lr=config.lr)


def trainable_norm_config(model_config: OdinConfig, pretrained_backbone: bool) -> tuple[OdinConfig, str | None]:
    """The model config to train, and a notice when it differs from ``model_config``.

    A frozen-BatchNorm backbone (``norm="frozen_bn"``, the ``paper`` config, as ODIN with ImageNet / Mask2Former
    weights) fixes every norm to the identity when it starts from random weights: a 50-layer ResNet without any
    normalisation, whose activations grow stage by stage. Without a pretrained backbone (``--init-backbone``) the
    run therefore switches to trainable GroupNorm (``norm="group"``, what ``tiny`` / ``small`` train from scratch
    with) and says so; the checkpoint's config records the norm it was trained with. With a pretrained backbone the
    config is kept as it is."""
    if model_config.norm != "frozen_bn" or pretrained_backbone:
        return model_config, None
    notice = (f"perception.train: config {model_config.name!r} has a frozen-BatchNorm backbone (norm='frozen_bn'), "
              f"which needs pretrained weights; without --init-backbone it trains from random weights, so this run "
              f"uses trainable GroupNorm instead (norm='group'; pass --init-backbone CHECKPOINT, or a config JSON, "
              f"to choose otherwise)")
    return model_config.replace(norm="group"), notice


def build_model(model_config, train_config: TrainConfig, device) -> Odin:
    model = Odin(model_config).to(device)
    if train_config.freeze_backbone:
        for parameter in model.backbone.parameters():
            parameter.requires_grad_(False)
    return model


def init_backbone_from(model: Odin, checkpoint: Path) -> int:
    """Copy the ResNet backbone weights (``backbone.*``) of ``checkpoint`` into ``model``; returns tensors copied.

    ODIN starts its backbone from 2D-pretrained weights (ImageNet / COCO, ``reference/odin/odin.md`` section 7); here
    the 2D-pretrained backbone is one of our own checkpoints, e.g. the ``no-3d-fusion`` run's. Raises
    ``CheckpointError`` naming the file when it is unreadable or its backbone does not fit this model's config.
    """
    from .odin.checkpoint import CheckpointError

    source = load_checkpoint(checkpoint, device="cpu", text_embedder=model.text_embedder)
    theirs = source.backbone.state_dict()
    ours = model.backbone.state_dict()
    if set(theirs) != set(ours) or any(theirs[k].shape != ours[k].shape for k in ours):
        raise CheckpointError(f"{checkpoint}: its backbone (config {source.config.name!r}) does not fit this "
                              f"model's backbone (config {model.config.name!r})")
    model.backbone.load_state_dict(theirs)
    return len(theirs)


def set_lr_factor(optimizer, factor: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * factor


# ------------------------------------------------------------------------------------------------- checkpoints
def checkpoint_paths(out: Path) -> tuple[Path, Path]:
    return out / "last.safetensors", out / "last.trainer.pt"


def save_training_state(out: Path, model: Odin, optimizer, step: int, train_seconds: float) -> None:
    """Weights via safetensors, then optimiser state; both written to temporary names and renamed, so a run killed
    mid-save leaves the previous checkpoint intact."""
    weights, trainer = checkpoint_paths(out)
    tmp_weights = out / "last.tmp.safetensors"
    save_checkpoint(model, tmp_weights)
    torch.save({"optimizer": optimizer.state_dict(), "step": torch.tensor(step),
                "train_seconds": torch.tensor(train_seconds)}, out / "last.trainer.tmp.pt")
    os.replace(out / "last.tmp.json", weights.with_suffix(".json"))
    os.replace(tmp_weights, weights)
    os.replace(out / "last.trainer.tmp.pt", trainer)


def load_training_state(out: Path, model: Odin, optimizer, device) -> tuple[int, float]:
    weights, trainer = checkpoint_paths(out)
    restored = load_checkpoint(weights, device="cpu", text_embedder=model.text_embedder)
    if restored.config != model.config:
        raise ValueError(f"{weights}: saved with config {restored.config.name!r} differing from this run's "
                         f"{model.config.name!r}; use another --out")
    model.load_state_dict(restored.state_dict())
    state = torch.load(trainer, map_location=device, weights_only=True)
    try:
        optimizer.load_state_dict(state["optimizer"])
    except ValueError as error:  # e.g. a run started before the weight-decay groups of Odin.parameter_groups
        raise ValueError(f"{trainer}: its optimiser state does not fit this version's parameter groups ({error}); "
                         f"start a new run with another --out") from None
    return int(state["step"]), float(state["train_seconds"])


# ------------------------------------------------------------------------------------------------------ main
LOSS_COLUMNS = ("step", "train_seconds", "kind", "loss", "loss_ce", "loss_mask", "loss_dice", "lr", "step_seconds")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m perception.train", description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="small", help=f"model config: one of {sorted(CONFIGS)} or a .json path")
    parser.add_argument("--ablation", default="odin", choices=sorted(ABLATIONS), help="training recipe")
    parser.add_argument("--data", type=Path, required=True, help="dataset directory from perception.make_dataset")
    parser.add_argument("--out", type=Path, required=True, help="run directory (checkpoints, losses.csv)")
    parser.add_argument("--splits", nargs="+", default=["train"], help="dataset splits to train on")
    parser.add_argument("--views", type=int, default=None, help="override the recipe's views per 3D sample")
    parser.add_argument("--resolution", type=int, default=None, help="override the recipe's image size")
    parser.add_argument("--lr", type=float, default=None, help="override the recipe's learning rate")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this wall time")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many optimiser steps in total")
    parser.add_argument("--save-minutes", type=float, default=5.0, help="checkpoint every this many minutes")
    parser.add_argument("--resume", action="store_true", help="require a checkpoint in --out to resume from")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    parser.add_argument("--device", default=None, help="cpu / cuda / cuda:1 (default: cuda if available)")
    parser.add_argument("--max-scenes", type=int, default=None, help="use only the first N training sequences")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--init-backbone", type=Path, default=None, metavar="CHECKPOINT",
                        help="start the ResNet backbone from this .safetensors checkpoint (same config); required "
                             "by --ablation frozen-backbone, whose backbone is then not trained")
    args = parser.parse_args(argv)
    if args.max_minutes is None and args.max_steps is None:
        parser.error("give --max-minutes and/or --max-steps")
    if ABLATIONS[args.ablation].freeze_backbone and args.init_backbone is None:
        parser.error("--ablation frozen-backbone needs --init-backbone CHECKPOINT (a frozen random backbone "
                     "measures nothing; e.g. the no-3d-fusion run's last.safetensors as the 2D-pretrained backbone)")
    return args


def train_config_from_args(args) -> TrainConfig:
    changes = {key: value for key, value in (("views", args.views), ("resolution", args.resolution),
                                             ("lr", args.lr), ("seed", args.seed)) if value is not None}
    return dataclasses.replace(ABLATIONS[args.ablation], **changes)


def run(args, command: str = "") -> dict:
    from tqdm import tqdm

    from .data import dataset_vocabulary, load_scenes, make_2d_batch, make_3d_batch, sequence_dirs

    started = time.monotonic()
    if args.threads:
        torch.set_num_threads(args.threads)
    dist_info = init_distributed()
    device = pick_device(dist_info, args.device)
    model_config, norm_notice = trainable_norm_config(get_config(args.config), args.init_backbone is not None)
    if norm_notice and dist_info.is_main:
        print(norm_notice, file=sys.stderr)
    config = train_config_from_args(args)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    weights, trainer_file = checkpoint_paths(out)
    resuming = weights.is_file() and trainer_file.is_file()
    if args.resume and not resuming:
        raise FileNotFoundError(f"--resume: no checkpoint {weights} + {trainer_file.name} to resume from")

    directories = sequence_dirs(args.data, args.splits)[:args.max_scenes]
    vocabulary = dataset_vocabulary(args.data)
    scenes = load_scenes(directories, config.resolution, progress=dist_info.is_main)
    frame_refs = [(s, f) for s, scene in enumerate(scenes) for f in range(len(scene))]

    torch.manual_seed(config.seed + dist_info.rank)
    model = build_model(model_config, config, device)
    if args.init_backbone is not None and not resuming:
        init_backbone_from(model, args.init_backbone)
    criterion = SetCriterion.from_config(model_config)
    optimizer = build_optimizer(model, config)
    step, train_seconds = 0, 0.0
    if resuming:
        step, train_seconds = load_training_state(out, model, optimizer, device)
    if dist_info.is_main:
        (out / "train_config.json").write_text(json.dumps(
            {"train": dataclasses.asdict(config), "model": model_config.to_dict(), "data": str(args.data),
             "splits": args.splits, "sequences": len(scenes), "command": command,
             "init_backbone": None if args.init_backbone is None else str(args.init_backbone),
             "norm_notice": norm_notice}, indent=1) + "\n")
    trained = model
    if dist_info.world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        # 2D steps leave the 3D fusion blocks unused.
        trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                          find_unused_parameters=True)

    # The step kind must agree across ranks (DDP), so it comes from a generator seeded by the step alone; batch
    # contents come from per-rank streams.
    scene_stream = IndexStream(len(scenes), dist_info, config.seed + step)
    frame_stream = IndexStream(len(frame_refs), dist_info, config.seed + step + 1)
    sample_rng = random.Random(config.seed * 7919 + dist_info.rank + step)
    budget = None if args.max_minutes is None else args.max_minutes * 60.0
    csv_path = out / "losses.csv"
    new_csv = not csv_path.is_file()
    csv_file = open(csv_path, "a", newline="") if dist_info.is_main else None
    writer = csv.writer(csv_file) if csv_file else None
    if writer and new_csv:
        writer.writerow(LOSS_COLUMNS)
    last_save = time.monotonic()
    progress = tqdm(total=args.max_steps, initial=step, desc=f"train {config.name}", unit="step",
                    disable=not dist_info.is_main)
    stop_reason = "max-steps"
    model.train()
    while args.max_steps is None or step < args.max_steps:
        elapsed = time.monotonic() - started
        if budget is not None and budget_spent(elapsed >= budget, dist_info):
            stop_reason = "max-minutes"
            break
        lr_factor = 0.1 if budget is not None and elapsed >= budget * (1 - config.final_lr_fraction) else 1.0
        set_lr_factor(optimizer, lr_factor)
        kind = "3d" if config.use_3d and random.Random(config.seed * 104729 + step).random() < config.p3d else "2d"
        tic = time.monotonic()
        if kind == "3d":
            batch = make_3d_batch(scenes, scene_stream.take(config.scenes_per_batch), config.views, sample_rng)
        else:
            batch = make_2d_batch(scenes, [frame_refs[i] for i in frame_stream.take(config.frames_per_2d_batch)],
                                  sample_rng)
        images = batch["images"].to(device)
        xyz = None if batch["xyz"] is None else batch["xyz"].to(device)
        valid = None if batch["valid"] is None else batch["valid"].to(device)
        targets = [{k: v.to(device) for k, v in t.items()} for t in batch["targets"]]
        outputs = trained(images, vocabulary, xyz, valid)
        mask_valid = None if valid is None else valid[..., ::4, ::4]
        losses = criterion(outputs, targets, mask_valid)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], config.grad_clip)
        optimizer.step()
        step += 1
        step_seconds = time.monotonic() - tic
        train_seconds += step_seconds
        if writer:
            writer.writerow([step, f"{train_seconds:.1f}", kind] + [f"{float(losses[k].detach()):.4f}" for k in
                                                                      ("loss", "loss_ce", "loss_mask", "loss_dice")]
                            + [f"{config.lr * lr_factor:.2e}", f"{step_seconds:.3f}"])
            csv_file.flush()
            progress.update(1)
            progress.set_postfix(kind=kind, loss=f"{float(losses['loss'].detach()):.2f}")
        if dist_info.is_main and time.monotonic() - last_save >= args.save_minutes * 60.0:
            save_training_state(out, model, optimizer, step, train_seconds)
            last_save = time.monotonic()
    progress.close()
    if dist_info.is_main:
        save_training_state(out, model, optimizer, step, train_seconds)
        csv_file.close()
    if dist_info.world_size > 1:
        import torch.distributed as dist

        dist.destroy_process_group()
    return {"step": step, "train_seconds": train_seconds, "stop": stop_reason, "checkpoint": str(weights)}


def main(argv=None) -> int:
    args = parse_args(argv)
    command = command_line("perception.train", argv)
    try:
        summary = run(args, command)
    except (FileNotFoundError, ValueError) as error:
        print(f"perception.train: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
