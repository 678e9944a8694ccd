"""Train ODIN on exported AI2-THOR-style sequences: joint 3D (posed multi-view) and 2D (single frame) batches.

    python -m perception.train --config small --data /tmp/odin_data --out runs/odin_small --max-minutes 75
    python -m perception.train --config small --ablation no-3d-fusion --data ... --out runs/odin_small_2d
    torchrun --nproc_per_node 2 -m perception.train --config paper --data ... --out ...      # DDP, one GPU per rank

Recipe (ODIN, Jain et al. 2024; ``ayushjain1144/odin`` at 9c67a0b: ``train_odin.py``, ``scripts/ai2thor/``): each step
is either a 3D batch (V consecutive posed RGB-D views of one scene, xyz from depth and pose) or a 2D batch (single
frames through the same weights without 3D fusion), drawn with probability ``--p3d``; Hungarian-matched class / BCE /
dice losses with deep supervision (3D batches per stride-4 pixel of every view, or with ``--targets-3d voxel`` per
2 cm voxel as ODIN: :mod:`perception.odin.voxel_targets`); AdamW with weight decay 0.05 (none on norms, biases and
embeddings: one rule, :meth:`Odin.parameter_groups`), gradient-norm clipping, constant learning rate dropped 10x for
the last part of the budget. Our ``small`` model starts from scratch (no ImageNet/COCO weights), so the backbone
learns at the full rate (``TrainConfig.backbone_lr_mult`` 1.0; ODIN uses 0.1 on pretrained weights).

Output in ``--out``: ``last.safetensors`` + ``last.json`` + ``last.sha256`` (weights, ``OdinConfig``, the weights' hash;
:mod:`perception.odin.checkpoint`), ``last.trainer.pt`` (optimiser, step and clocks; tensors only, read with
``weights_only=True``), ``train_config.json`` (recipe, model, total budget and first command; written once, when the
run starts), ``legs.jsonl`` (one line when each invocation starts and one when it stops: command, step, budget, stop
reason) and ``losses.csv``; with ``--val-data``, ``val_losses.csv``: the loss of fixed held-out batches (say the
unseen floorplans' export) scored without training at the start, every ``--val-every`` steps and at each leg's end,
a generalisation curve for a few seconds per score instead of a ten-minute evaluation.

A run may span several invocations ("legs"): it resumes from ``last.*`` when they exist (``--resume`` insists on it).
``--max-steps`` / ``--max-minutes`` are the whole run's budget, stored with it when it starts; the learning-rate
schedule (warmup, constant, /10 for the last ``final_lr_fraction`` of the budget) is a function of the global step and
of the run's clock, so a run stopped and resumed follows the same schedule and ends at the same step as one that ran
without a break (given ``--max-steps``, the same batches and weights too). ``--leg-minutes`` / ``--leg-steps`` end
one invocation early without touching the schedule; SIGTERM and Ctrl-C save a checkpoint before exiting.
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
from .odin.config import MASK_STRIDE
from .odin.voxel_targets import pool_to_voxels


TARGETS_3D = ("pixel", "voxel")
"""How 3D batches are supervised: ``pixel``, every stride-4 pixel of every view (a surface seen in k views counts k
times); ``voxel``, one prediction and one target per finest-level voxel of the scene, as ODIN
(:mod:`perception.odin.voxel_targets`). 2D batches are per pixel either way."""
MASK_TARGETS = ("share", "peak")
"""Stride-4 soft mask targets: ``share``, each cell's share of the object; ``peak``, that divided by the object's
largest share in the view (:func:`perception.data.targets_for`)."""


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
    final_lr_fraction: float = 0.15  # last part of the run's budget (steps and/or minutes) at lr / 10
    warmup_steps: int = 0  # linear warmup: step k (0-based) of the first warmup_steps at lr * (k + 1) / warmup_steps
    seed: int = 0
    class_balance: float = 0.0  # CE weight of class c ~ frequency(c) ** -class_balance (0: unweighted, as ODIN)
    targets_3d: str = "pixel"  # 3D batches supervised per stride-4 pixel of every view, or per voxel as ODIN
    zoom_crops: float = 0.0  # probability that a 2D sample is a full-resolution crop around a small object
    mask_targets: str = "share"  # stride-4 soft targets: each cell's share, or that over the object's largest share
    mask_positive_weight: float = 1.0  # cap on each mask's BCE positive weight negatives / positives (1: plain BCE)
    matcher_positive_weight: float | None = None  # the matcher cost's cap apart (None: mask_positive_weight's)
    repeat_factor: float = 0.0  # LVIS repeat-factor sampling of 2D frames (and zoom-crop objects): threshold t; 0 = off

    def __post_init__(self) -> None:
        if not 0.0 <= self.p3d <= 1.0:
            raise ValueError(f"TrainConfig.p3d must be in [0, 1], got {self.p3d}")
        if not 0.0 <= self.final_lr_fraction < 1.0:
            raise ValueError(f"TrainConfig.final_lr_fraction must be in [0, 1), got {self.final_lr_fraction}")
        if self.warmup_steps < 0:
            raise ValueError(f"TrainConfig.warmup_steps must be >= 0, got {self.warmup_steps}")
        if self.views < 1 or self.scenes_per_batch < 1 or self.frames_per_2d_batch < 1:
            raise ValueError("TrainConfig.views, scenes_per_batch and frames_per_2d_batch must be >= 1")
        if self.resolution < 32 or self.resolution % 32:
            raise ValueError(f"TrainConfig.resolution must be a positive multiple of 32, got {self.resolution}")
        if not 0.0 <= self.class_balance <= 1.0:
            raise ValueError(f"TrainConfig.class_balance must be in [0, 1], got {self.class_balance}")
        if not 0.0 <= self.zoom_crops <= 1.0:
            raise ValueError(f"TrainConfig.zoom_crops must be in [0, 1], got {self.zoom_crops}")
        if not 0.0 <= self.repeat_factor <= 1.0:
            raise ValueError(f"TrainConfig.repeat_factor must be in [0, 1], got {self.repeat_factor}")
        if not 1.0 <= self.mask_positive_weight <= 1e4:
            raise ValueError(f"TrainConfig.mask_positive_weight must be in [1, 10000], got {self.mask_positive_weight}")
        if self.matcher_positive_weight is not None and not 1.0 <= self.matcher_positive_weight <= 1e4:
            raise ValueError("TrainConfig.matcher_positive_weight must be None or in [1, 10000], "
                             f"got {self.matcher_positive_weight}")
        if self.mask_targets not in MASK_TARGETS:
            raise ValueError(f"TrainConfig.mask_targets must be one of {MASK_TARGETS}, got {self.mask_targets!r}")
        if self.targets_3d not in TARGETS_3D:
            raise ValueError(f"TrainConfig.targets_3d must be one of {TARGETS_3D}, got {self.targets_3d!r}")


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


def any_rank(flags: list[bool], dist_info: Distributed) -> list[bool]:
    """Each flag true if it is true on any rank: ranks must stop at the same step (or DDP's all-reduce would wait
    forever) and take each step at the same LR, though each reads its own clock."""
    if dist_info.world_size == 1:
        return list(flags)
    import torch.distributed as dist

    device = "cuda" if dist.get_backend() == "nccl" else "cpu"  # NCCL reduces only CUDA tensors
    tensor = torch.tensor([1.0 if flag else 0.0 for flag in flags], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return [bool(value) for value in tensor.tolist()]


def budget_spent(local: bool, dist_info: Distributed) -> bool:
    """Whether any rank ran out of time."""
    return any_rank([local], dist_info)[0]


class IndexStream:
    """Endless indices over ``size`` items, this rank's share of each epoch (``DistributedSampler``, reshuffled per
    epoch), so ranks see disjoint scenes / frames. ``drawn`` skips the items an earlier leg of the run took, so a
    resumed run continues the same sequence."""

    def __init__(self, size: int, dist_info: Distributed, seed: int, drawn: int = 0):
        from torch.utils.data import DistributedSampler

        self.sampler = DistributedSampler(range(size), num_replicas=dist_info.world_size, rank=dist_info.rank,
                                          shuffle=True, seed=seed, drop_last=False)
        self.epoch, skip = divmod(drawn, max(len(self.sampler), 1))
        self._iterator = iter(())
        if skip:
            self.sampler.set_epoch(self.epoch)
            self.epoch += 1
            self._iterator = iter(list(self.sampler)[skip:])

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

    ODIN starts its backbone from 2D-pretrained weights (ImageNet / COCO, as its ``scripts/ai2thor/`` load them); here
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


def init_weights_from(model: Odin, checkpoint: Path) -> int:
    """Copy every weight of ``checkpoint`` into ``model`` (fine-tuning); returns tensors copied.

    The model may be the checkpoint's grown deeper: more residual blocks per backbone stage (e.g. ``small_deep`` from
    ``small``), everything else the same. The extra blocks then start as identities, their last norm's scale zero
    (the zero-initialised residual of Goyal et al. 2017, "Accurate, Large Minibatch SGD", sec. 5.1), so the grown
    model computes what the checkpoint did and training adds what the new blocks learn. The same holds for the
    decoder's mask-pooled class evidence (``OdinConfig.mask_pooled_class``), whose last layer starts at zero.
    Raises ``CheckpointError`` naming the file when it is unreadable or does not fit this model's config in any
    other way.
    """
    from .odin.checkpoint import CheckpointError

    source = load_checkpoint(checkpoint, device="cpu", text_embedder=model.text_embedder)
    theirs, ours = source.state_dict(), model.state_dict()
    missing = set(ours) - set(theirs)
    pooled = {k for k in missing if k.startswith("decoder.class_pool.")}  # starts adding zero (its constructor)
    grown = new_backbone_blocks(model, missing - pooled)
    if (not set(theirs) <= set(ours) or grown is None
            or any(theirs[k].shape != ours[k].shape for k in theirs)):
        raise CheckpointError(f"{checkpoint}: its weights (config {source.config.name!r}) do not fit this model "
                              f"(config {model.config.name!r}) nor grow into it (only extra backbone blocks and "
                              f"the mask-pooled class evidence can)")
    model.load_state_dict(theirs, strict=False)
    with torch.no_grad():
        for block in grown:
            last = block.conv3 if hasattr(block, "conv3") else block.conv2
            last[1].weight.zero_()
            last[1].bias.zero_()
    return len(theirs)


def new_backbone_blocks(model: Odin, missing: set[str]) -> list | None:
    """The backbone's residual blocks that own exactly the state-dict keys ``missing`` (each a whole block that maps
    its input's width to itself: an identity when its last norm is zero), or None when ``missing`` holds anything
    else."""
    blocks, covered = [], set()
    for s, stage in enumerate(model.backbone.stages):
        for b, block in enumerate(stage):
            keys = {f"backbone.stages.{s}.{b}.{k}" for k in block.state_dict()}
            if keys and keys <= missing:
                if not isinstance(block.shortcut, torch.nn.Identity):
                    return None
                blocks.append(block)
                covered |= keys
    return blocks if covered == missing else None


CLASS_WEIGHT_RANGE = (0.2, 5.0)


def balanced_class_weights(counts, power: float, clip: tuple[float, float] = CLASS_WEIGHT_RANGE) -> torch.Tensor:
    """Per-class cross-entropy weights from target frequencies ``counts`` (C,): ``counts[c] ** -power``, scaled so
    that the frequency-weighted mean over the classes that occur is 1 (the loss keeps its size; only the balance
    between classes moves), then clipped to ``clip``. Classes that never occur get 1 (they are never a target).
    ``power`` 0 gives all ones; 0.5 is the inverse square root of frequency, a softer form of the inverse-frequency
    weighting long-tailed segmentation uses (e.g. the repeat-factor idea of LVIS, Gupta et al. 2019, with the square
    root as its sampling rule)."""
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.dim() != 1 or bool((counts < 0).any()):
        raise ValueError("counts must be a 1-D tensor of non-negative class frequencies")
    weights = torch.ones_like(counts)
    seen = counts > 0
    if power == 0.0 or not bool(seen.any()):
        return weights.float()
    raw = counts[seen] ** -power
    raw = raw * counts[seen].sum() / (raw * counts[seen]).sum()
    weights[seen] = raw.clamp(*clip)
    return weights.float()


def set_lr_factor(optimizer, factor: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * factor


# ------------------------------------------------------------------------------------------ budget and schedule
@dataclass(frozen=True)
class Budget:
    """What the whole run may spend, over all its invocations: optimiser steps and/or minutes of the run's clock
    (wall time of every leg up to its last checkpoint, data loading included). Stored with the run when it starts."""

    max_steps: int | None = None
    max_minutes: float | None = None

    def __post_init__(self) -> None:
        if self.max_steps is None and self.max_minutes is None:
            raise ValueError("a training budget needs --max-steps and/or --max-minutes")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"--max-steps must be >= 1, got {self.max_steps}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ValueError(f"--max-minutes must be > 0, got {self.max_minutes}")

    def to_dict(self) -> dict:
        return {"max_steps": self.max_steps, "max_minutes": self.max_minutes}

    @classmethod
    def from_dict(cls, data: dict, source: Path) -> "Budget":
        try:
            steps, minutes = data.get("max_steps"), data.get("max_minutes")
            return cls(None if steps is None else int(steps), None if minutes is None else float(minutes))
        except (AttributeError, TypeError, ValueError) as error:
            raise ValueError(f"{source}: unreadable field 'budget' ({error})") from None

    def describe(self) -> str:
        parts = ([] if self.max_steps is None else [f"--max-steps {self.max_steps}"]) + \
                ([] if self.max_minutes is None else [f"--max-minutes {self.max_minutes:g}"])
        return " ".join(parts)

    def spent(self, step: int, run_seconds: float) -> str | None:
        """The budget that is used up ("max-steps" / "max-minutes"), or None."""
        if self.max_steps is not None and step >= self.max_steps:
            return "max-steps"
        if self.max_minutes is not None and run_seconds >= self.max_minutes * 60.0:
            return "max-minutes"
        return None


def in_final_phase(config: TrainConfig, budget: Budget, step: int, run_seconds: float) -> bool:
    """Whether optimiser step ``step`` (0-based, global over the run) belongs to the final low-LR phase: the last
    ``final_lr_fraction`` of the step budget, or of the time budget on the run's clock, whichever comes first."""
    keep = 1.0 - config.final_lr_fraction
    if budget.max_steps is not None and step >= keep * budget.max_steps:
        return True
    return budget.max_minutes is not None and run_seconds >= keep * budget.max_minutes * 60.0


