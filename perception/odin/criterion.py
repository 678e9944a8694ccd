"""ODIN / Mask2Former set criterion: matched cross-entropy, sigmoid BCE and dice on sampled points, deep-supervised.

* Classification: cross-entropy over C+1 columns, unmatched queries labelled no-object (last column) with class
  weight ``no_object_weight`` (0.1). Optional per-class weights (``class_weights``, (C,)) re-weight the C object
  columns, e.g. inverse-frequency weights so that rare (mostly small) classes count as much as walls or cabinets
  (:func:`perception.train.balanced_class_weights`); the matcher's costs are not weighted.
* Masks: sigmoid BCE and dice on one uniform random point subset per sample (drawn apart from the matcher's), summed
  over matched pairs and divided by the number of ground-truth instances in the batch (at least 1). With
  ``positive_weight_cap`` > 1 a mask's positive cells weigh its negatives over its positives, at most the cap (the
  class-balance ratio of Xie and Tu, ICCV 2015): in the matcher's cost everywhere, in the loss only where the
  prediction falls short of the target, so a thin object's empty mask is pulled up while the loss stays lowest at
  the target (:func:`perception.odin.matcher.sigmoid_bce`). ODIN and the default: 1, plain BCE.
  ``matcher_positive_weight_cap`` sets the matcher's cap apart (default: the loss's): a large cap in the cost decides
  matches by coverage alone, so the loss may weigh positives while the matching stays ODIN's (cap 1).
* Deep supervision: the same losses with equal weight on every decoder output (``loss_ce_0`` ... for the auxiliary
  ones); ``loss`` is the weighted total (class 2, mask 15, dice 6 in ODIN's scripts).
(``ayushjain1144/odin`` at 9c67a0b: ``odin/modeling/criterion.py``; Cheng et al. CVPR 2022 ``SetCriterion``.)

Targets per sample: ``labels`` (N,) long in [0, C) and ``masks`` (N, V, ceil(H/4), ceil(W/4)) bool at the stride of
``pred_masks``. ``valid`` (B, V, h, w) bool, optional, restricts supervision to pixels with depth (ODIN
``SUPERVISE_SPARSE``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import MASK_STRIDE
from .matcher import HungarianMatcher, sample_points, sigmoid_bce


def check_targets(outputs: dict, targets: list[dict]) -> None:
    batch, _, num_columns = outputs["pred_logits"].shape
    mask_shape = tuple(outputs["pred_masks"].shape[2:])
    if len(targets) != batch:
        raise ValueError(f"targets: expected {batch} entries (one per sample), got {len(targets)}")
    for b, target in enumerate(targets):
        labels, masks = target.get("labels"), target.get("masks")
        if labels is None or masks is None:
            raise ValueError(f"targets[{b}] needs 'labels' and 'masks'")
        if labels.dim() != 1 or tuple(masks.shape) != (labels.numel(),) + mask_shape:
            raise ValueError(f"targets[{b}]: masks must have shape {(labels.numel(),) + mask_shape}, "
                             f"got {tuple(masks.shape)}")
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_columns - 1):
            raise ValueError(f"targets[{b}].labels must be in [0, {num_columns - 1}), got {labels.tolist()}")


class SetCriterion(nn.Module):
    def __init__(self, class_weight: float = 2.0, mask_weight: float = 15.0, dice_weight: float = 6.0,
                 no_object_weight: float = 0.1, num_points: int = 50000,
                 class_weights: torch.Tensor | None = None, positive_weight_cap: float = 1.0,
                 matcher_positive_weight_cap: float | None = None):
        super().__init__()
        self.weights = {"loss_ce": class_weight, "loss_mask": mask_weight, "loss_dice": dice_weight}
        self.no_object_weight = no_object_weight
        if class_weights is not None:
            class_weights = torch.as_tensor(class_weights, dtype=torch.float32)
            if class_weights.dim() != 1 or not bool(torch.isfinite(class_weights).all()) \
                    or not bool((class_weights > 0).all()):
                raise ValueError("class_weights must be a 1-D tensor of finite positive weights, one per class")
        self.class_weights = class_weights
        self.num_points = num_points
        self.positive_weight_cap = positive_weight_cap
        if matcher_positive_weight_cap is None:
            matcher_positive_weight_cap = positive_weight_cap
        self.matcher = HungarianMatcher(class_weight, mask_weight, dice_weight, num_points, matcher_positive_weight_cap)

    @classmethod
    def from_config(cls, config, class_weights: torch.Tensor | None = None,
                    positive_weight_cap: float = 1.0,
                    matcher_positive_weight_cap: float | None = None) -> "SetCriterion":
        return cls(config.class_weight, config.mask_weight, config.dice_weight, config.no_object_weight,
                   config.train_num_points, class_weights, positive_weight_cap, matcher_positive_weight_cap)

    def column_weights(self, columns: int, device, dtype) -> torch.Tensor:
        """CE weights of the C+1 columns: ``class_weights`` (or ones) for the classes, ``no_object_weight`` last."""
        weights = torch.ones(columns, device=device, dtype=dtype)
        if self.class_weights is not None:
            if self.class_weights.numel() != columns - 1:
                raise ValueError(f"class_weights has {self.class_weights.numel()} entries but the model scores "
                                 f"{columns - 1} classes")
            weights[:-1] = self.class_weights.to(device=device, dtype=dtype)
        weights[-1] = self.no_object_weight
        return weights

    def _single_output(self, output, targets, valid, num_masks, generator):
        indices = self.matcher(output, targets, valid, generator)
        logits = output["pred_logits"]
        batch, queries, columns = logits.shape
        target_classes = torch.full((batch, queries), columns - 1, dtype=torch.long, device=logits.device)
        for b, (rows, cols) in enumerate(indices):
            target_classes[b, rows.to(logits.device)] = targets[b]["labels"][cols.to(logits.device)]
        loss_ce = F.cross_entropy(logits.transpose(1, 2), target_classes,
                                  self.column_weights(columns, logits.device, logits.dtype))

        loss_mask = logits.new_zeros(())
        loss_dice = logits.new_zeros(())
        for b, (rows, cols) in enumerate(indices):
            if rows.numel() == 0:
                continue
            predicted = output["pred_masks"][b].flatten(1)
            points = sample_points(predicted.shape[1], None if valid is None else valid[b], self.num_points,
                                   predicted.device, generator)
            predicted = predicted[rows.to(predicted.device)][:, points]
            wanted = targets[b]["masks"].flatten(1)[cols.to(predicted.device)][:, points].to(predicted.dtype)
            if points.numel() == 0:
                continue
            loss_mask = loss_mask + sigmoid_bce(predicted, wanted, self.positive_weight_cap).sum()
            probabilities = predicted.sigmoid()
            dice = 1 - (2 * (probabilities * wanted).sum(1) + 1) / (probabilities.sum(1) + wanted.sum(1) + 1)
            loss_dice = loss_dice + dice.sum()
        return {"loss_ce": loss_ce, "loss_mask": loss_mask / num_masks, "loss_dice": loss_dice / num_masks}

    def forward(self, outputs: dict, targets: list[dict], valid: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        check_targets(outputs, targets)
        num_masks = max(sum(int(t["labels"].numel()) for t in targets), 1)
        losses = {}
        for name, value in self._single_output(outputs, targets, valid, num_masks, generator).items():
            losses[name] = value
        for i, aux in enumerate(outputs.get("aux_outputs", [])):
            for name, value in self._single_output(aux, targets, valid, num_masks, generator).items():
                losses[f"{name}_{i}"] = value
        losses["loss"] = sum(self.weights[name.rsplit("_", 1)[0] if name[-1].isdigit() else name] * value
                             for name, value in losses.items())
        return losses


def masks_at_prediction_stride(masks: torch.Tensor, stride: int = MASK_STRIDE) -> torch.Tensor:
    """Full-resolution instance masks (N, V, H, W) -> (N, V, ceil(H/4), ceil(W/4)) on the grid of ``pred_masks``.

    Nearest sampling at the top-left pixel of each stride-4 cell, the pixel whose xyz the model's res2 level uses
    (ODIN nearest-downsamples GT masks to H/4 as well).
    """
    if masks.dim() != 4:
        raise ValueError(f"masks must have shape (N, V, H, W), got {tuple(masks.shape)}")
    return masks[..., ::stride, ::stride]
