"""Hungarian matching of predicted queries to ground-truth instances (Mask2Former ``HungarianMatcher``, ODIN weights).

Cost = class_weight * (-p(class)) + mask_weight * mean sigmoid BCE + dice_weight * dice loss (+1 smoothing), the mask
terms on one random subset of points shared by all queries and targets of a sample (ODIN samples points uniformly in
3D; there is no importance sampling). ODIN's scripts weigh class 2.0, mask 15.0, dice 6.0
(``ayushjain1144/odin`` at 9c67a0b: ``odin/modeling/matcher.py``, ``scripts/ai2thor/ai2thor_resnet.sh``). Assignment:
``scipy.optimize.linear_sum_assignment``.
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


def pairwise_sigmoid_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(Q, P) logits vs (N, P) binary targets -> (Q, N) mean BCE over points."""
    points = max(logits.shape[1], 1)
    positive = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="none")
    negative = F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits), reduction="none")
    return (positive @ targets.T + negative @ (1 - targets).T) / points


def pairwise_dice(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(Q, P) logits vs (N, P) binary targets -> (Q, N) dice loss 1 - (2|a.b| + 1) / (|a| + |b| + 1)."""
    probabilities = logits.sigmoid()
    numerator = 2 * probabilities @ targets.T
    denominator = probabilities.sum(-1)[:, None] + targets.sum(-1)[None, :]
    return 1 - (numerator + 1) / (denominator + 1)


class HungarianMatcher:
    """Returns, per sample, (query indices, target indices) of the minimum-cost one-to-one assignment."""

    def __init__(self, class_weight: float = 2.0, mask_weight: float = 15.0, dice_weight: float = 6.0,
                 num_points: int = 50000):
        if class_weight == 0 and mask_weight == 0 and dice_weight == 0:
            raise ValueError("HungarianMatcher: all cost weights are 0")
        self.class_weight, self.mask_weight, self.dice_weight = class_weight, mask_weight, dice_weight
        self.num_points = num_points

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
            cost = (self.class_weight * cost_class + self.mask_weight * pairwise_sigmoid_bce(predicted, wanted)
                    + self.dice_weight * pairwise_dice(predicted, wanted))
            rows, cols = linear_sum_assignment(cost.cpu().numpy())
            indices.append((torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)))
        return indices