def lr_factor(config: TrainConfig, step: int, final_phase: bool) -> float:
    """The learning-rate multiplier of global step ``step`` (0-based): linear warmup over ``warmup_steps``, then 1,
    and 1/10 in the final phase (:func:`in_final_phase`). A function of the run's position only, never of which
    invocation takes the step."""
    factor = 1.0 if step >= config.warmup_steps else (step + 1) / config.warmup_steps
    return factor * (0.1 if final_phase else 1.0)


def step_kind(config: TrainConfig, step: int) -> str:
    """"3d" or "2d" for global step ``step``: drawn from the step alone, so every rank (DDP) and every leg agrees."""
    return "3d" if config.use_3d and random.Random(config.seed * 104729 + step).random() < config.p3d else "2d"


def items_drawn(config: TrainConfig, steps: int) -> tuple[int, int]:
    """(scenes, frames) each rank drew from its streams in the first ``steps`` steps: where a resumed run continues
    the streams."""
    three_d = sum(step_kind(config, step) == "3d" for step in range(steps))
    return three_d * config.scenes_per_batch, (steps - three_d) * config.frames_per_2d_batch


def step_randomness(config: TrainConfig, rank: int, step: int) -> tuple[random.Random, torch.Generator]:
    """The Python RNG (view picks, augmentation) and torch generator (the matcher's point sampling) of one step on
    one rank, seeded by (seed, rank, step) alone: a resumed run draws exactly what an uninterrupted one would."""
    rng = random.Random(f"perception.train:{config.seed}:{rank}:{step}")
    return rng, torch.Generator().manual_seed(rng.getrandbits(63))


