"""Hungarian matching of predicted queries to ground-truth instances (Mask2Former ``HungarianMatcher``, ODIN weights).

Cost = class_weight * (-p(class)) + mask_weight * mean sigmoid BCE + dice_weight * dice loss (+1 smoothing), the mask
terms on one random subset of points shared by all queries and targets of a sample (ODIN samples points uniformly in
3D; there is no importance sampling). ODIN's scripts weigh class 2.0, mask 15.0, dice 6.0
(``ayushjain1144/odin`` at 9c67a0b: ``odin/modeling/matcher.py``, ``scripts/ai2thor/ai2thor_resnet.sh``). Assignment:
``scipy.optimize.linear_sum_assignment``. Optionally (``positive_weight_cap`` > 1, not ODIN's) the BCE cost weighs
each target's positive cells by its negatives over its positives, capped (:func:`positive_weights`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment


def sample_points(num_pixels: int, valid: torch.Tensor | None, num_points: int, device,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Flat pixel indices to supervise: all (valid) pixels, or ``num_points`` of them drawn uniformly without replacement."""
    candidates = torch.arange(num_pixels, device=device) if valid is None else torch.nonzero(valid.reshape(-1)).squeeze(1)
    if candidates.numel() <= num_points:
        return candidates
    choice = torch.randperm(candidates.numel(), generator=generator, device="cpu")[:num_points].to(device)
    return candidates[choice]


def positive_weights(targets: torch.Tensor, cap: float) -> torch.Tensor:
    """(N, P) targets in [0, 1] -> (N, 1) weight of each target's positive term: its negatives over its positives
    (summed soft shares), clipped to [1, cap]; all ones when ``cap`` is 1.

    The class-balance ratio of Xie and Tu's sigmoid cross-entropy ("Holistically-Nested Edge Detection", ICCV 2015),
    capped: a mask that covers a few cells of a view (a fork: ~0.1 % of a 192 px frame) gets a pull on them that does
    not vanish in the mean over every cell, while a mask of a tenth of the view or more is weighted about as before.
    """
    if cap <= 1.0:
        return targets.new_ones(targets.shape[0], 1)
    positives = targets.sum(1, keepdim=True)
    negatives = (1 - targets).sum(1, keepdim=True)
    return (negatives / positives.clamp_min(1e-6)).clamp(1.0, cap)


def pairwise_sigmoid_bce(logits: torch.Tensor, targets: torch.Tensor, positive_weight_cap: float = 1.0) -> torch.Tensor:
    """(Q, P) logits vs (N, P) targets in [0, 1] -> (Q, N) mean BCE over points, each target's positive term weighted
    by :func:`positive_weights` (plain BCE at the default cap of 1): as a matching cost, a query that leaves a small
    object's cells empty costs what one covering it with as many wrong cells elsewhere costs."""
    points = max(logits.shape[1], 1)
    positive = F.softplus(-logits)  # -log sigmoid(x)
    negative = F.softplus(logits)  # -log(1 - sigmoid(x))
    weighted = targets * positive_weights(targets, positive_weight_cap)
    return (positive @ weighted.T + negative @ (1 - targets).T) / points


def sigmoid_bce(logits: torch.Tensor, targets: torch.Tensor, positive_weight_cap: float = 1.0) -> torch.Tensor:
    """(N, P) logits vs their (N, P) targets -> (N,) mean BCE over points, the loss of matched pairs.

    With a cap > 1, a cell's positive term is weighted by :func:`positive_weights` only where the prediction falls
    short of the target (sigmoid(x) < t, a selection without gradient). A query with an empty mask on a thin object is
    pulled up as hard as the weighting says, yet the loss is still lowest at sigmoid(x) = t in every cell: a plain
    positive weight w would move that optimum to w t / (w t + 1 - t) and spread every mask over its border cells.
    """
    positive = targets * F.softplus(-logits)
    if positive_weight_cap > 1.0:
        short = (logits.detach().sigmoid() < targets).to(logits.dtype)
        positive = positive * (1 + (positive_weights(targets, positive_weight_cap) - 1) * short)
    return (positive + (1 - targets) * F.softplus(logits)).mean(1)


def pairwise_dice(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(Q, P) logits vs (N, P) binary targets -> (Q, N) dice loss 1 - (2|a.b| + 1) / (|a| + |b| + 1)."""
    probabilities = logits.sigmoid()
    numerator = 2 * probabilities @ targets.T
    denominator = probabilities.sum(-1)[:, None] + targets.sum(-1)[None, :]
    return 1 - (numerator + 1) / (denominator + 1)


class HungarianMatcher:
    """Returns, per sample, (query indices, target indices) of the minimum-cost one-to-one assignment."""

    def __init__(self, class_weight: float = 2.0, mask_weight: float = 15.0, dice_weight: float = 6.0,
                 num_points: int = 50000, positive_weight_cap: float = 1.0):
        if class_weight == 0 and mask_weight == 0 and dice_weight == 0:
            raise ValueError("HungarianMatcher: all cost weights are 0")
        if not positive_weight_cap >= 1.0:
            raise ValueError(f"HungarianMatcher: positive_weight_cap must be >= 1, got {positive_weight_cap}")
        self.class_weight, self.mask_weight, self.dice_weight = class_weight, mask_weight, dice_weight
        self.num_points = num_points
        self.positive_weight_cap = positive_weight_cap

    @torch.no_grad()
    def __call__(self, outputs: dict, targets: list[dict], valid: torch.Tensor | None = None,
                 generator: torch.Generator | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """outputs: pred_logits (B, Q, C+1), pred_masks (B, Q, ...); targets: [{labels (N,), masks (N, ...)}]."""
        indices = []
        for b, target in enumerate(targets):
            labels, masks = target["labels"], target["masks"]
            if labels.numel() == 0:
                empty = torch.zeros(0, dtype=torch.long)
                indices.append((empty, empty))
                continue
            probabilities = outputs["pred_logits"][b].float().softmax(-1)
            cost_class = -probabilities[:, labels]
            predicted = outputs["pred_masks"][b].flatten(1).float()
            points = sample_points(predicted.shape[1], None if valid is None else valid[b], self.num_points,
                                   predicted.device, generator)
            predicted = predicted[:, points]
            wanted = masks.flatten(1)[:, points].to(predicted.dtype)
            cost = (self.class_weight * cost_class + self.mask_weight * pairwise_sigmoid_bce(predicted, wanted,
                                                                             self.positive_weight_cap)
                    + self.dice_weight * pairwise_dice(predicted, wanted))
            rows, cols = linear_sum_assignment(cost.cpu().numpy())
            indices.append((torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)))
        return indices