# ------------------------------------------------------------------------------------------------ run record
LEGS_FILE = "legs.jsonl"
TRAIN_CONFIG_FILE = "train_config.json"


def read_legs(out: Path) -> list[dict]:
    """The records of ``legs.jsonl`` (a line cut short by a kill mid-write is skipped)."""
    path = out / LEGS_FILE
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def append_leg(out: Path, record: dict) -> None:
    with open(out / LEGS_FILE, "a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def stored_run(out: Path) -> tuple[Budget | None, dict | None, str]:
    """The run's budget in force (the latest leg's, else ``train_config.json``'s), its stored recipe (``train`` of
    ``train_config.json``), and where the budget came from. (None, ..) for a run directory from before budgets were
    stored."""
    config_path = out / TRAIN_CONFIG_FILE
    stored = None
    if config_path.is_file():
        try:
            stored = json.loads(config_path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{config_path}: not valid JSON ({error})") from None
        if not isinstance(stored, dict):
            raise ValueError(f"{config_path}: expected a JSON object")
    recipe = None if stored is None else stored.get("train")
    for record in reversed(read_legs(out)):
        if record.get("budget"):
            return Budget.from_dict(record["budget"], out / LEGS_FILE), recipe, str(out / LEGS_FILE)
    if stored is not None and stored.get("budget"):
        return Budget.from_dict(stored["budget"], config_path), recipe, str(config_path)
    return None, recipe, str(config_path)


def resolve_budget(requested: Budget | None, stored: Budget | None, source: str, resuming: bool,
                   change_budget: bool) -> tuple[Budget, str | None]:
    """The budget this leg runs under, and a notice when it is not simply the stored one."""
    if not resuming or stored is None:
        if requested is None:
            raise ValueError("give --max-minutes and/or --max-steps: the run's total budget" + (
                f" ({source} holds none: this run predates stored budgets)" if resuming else ""))
        if resuming:
            return requested, (f"perception.train: {source} holds no budget (the run predates stored budgets); "
                               f"its total budget is now {requested.describe()}")
        return requested, None
    if requested is None or requested == stored:
        return stored, None
    if change_budget:
        return requested, (f"perception.train: the run's total budget changes from {stored.describe()} to "
                           f"{requested.describe()} (--change-budget); the LR schedule follows the new budget")
    raise ValueError(f"this run's total budget is {stored.describe()} ({source}) but the command gives "
                     f"{requested.describe()}; --max-steps / --max-minutes are the whole run's budget, not this "
                     f"leg's: repeat them or leave them out to continue on the stored schedule, stop this leg "
                     f"early with --leg-minutes / --leg-steps, or change the run's total with --change-budget")


def recipe_for(args, stored: dict | None, source: Path) -> TrainConfig:
    """The recipe of this leg. A new run (or one from before recipes were stored): ``--ablation`` (default ``odin``)
    with the command's overrides. A resumed run keeps its stored recipe; options the command gives must agree with
    it (a different --ablation / --views / ... is an error naming the fields), options it leaves out are taken from
    the run."""
    if not stored:
        return train_config_from_args(args)
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    try:
        base = TrainConfig(**{key: stored[key] for key in names if key in stored})
    except (TypeError, ValueError) as error:
        raise ValueError(f"{source}: unreadable field 'train' ({error})") from None
    wanted = (train_config_from_args(args) if args.ablation is not None
              else dataclasses.replace(base, **recipe_overrides(args)))
    # A field the stored recipe lacks (a run started before the field existed) was trained with its default.
    theirs, ours = dataclasses.asdict(base), dataclasses.asdict(wanted)
    differing = [f"{key}={theirs[key]!r} (this command: {ours[key]!r})" for key in names if theirs[key] != ours[key]]
    if differing:
        raise ValueError(f"{source}: this run was trained with " + ", ".join(differing) + "; resume it with its "
                         "own recipe (leave out --ablation / --views / --resolution / --lr / --warmup-steps / "
                         "--final-lr-fraction / --seed / --class-balance / --targets-3d / --zoom-crops / "
                         "--mask-targets / --mask-positive-weight / --matcher-positive-weight, or give the "
                         "values it was started with), or start a new --out")
    return base


def trim_losses(csv_path: Path, step: int, columns: tuple[str, ...] | None = None) -> int:
    """Drop the rows of ``losses.csv`` (or another per-step CSV with ``columns``, step first) after ``step`` (taken
    after the last checkpoint by a leg that was killed, and taken again by this one); returns how many. A missing or
    header-less file is started afresh."""
    if not csv_path.is_file():
        return 0
    with open(csv_path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or tuple(rows[0]) != (columns or LOSS_COLUMNS):
        if rows:
            os.replace(csv_path, csv_path.with_suffix(".old.csv"))
        return 0
    kept = [rows[0]] + [row for row in rows[1:] if row and row[0].isdigit() and int(row[0]) <= step]
    dropped = len(rows) - len(kept)
    if dropped:
        tmp = csv_path.with_suffix(".tmp")
        with open(tmp, "w", newline="") as handle:
            csv.writer(handle).writerows(kept)
        os.replace(tmp, csv_path)
    return dropped


def append_rows(csv_path: Path, columns: tuple[str, ...]):
    """(file, csv writer) appending to a per-step CSV, its header ``columns`` written when the file is new or empty."""
    new = not csv_path.is_file() or csv_path.stat().st_size == 0
    handle = open(csv_path, "a", newline="")
    writer = csv.writer(handle)
    if new:
        writer.writerow(columns)
    return handle, writer


# ------------------------------------------------------------------------------------------------- held-out loss
VAL_COLUMNS = ("step", "kind", "batches", "loss", "loss_ce", "loss_mask", "loss_dice")
"""``val_losses.csv``: the mean over the held-out batches of one kind (3d / 2d, and ``all`` over both) of the
columns of ``losses.csv``, scored at global step ``step`` (0: the weights a new run starts from)."""
VAL_SEED = 20240102


def heldout_batches(scenes: list, config: "TrainConfig", count: int, seed: int = VAL_SEED) -> list[tuple[str, dict]]:
    """``count`` fixed (kind, batch) pairs over held-out ``scenes`` as the recipe shapes its batches (3D: its views,
    one scene per batch, cycling over the scenes; 2D: its frames per batch), half of each kind (2D only for a
    recipe without 3D), without augmentation, drawn from their own seeded stream so the training's is untouched."""
    from .data import make_2d_batch, make_3d_batch

    rng = random.Random(seed)
    peak = config.mask_targets == "peak"
    kinds = ["3d", "2d"] if config.use_3d else ["2d"]
    frames = [(s, f) for s, scene in enumerate(scenes) for f in range(len(scene))]
    rng.shuffle(frames)
    batches, scene_at, frame_at = [], 0, 0
    for index in range(count):
        kind = kinds[index % len(kinds)]
        if kind == "3d":
            batch = make_3d_batch(scenes, [scene_at % len(scenes)], config.views, rng, augment=False,
                                  peak_targets=peak)
            scene_at += 1
        else:
            refs = [frames[(frame_at + k) % len(frames)] for k in range(config.frames_per_2d_batch)]
            frame_at += config.frames_per_2d_batch
            batch = make_2d_batch(scenes, refs, rng, augment=False, peak_targets=peak)
        batches.append((kind, batch))
    return batches


def batch_losses(forward, kind: str, batch: dict, vocabulary: list[str], criterion, targets_3d: str,
                 voxel_size: float, device, generator) -> dict:
    """The criterion's losses of one batch through ``forward`` (the model, or its DDP wrapper): moved to ``device``,
    a 3D batch pooled to ``voxel_size`` voxels when ``targets_3d`` is ``voxel``, else masked to its depth at the
    mask stride; what a training step optimises and a held-out score reports."""
    images = batch["images"].to(device)
    xyz = None if batch["xyz"] is None else batch["xyz"].to(device)
    valid = None if batch["valid"] is None else batch["valid"].to(device)
    targets = [{k: v.to(device) for k, v in t.items()} for t in batch["targets"]]
    outputs = forward(images, vocabulary, xyz, valid)
    if kind == "3d" and targets_3d == "voxel":
        outputs, targets, mask_valid = pool_to_voxels(outputs, targets, xyz, valid, voxel_size)
    else:
        mask_valid = None if valid is None else valid[..., ::MASK_STRIDE, ::MASK_STRIDE]
    return criterion(outputs, targets, mask_valid, generator=generator)


@torch.no_grad()
def heldout_losses(model: Odin, batches: list[tuple[str, dict]], vocabulary: list[str], criterion,
                   config: "TrainConfig", device, seed: int = VAL_SEED) -> dict[str, dict[str, float]]:
    """Mean losses (as ``losses.csv`` has them) of ``model`` over :func:`heldout_batches`, per kind and ``all``;
    the matcher's sampled points come from a generator seeded with ``seed``, so two calls on the same weights
    agree. The model is put back in training mode."""
    was_training = model.training
    model.eval()
    generator = torch.Generator(device="cpu").manual_seed(seed)
    sums: dict[str, dict[str, float]] = {}
    try:
        for kind, batch in batches:
            losses = batch_losses(model, kind, batch, vocabulary, criterion, config.targets_3d,
                                  model.config.voxel_sizes[0], device, generator)
            for key in (kind, "all"):
                row = sums.setdefault(key, {"batches": 0.0, "loss": 0.0, "loss_ce": 0.0, "loss_mask": 0.0,
                                            "loss_dice": 0.0})
                row["batches"] += 1
                for name in ("loss", "loss_ce", "loss_mask", "loss_dice"):
                    row[name] += float(losses[name])
    finally:
        model.train(was_training)
    return {kind: {name: (value if name == "batches" else value / row["batches"]) for name, value in row.items()}
            for kind, row in sums.items()}


def write_heldout(writer, step: int, scores: dict[str, dict[str, float]]) -> None:
    for kind in ("3d", "2d", "all"):
        if kind in scores:
            row = scores[kind]
            writer.writerow([step, kind, int(row["batches"])]
                            + [f"{row[name]:.4f}" for name in ("loss", "loss_ce", "loss_mask", "loss_dice")])


# ------------------------------------------------------------------------------------------------- checkpoints
def checkpoint_paths(out: Path) -> tuple[Path, Path]:
    return out / "last.safetensors", out / "last.trainer.pt"


def save_training_state(out: Path, model: Odin, optimizer, step: int, train_seconds: float,
                        run_seconds: float | None = None) -> None:
    """Weights via safetensors, then optimiser state, step and clocks (``train_seconds``: time inside steps;
    ``run_seconds``: the run's clock that ``--max-minutes`` counts); all written to temporary names and renamed, so a
    run killed mid-save leaves the previous checkpoint intact."""
    weights, trainer = checkpoint_paths(out)
    tmp_weights = out / "last.tmp.safetensors"
    save_checkpoint(model, tmp_weights)
    torch.save({"optimizer": optimizer.state_dict(), "step": torch.tensor(step),
                "train_seconds": torch.tensor(train_seconds),
                "run_seconds": torch.tensor(train_seconds if run_seconds is None else run_seconds,
                                            dtype=torch.float64)}, out / "last.trainer.tmp.pt")
    os.replace(out / "last.tmp.json", weights.with_suffix(".json"))
    os.replace(out / "last.tmp.sha256", weights.with_suffix(".sha256"))
    os.replace(tmp_weights, weights)
    os.replace(out / "last.trainer.tmp.pt", trainer)


def read_trainer_state(out: Path, device="cpu") -> dict:
    """``last.trainer.pt`` with its step and clocks as Python numbers (``run_seconds`` falls back to
    ``train_seconds`` for checkpoints written before the run's clock was stored)."""
    _, trainer = checkpoint_paths(out)
    try:
        state = torch.load(trainer, map_location=device, weights_only=True)
        state["step"], state["train_seconds"] = int(state["step"]), float(state["train_seconds"])
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported with its name
        raise ValueError(f"{trainer}: unreadable trainer state ({type(error).__name__}: {error})") from None
    state["run_seconds"] = float(state.get("run_seconds", state["train_seconds"]))
    return state


def load_training_state(out: Path, model: Odin, optimizer, device) -> tuple[int, float, float]:
    """Restore weights and optimiser from ``out``; returns (step, train_seconds, run_seconds)."""
    weights, trainer = checkpoint_paths(out)
    restored = load_checkpoint(weights, device="cpu", text_embedder=model.text_embedder)
    if restored.config != model.config:
        raise ValueError(f"{weights}: saved with config {restored.config.name!r} differing from this run's "
                         f"{model.config.name!r}; resume it with --config {restored.config.name} (or a JSON of "
                         f"its config), or use another --out")
    model.load_state_dict(restored.state_dict())
    state = read_trainer_state(out, device)
    try:
        optimizer.load_state_dict(state["optimizer"])
    except ValueError as error:  # e.g. a run started before the weight-decay groups of Odin.parameter_groups
        raise ValueError(f"{trainer}: its optimiser state does not fit this version's parameter groups ({error}); "
                         f"start a new run with another --out") from None
    return state["step"], state["train_seconds"], state["run_seconds"]


# ------------------------------------------------------------------------------------------------------ main
LOSS_COLUMNS = ("step", "train_seconds", "kind", "loss", "loss_ce", "loss_mask", "loss_dice", "lr", "step_seconds")
"""``losses.csv``: ``step`` global optimiser step (1-based); ``train_seconds`` time inside steps so far (all legs);
``kind`` 3d / 2d batch; ``loss`` the optimised total: the weighted sum (the model config's ``class_weight`` /
``mask_weight`` / ``dice_weight``, 2 / 15 / 6 as ODIN) over the last decoder layer and every deep-supervision layer; ``loss_ce`` / ``loss_mask`` / ``loss_dice`` the last layer's terms,
unweighted; ``lr`` the base learning rate of the step (backbone groups scaled by ``backbone_lr_mult``);
``step_seconds`` wall time of the step."""


def parse_args(argv=None) -> argparse.Namespace:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(
        prog="python -m perception.train", description=__doc__.split("\n")[0] + " A run may span several "
        "invocations: rerun the same command (or add --resume) to continue it on its stored schedule.")
    parser.add_argument("--config", default=None,
                        help=f"model config: one of {sorted(CONFIGS)} or a .json path (default: small; a resumed "
                             f"run keeps its checkpoint's)")
    parser.add_argument("--ablation", default=None, choices=sorted(ABLATIONS),
                        help="training recipe: odin = 8 context views per 3D sample; views-4 = 4 views (the shipped "
                             "small checkpoint's recipe); no-3d-fusion = 2D batches only; frozen-backbone = odin "
                             "with a frozen --init-backbone (default: odin; a resumed run keeps its own)")
    parser.add_argument("--data", type=Path, default=None,
                        help="dataset directory from perception.make_dataset (required for a new run; a resumed "
                             "run: its last leg's)")
    parser.add_argument("--out", type=Path, required=True,
                        help="run directory (checkpoints, losses.csv, train_config.json, legs.jsonl); a run already "
                             "there is resumed")
    parser.add_argument("--splits", nargs="+", default=None,
                        help="dataset splits to train on (default: train; a resumed run: its last leg's)")
    parser.add_argument("--views", type=int, default=None, help="override the recipe's views per 3D sample")
    parser.add_argument("--resolution", type=int, default=None,
                        help="override the recipe's model input size in pixels (recipes: 128)")
    parser.add_argument("--lr", type=float, default=None, help="override the recipe's learning rate (recipes: 3e-4)")
    parser.add_argument("--warmup-steps", type=int, default=None,
                        help="override the recipe's linear LR warmup in steps (recipes: 0)")
    parser.add_argument("--class-balance", type=float, default=None, metavar="POWER",
                        help="override the recipe's class-balanced CE: weight of class c ~ frequency(c) ** -POWER "
                             "over the training targets, mean 1, clipped to [0.2, 5] (recipes: 0 = unweighted; 0.5 = "
                             "inverse square root)")
    parser.add_argument("--targets-3d", default=None, choices=TARGETS_3D,
                        help="override the recipe's 3D supervision: pixel = every stride-4 pixel of every view; "
                             "voxel = one prediction and one target per finest-level voxel (2 cm), as ODIN, so a "
                             "surface seen in several views counts once (recipes: pixel; 2D batches: per pixel)")
    parser.add_argument("--zoom-crops", type=float, default=None, metavar="P",
                        help="override the recipe's zoom crops: each 2D sample is with probability P a square crop "
                             "of the full-resolution frame (0.35-0.75 of its side) around one of its small objects, "
                             "so small and thin objects reach the model 1.3-2.9x larger, as through the provider's "
                             "zoom tiles (recipes: 0 = off)")
    parser.add_argument("--repeat-factor", type=float, default=None, metavar="T",
                        help="override the recipe's repeat-factor sampling (LVIS, Gupta et al. 2019) of the 2D "
                             "frames: a class in a fraction f of the frames gets r = max(1, sqrt(T / f)), a frame the "
                             "largest r of its classes and is drawn that many times as often; zoom crops pick their "
                             "object in proportion to its class's r (recipes: 0 = off, every frame once)")
    parser.add_argument("--mask-targets", default=None, choices=MASK_TARGETS,
                        help="override the recipe's stride-4 soft mask targets: share = each cell's share of the "
                             "object; peak = that divided by the object's largest share in the view, so a thin object "
                             "(a fork: no cell half covered in most samples at 192 px) has cells at 1 along its "
                             "length instead of a faint smear (recipes: share)")
    parser.add_argument("--mask-positive-weight", type=float, default=None, metavar="CAP",
                        help="override the recipe's mask BCE: each mask's positive cells weighted by its negatives "
                             "over its positives, at most CAP (class-balanced BCE as in HED), in the matching cost, "
                             "and in the loss where the prediction falls short of the target, so a mask of a few "
                             "cells (cutlery) is not lost in the mean over the view (recipes: 1 = plain BCE, as ODIN)")
    parser.add_argument("--matcher-positive-weight", type=float, default=None, metavar="CAP",
                        help="the matching cost's cap apart from the loss's (default: --mask-positive-weight's); "
                             "1 keeps ODIN's matching while the loss weighs positives")
    parser.add_argument("--final-lr-fraction", type=float, default=None,
                        help="override the recipe's last fraction of the budget trained at LR/10 (recipes: 0.15)")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="the whole run's time budget in minutes (all legs, data loading included); stored "
                             "with the run when it starts")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="the whole run's budget of optimiser steps; stored with the run when it starts")
    parser.add_argument("--change-budget", action="store_true",
                        help="when resuming, replace the run's stored budget by --max-steps / --max-minutes (the LR "
                             "schedule follows the new budget from here on)")
    parser.add_argument("--leg-minutes", type=float, default=None,
                        help="stop this invocation (saving a checkpoint) after this many minutes; the run's budget "
                             "and schedule stay as stored, continue later with --resume")
    parser.add_argument("--leg-steps", type=int, default=None,
                        help="stop this invocation (saving a checkpoint) after this many steps; as --leg-minutes")
    parser.add_argument("--save-minutes", type=float, default=5.0, help="checkpoint every this many minutes")
    parser.add_argument("--val-data", type=Path, default=None, metavar="DIR",
                        help="held-out loss: a dataset (perception.make_dataset, same vocabulary) whose "
                             "--val-splits give fixed batches scored without training every --val-every steps, "
                             "at a new run's start and at each leg's end, into val_losses.csv (default: off)")
    parser.add_argument("--val-splits", nargs="+", default=["valid_unseen", "test_unseen"],
                        help="splits of --val-data to score (default: valid_unseen test_unseen)")
    parser.add_argument("--val-every", type=int, default=250, help="steps between held-out scores (default: 250)")
    parser.add_argument("--val-batches", type=int, default=16,
                        help="held-out batches, half 3D and half 2D as the recipe has them (default: 16)")
    parser.add_argument("--resume", action="store_true",
                        help="require a checkpoint in --out to resume from; the budget may then be left out")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (CPU; default: torch's choice; a resumed run: its last leg's)")
    parser.add_argument("--device", default=None, help="cpu / cuda / cuda:1 (default: cuda if available)")
    parser.add_argument("--max-scenes", type=int, default=None,
                        help="use only the first N training sequences (default: all; a resumed run: as its last leg)")
    parser.add_argument("--seed", type=int, default=None, help="override the recipe's seed (recipes: 0)")
    parser.add_argument("--init-backbone", type=Path, default=None, metavar="CHECKPOINT",
                        help="start the ResNet backbone from this .safetensors checkpoint (same config); required "
                             "by --ablation frozen-backbone, whose backbone is then not trained")
    parser.add_argument("--init-weights", type=Path, default=None, metavar="CHECKPOINT",
                        help="start every weight from this .safetensors checkpoint (same config, or one whose "
                             "backbone has fewer blocks per stage: the extra blocks start as identities): fine-tune "
                             "it, e.g. at another --resolution, on new data or grown deeper (--config small_deep from "
                             "small); the schedule starts afresh")
    args = parser.parse_args(argv)
    if args.init_weights is not None and args.init_backbone is not None:
        parser.error("give --init-weights or --init-backbone, not both")
    if args.max_minutes is None and args.max_steps is None and not args.resume:
        parser.error("give --max-minutes and/or --max-steps (the whole run's budget), or --resume to continue a "
                     "run on its stored budget")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} exists and is not a directory")
    if args.change_budget and args.max_minutes is None and args.max_steps is None:
        parser.error("--change-budget needs the new --max-minutes and/or --max-steps")
    for name in ("max_steps", "leg_steps", "views", "resolution", "warmup_steps", "threads", "max_scenes",
                 "val_every", "val_batches"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "warmup_steps" else 1):
            parser.error(f"--{name.replace('_', '-')} must be >= {0 if name == 'warmup_steps' else 1}, got {value}")
    if args.class_balance is not None and not 0.0 <= args.class_balance <= 1.0:
        parser.error(f"--class-balance must be in [0, 1], got {args.class_balance}")
    if args.zoom_crops is not None and not 0.0 <= args.zoom_crops <= 1.0:
        parser.error(f"--zoom-crops must be in [0, 1], got {args.zoom_crops}")
    if args.repeat_factor is not None and not 0.0 <= args.repeat_factor <= 1.0:
        parser.error(f"--repeat-factor must be in [0, 1], got {args.repeat_factor}")
    if args.mask_positive_weight is not None and not 1.0 <= args.mask_positive_weight <= 1e4:
        parser.error(f"--mask-positive-weight must be in [1, 10000], got {args.mask_positive_weight}")
    if args.matcher_positive_weight is not None and not 1.0 <= args.matcher_positive_weight <= 1e4:
        parser.error(f"--matcher-positive-weight must be in [1, 10000], got {args.matcher_positive_weight}")
    for name in ("max_minutes", "leg_minutes", "save_minutes", "lr"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            parser.error(f"--{name.replace('_', '-')} must be > 0, got {value}")
    if args.ablation is not None and ABLATIONS[args.ablation].freeze_backbone and args.init_backbone is None:
        parser.error("--ablation frozen-backbone needs --init-backbone CHECKPOINT (a frozen random backbone "
                     "measures nothing; e.g. the no-3d-fusion run's last.safetensors as the 2D-pretrained backbone)")
    return args


def recipe_overrides(args) -> dict:
    """The recipe fields the command sets explicitly."""
    changes = {key: getattr(args, key, None) for key in ("views", "resolution", "lr", "warmup_steps",
                                                         "final_lr_fraction", "seed", "class_balance",
                                                         "targets_3d", "zoom_crops", "mask_targets",
                                                         "mask_positive_weight", "matcher_positive_weight",
                                                         "repeat_factor")}
    return {key: value for key, value in changes.items() if value is not None}


def train_config_from_args(args) -> TrainConfig:
    return dataclasses.replace(ABLATIONS[args.ablation or "odin"], **recipe_overrides(args))


class _StopRequest:
    """SIGTERM (a scheduler or session ending) or a first Ctrl-C asks the training loop to stop at the next step
    boundary and save, so no finished step is lost and no half-applied optimiser step is saved; a second Ctrl-C
    aborts at once. Handlers are restored on exit; only the main thread may install them (elsewhere: no-op)."""

    def __init__(self):
        self.requested: str | None = None
        self._previous: dict = {}

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame):
        import signal

        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        print(f"\nperception.train: {self.requested}: saving after this step (Ctrl-C again to abort)",
              file=sys.stderr)

    def __exit__(self, *exc):
        import signal

        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        return False


def run(args, command: str = "") -> dict:
    from tqdm import tqdm

    from .data import (class_occurrences, dataset_vocabulary, load_scenes, make_2d_batch, make_3d_batch,
                       repeat_factors, repeated_frame_refs, sequence_dirs)

    started = time.monotonic()
    out = args.out
    weights, trainer_file = checkpoint_paths(out)
    resuming = weights.is_file() and trainer_file.is_file()
    if args.resume and not resuming:
        raise FileNotFoundError(f"--resume: no checkpoint {weights} + {trainer_file.name} to resume from")
    last_leg = next((r for r in reversed(read_legs(out)) if r.get("event") == "start"), {}) if resuming else {}
    # Left out of a resumed leg's command: as its last leg had them (the data a run draws from must not change).
    threads = args.threads or last_leg.get("threads")
    splits = args.splits or last_leg.get("splits") or ["train"]
    max_scenes = args.max_scenes if args.max_scenes is not None else last_leg.get("max_scenes")
    if threads:
        torch.set_num_threads(int(threads))
    dist_info = init_distributed()
    device = pick_device(dist_info, args.device)
    if resuming and args.config is None:  # the checkpoint's own config, norm included
        model_config, norm_notice = OdinConfig.from_json(weights.with_suffix(".json")), None
    else:
        model_config, norm_notice = trainable_norm_config(get_config(args.config or "small"),
                                                          args.init_backbone is not None
                                                          or getattr(args, "init_weights", None) is not None)
    if norm_notice and dist_info.is_main:
        print(norm_notice, file=sys.stderr)
    requested = (None if args.max_steps is None and args.max_minutes is None
                 else Budget(args.max_steps, args.max_minutes))
    stored_budget, stored_recipe, budget_source = stored_run(out) if resuming else (None, None, "")
    config = recipe_for(args, stored_recipe, out / TRAIN_CONFIG_FILE) if resuming else train_config_from_args(args)
    budget, budget_notice = resolve_budget(requested, stored_budget, budget_source, resuming,
                                           getattr(args, "change_budget", False))
    data = args.data
    if data is None:
        data = Path(last_leg["data"]) if last_leg.get("data") else None
        if data is None:
            raise ValueError("give --data DIR (a dataset from perception.make_dataset)" + (
                f"; {out / LEGS_FILE} records none" if resuming else ""))
    out.mkdir(parents=True, exist_ok=True)
    if budget_notice and dist_info.is_main:
        print(budget_notice, file=sys.stderr)
    step, train_seconds, run_seconds = 0, 0.0, 0.0
    if resuming:
        previous = read_trainer_state(out)
        step, run_seconds = previous["step"], previous["run_seconds"]
        if budget.spent(step, run_seconds):  # nothing left to do: skip loading the data
            return {"step": step, "train_seconds": previous["train_seconds"], "run_seconds": run_seconds,
                    "stop": budget.spent(step, run_seconds), "finished": True, "budget": budget.to_dict(),
                    "checkpoint": str(weights)}

    directories = sequence_dirs(data, splits)[:max_scenes]
    vocabulary = dataset_vocabulary(data)
    scenes = load_scenes(directories, config.resolution, progress=dist_info.is_main)
    frame_refs = [(s, f) for s, scene in enumerate(scenes) for f in range(len(scene))]
    zoom_class_factors = None
    if config.repeat_factor > 0:
        zoom_class_factors, frame_factors = repeat_factors(scenes, len(vocabulary), config.repeat_factor)
        frame_refs = repeated_frame_refs(frame_factors, config.seed)
        if dist_info.is_main:
            print(f"perception.train: repeat-factor sampling (t={config.repeat_factor}): {len(frame_refs)} 2D "
                  f"draws per pass over {sum(len(f) for f in frame_factors)} frames; largest class factor "
                  f"{zoom_class_factors.max():.2f}", file=sys.stderr)

    torch.manual_seed(config.seed + dist_info.rank)
    model = build_model(model_config, config, device)
    if args.init_backbone is not None and not resuming:
        init_backbone_from(model, args.init_backbone)
    if getattr(args, "init_weights", None) is not None and not resuming:
        init_weights_from(model, args.init_weights)
    class_weights = None
    if config.class_balance > 0:
        counts = class_occurrences(scenes, len(vocabulary))
        class_weights = balanced_class_weights(counts, config.class_balance)
        if dist_info.is_main:
            (out / "class_weights.json").write_text(json.dumps(
                {"class_balance": config.class_balance, "clip": list(CLASS_WEIGHT_RANGE),
                 "classes": {name: {"targets": int(count), "weight": round(float(weight), 4)}
                             for name, count, weight in zip(vocabulary, counts, class_weights)}}, indent=1) + "\n")
    criterion = SetCriterion.from_config(model_config, class_weights, config.mask_positive_weight,
                                         config.matcher_positive_weight)
    optimizer = build_optimizer(model, config)
    heldout = None
    if getattr(args, "val_data", None) is not None and dist_info.is_main:
        val_vocabulary = dataset_vocabulary(args.val_data)
        if val_vocabulary != vocabulary:
            raise ValueError(f"--val-data {args.val_data}: its vocabulary ({len(val_vocabulary)} classes) is not the "
                             f"training data's ({len(vocabulary)} in {data}); export both with one perception "
                             f"version")
        val_scenes = load_scenes(sequence_dirs(args.val_data, args.val_splits), config.resolution, progress=False)
        if not val_scenes:
            raise ValueError(f"--val-data {args.val_data}: no sequences in splits {args.val_splits}")
        heldout = heldout_batches(val_scenes, config, args.val_batches)
        del val_scenes
    if resuming:
        step, train_seconds, run_seconds = load_training_state(out, model, optimizer, device)
    leg_start_step, leg_run_seconds = step, run_seconds
    legs = read_legs(out)
    leg = 1 + max([r.get("leg", 0) for r in legs if isinstance(r.get("leg"), int)], default=0)
    csv_path = out / "losses.csv"
    if dist_info.is_main:
        dropped = trim_losses(csv_path, step)
        # A new run (or one whose first leg never reached a checkpoint) describes itself once. A resumed run whose
        # description was lost gets one rebuilt from this leg, marked so, and later legs are held to it.
        reconstructed = None
        if resuming and not (out / TRAIN_CONFIG_FILE).is_file():
            reconstructed = (f"perception.train: {out / TRAIN_CONFIG_FILE} was missing; rebuilt from this leg's "
                             f"command and {weights.with_suffix('.json').name} (the recipe of the earlier legs is "
                             f"not known: check {LEGS_FILE})")
            print(reconstructed, file=sys.stderr)
        if not resuming or reconstructed:
            tmp = out / (TRAIN_CONFIG_FILE + ".tmp")
            tmp.write_text(json.dumps(
                {"train": dataclasses.asdict(config), "model": model_config.to_dict(), "budget": budget.to_dict(),
                 "data": str(data), "splits": splits, "sequences": len(scenes), "command": command,
                 "init_backbone": None if args.init_backbone is None else str(args.init_backbone),
                 "init_weights": None if getattr(args, "init_weights", None) is None else str(args.init_weights),
                 "norm_notice": norm_notice, "reconstructed": reconstructed}, indent=1) + "\n")
            os.replace(tmp, out / TRAIN_CONFIG_FILE)
        append_leg(out, {"event": "start", "leg": leg, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                         "command": command, "step": step, "run_seconds": round(run_seconds, 1),
                         "budget": budget.to_dict(), "budget_notice": budget_notice,
                         "leg_limit": {"steps": args.leg_steps, "minutes": args.leg_minutes},
                         "data": str(data), "splits": splits, "max_scenes": max_scenes, "sequences": len(scenes),
                         "device": str(device),
                         "world_size": dist_info.world_size, "threads": torch.get_num_threads(),
                         "losses_rows_dropped": dropped})
    trained = model
    if dist_info.world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        # 2D steps leave the 3D fusion blocks unused.
        trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                          find_unused_parameters=True)

    # Everything random in a step is drawn from the global step (and rank): the step kind (which must agree across
    # ranks for DDP), the streams' positions, view picks, augmentation and the matcher's points. A resumed run
    # therefore takes exactly the steps an uninterrupted one would.
    scenes_drawn, frames_drawn = items_drawn(config, step)
    scene_stream = IndexStream(len(scenes), dist_info, config.seed, drawn=scenes_drawn)
    frame_stream = IndexStream(len(frame_refs), dist_info, config.seed + 1, drawn=frames_drawn)
    csv_file, writer = append_rows(csv_path, LOSS_COLUMNS) if dist_info.is_main else (None, None)
    val_file = val_writer = None
    if heldout is not None:
        val_path = out / "val_losses.csv"
        trim_losses(val_path, step, VAL_COLUMNS)
        val_file, val_writer = append_rows(val_path, VAL_COLUMNS)
    last_val_step = None

    def score_heldout() -> None:
        nonlocal last_val_step
        if val_writer is None or last_val_step == step:
            return
        write_heldout(val_writer, step, heldout_losses(model, heldout, vocabulary, criterion, config, device))
        val_file.flush()
        last_val_step = step

    if step == 0:
        score_heldout()  # the weights the run starts from (random or --init-weights)
    last_save = time.monotonic()
    progress = tqdm(total=budget.max_steps, initial=step, desc=f"train {config.name}", unit="step",
                    disable=not dist_info.is_main)
    stop_reason = None
    model.train()

    def clock() -> float:
        return leg_run_seconds + (time.monotonic() - started)

    with _StopRequest() as stop_request:
        while True:
            now = clock()
            # Each rank reads its own clock: the time-based decisions are agreed on (any rank decides).
            out_of_time, leg_over, final_phase, signalled = any_rank(
                [budget.max_minutes is not None and now >= budget.max_minutes * 60.0,
                 args.leg_minutes is not None and time.monotonic() - started >= args.leg_minutes * 60.0,
                 in_final_phase(config, budget, step, now), stop_request.requested is not None], dist_info)
            if budget.max_steps is not None and step >= budget.max_steps:
                stop_reason = "max-steps"
            elif out_of_time:
                stop_reason = "max-minutes"
            elif args.leg_steps is not None and step - leg_start_step >= args.leg_steps:
                stop_reason = "leg-steps"
            elif leg_over:
                stop_reason = "leg-minutes"
            elif signalled:
                stop_reason = (stop_request.requested or "signal").lower()
            if stop_reason:
                break
            factor = lr_factor(config, step, final_phase)
            set_lr_factor(optimizer, factor)
            kind = step_kind(config, step)
            sample_rng, generator = step_randomness(config, dist_info.rank, step)
            tic = time.monotonic()
            if kind == "3d":
                batch = make_3d_batch(scenes, scene_stream.take(config.scenes_per_batch), config.views,
                                      sample_rng, peak_targets=config.mask_targets == "peak")
            else:
                batch = make_2d_batch(scenes, [frame_refs[i] for i in
                                               frame_stream.take(config.frames_per_2d_batch)], sample_rng,
                                      zoom=config.zoom_crops, peak_targets=config.mask_targets == "peak",
                                      zoom_class_factors=zoom_class_factors)
            losses = batch_losses(trained, kind, batch, vocabulary, criterion, config.targets_3d,
                                  model_config.voxel_sizes[0], device, generator)
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad],
                                               config.grad_clip)
            optimizer.step()
            step += 1
            step_seconds = time.monotonic() - tic
            train_seconds += step_seconds
            if writer:
                writer.writerow([step, f"{train_seconds:.1f}", kind]
                                + [f"{float(losses[k].detach()):.4f}" for k in
                                   ("loss", "loss_ce", "loss_mask", "loss_dice")]
                                + [f"{config.lr * factor:.2e}", f"{step_seconds:.3f}"])
                csv_file.flush()
                progress.update(1)
                progress.set_postfix(kind=kind, loss=f"{float(losses['loss'].detach()):.2f}")
            if step % getattr(args, "val_every", 250) == 0:
                score_heldout()
            if dist_info.is_main and time.monotonic() - last_save >= args.save_minutes * 60.0:
                save_training_state(out, model, optimizer, step, train_seconds, clock())
                last_save = time.monotonic()
    progress.close()
    run_seconds = clock()
    score_heldout()  # the leg's last weights (after its clock: not counted in the run's time budget)
    if dist_info.is_main:
        save_training_state(out, model, optimizer, step, train_seconds, run_seconds)
        csv_file.close()
        if val_file is not None:
            val_file.close()
        append_leg(out, {"event": "stop", "leg": leg, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "step": step,
                         "run_seconds": round(run_seconds, 1), "train_seconds": round(train_seconds, 1),
                         "stop": stop_reason})
    if dist_info.world_size > 1:
        import torch.distributed as dist

        dist.destroy_process_group()
    finished = stop_reason in ("max-steps", "max-minutes")
    return {"step": step, "train_seconds": train_seconds, "run_seconds": run_seconds, "stop": stop_reason,
            "finished": finished, "budget": budget.to_dict(), "checkpoint": str(weights)}


def main(argv=None) -> int:
    args = parse_args(argv)
    command = command_line("perception.train", argv)
    try:
        summary = run(args, command)
    except (OSError, ValueError) as error:  # OSError: a file that cannot be read or written, named
        print(f"perception.train: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    if summary["stop"] in ("sigint", "sigterm"):
        return 130 if summary["stop"] == "sigint" else 143
    if not summary["finished"]:
        print(f"perception.train: stopped at step {summary['step']} ({summary['stop']}); the run's budget is not "
              f"spent: rerun the command (or add --resume) to continue it", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
