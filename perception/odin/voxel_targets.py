"""Per-voxel 3D supervision: pool stride-4 mask logits and targets into the voxels of the finest level.

A multi-view batch supervised per pixel counts a surface once for every view that sees it, and near surfaces (many
pixels) dominate far ones. ODIN supervises its 3D masks on the voxelised point cloud instead, one prediction and one
target per voxel (``ayushjain1144/odin`` at 9c67a0b):

* Voxels: the res2 (stride-4) points of all views of a scene voxelised at ``INPUT.VOXEL_SIZE[0]`` = 2 cm
  (``odin/config.py`` l.157; reversed with the levels in ``odin_model.py`` l.276 and
  ``data_video/dataset_mapper_scannet.py`` l.271, so ``multi_scale_p2v[-1]`` is res2;
  ``modeling/backproject/backproject.py`` ``voxelization`` l.247-264).
* Predictions: the decoder scatter-means the res2 mask features per voxel and takes one mask logit per voxel
  (``modeling/transformer_decoder/odin_transformer_decoder.py`` l.288-314 and ``forward_prediction_heads3D``
  l.467-492). A mask logit is linear in the mask feature, so this equals the mean of the pixels' logits, which is
  what :func:`pool_to_voxels` takes (and, for our model, whose 3D ``pred_masks`` already copy one logit per 2 cm
  voxel to its pixels, it returns exactly that logit).
* Targets: instance masks nearest-downsampled to H/4, scatter-meaned per voxel and kept where the mean is > 0.5
  (``odin_model.py`` ``adjust_masks_for_highres`` l.516-545). Validity likewise: a voxel counts when the mean depth
  validity of its pixels is > 0.5 (``SUPERVISE_SPARSE``, l.498-514; ``scripts/ai2thor/ai2thor_resnet.sh``).
* Loss and matching: sigmoid BCE (mean over voxels) and dice per matched pair on the valid voxels, at most
  ``TRAIN_NUM_POINTS`` of them drawn at random, divided by the number of targets (``modeling/criterion.py``
  ``loss_masks_3d`` l.188-236; ``modeling/matcher.py`` ``memory_efficient_forward_3d`` l.103-150).

Here: pixels without depth are left out of the voxels altogether (as in the model's own voxelisation,
:mod:`perception.odin.fusion3d`), so every voxel is valid and ODIN's validity rule has nothing left to decide.
Boolean targets follow ODIN's rule (mean > 0.5, boolean); soft targets (each cell's share of the object,
:mod:`perception.data`) keep their mean per voxel, the object's share of the voxel, because thresholding them at 0.5
would drop again the small objects that soft targets were introduced to keep. The pooled outputs and targets have
the shape the unchanged :class:`perception.odin.criterion.SetCriterion` expects (masks ``(.., M)`` over the voxels of
a sample, padded to the largest sample with ``valid`` False), so matching, point sampling and the losses are the
same code in pixel and voxel mode.
"""

from __future__ import annotations

import torch

from .config import MASK_STRIDE
from .fusion3d import segment_mean, voxelize


@torch.no_grad()
def mask_voxels(xyz: torch.Tensor, valid: torch.Tensor, voxel_size: float,
                stride: int = MASK_STRIDE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """The voxels of the stride-``stride`` pixels of a batch of multi-view samples.

    ``xyz`` (B, V, H, W, 3) world points at input resolution, ``valid`` (B, V, H, W) bool. The grid is the one of
    ``pred_masks``: the top-left pixel of every ``stride`` x ``stride`` cell (``xyz[..., ::stride, ::stride, :]``),
    as the model's res2 level samples it, voxelised by :func:`perception.odin.fusion3d.voxelize` (so the partition is
    the model's own). Returns ``(sample, position, slot, slots)``: for each valid cell, its sample, its flat position
    among the sample's V * h * w cells, and its voxel's slot (0 .. voxels of the sample - 1); ``slots`` the largest
    voxel count of a sample.
    """
    if xyz.dim() != 5 or xyz.shape[-1] != 3:
        raise ValueError(f"xyz must have shape (B, V, H, W, 3), got {tuple(xyz.shape)}")
    if tuple(valid.shape) != tuple(xyz.shape[:4]):
        raise ValueError(f"valid must have shape {tuple(xyz.shape[:4])} (xyz's B, V, H, W), got {tuple(valid.shape)}")
    batch = xyz.shape[0]
    cell_xyz = xyz[:, :, ::stride, ::stride]
    cell_valid = valid[:, :, ::stride, ::stride].bool() & torch.isfinite(cell_xyz).all(-1)
    flat_valid = cell_valid.reshape(batch, -1)
    sample, position = torch.nonzero(flat_valid, as_tuple=True)  # row-major: the order of cell_xyz[cell_valid]
    voxels = voxelize(cell_xyz[cell_valid].float(), sample, voxel_size, batch)
    counts = torch.bincount(voxels.batch, minlength=batch)
    first = torch.cumsum(counts, 0) - counts  # voxels come out grouped by sample
    local = torch.arange(voxels.count, device=xyz.device) - first[voxels.batch]
    return sample, position, local[voxels.point_to_voxel], int(counts.max()) if batch else 0


def _pool_predictions(pred_masks: torch.Tensor, cell_index: torch.Tensor, key: torch.Tensor,
                      count: torch.Tensor) -> torch.Tensor:
    """(B, Q, V, h, w) logits -> (B, Q, slots): the mean logit of each voxel's cells (0 in padding slots).
    ``cell_index`` the valid cells' flat index over (B, V*h*w), ``key`` their (sample, slot) as sample * slots + slot,
    ``count`` (B * slots,) cells per key (at least 1). Queries stay the leading axis, so that for one sample (the
    usual batch) no copy of the logits is made."""
    batch, queries = pred_masks.shape[:2]
    per_query = pred_masks.reshape(batch, queries, -1).transpose(0, 1).reshape(queries, -1)  # (Q, B*V*h*w)
    cells = per_query.index_select(1, cell_index)  # (Q, N)
    total = cells.new_zeros(queries, count.numel()).index_add(1, key, cells)
    pooled = (total / count).view(queries, batch, -1)
    return pooled.transpose(0, 1).contiguous()


def pool_to_voxels(outputs: dict, targets: list[dict], xyz: torch.Tensor, valid: torch.Tensor, voxel_size: float,
                   stride: int = MASK_STRIDE) -> tuple[dict, list[dict], torch.Tensor]:
    """Per-voxel versions of a 3D batch's ``outputs`` (``pred_masks`` of the last and every auxiliary layer),
    ``targets`` (``masks``) and the supervision mask, for :class:`SetCriterion` (see the module docstring).

    ``outputs['pred_masks']`` (B, Q, V, h, w) with h = ceil(H / stride); ``targets[b]['masks']`` (N, V, h, w) bool or
    float; ``xyz`` (B, V, H, W, 3) and ``valid`` (B, V, H, W) at input resolution; ``voxel_size`` in metres (the model
    config's ``voxel_sizes[0]``, its finest level). Returns ``(outputs, targets, voxel_valid)`` with ``pred_masks``
    (B, Q, M) mean logits per voxel, ``masks`` (N, M) (bool: mean > 0.5; float: the mean) and ``voxel_valid``
    (B, M) bool, M the largest voxel count of a sample (shorter samples padded, not valid). Gradients flow to the
    pixel logits.
    """
    if voxel_size <= 0:
        raise ValueError(f"voxel_size must be positive (metres), got {voxel_size}")
    pred_masks = outputs["pred_masks"]
    if pred_masks.dim() != 5:
        raise ValueError(f"outputs['pred_masks'] must have shape (B, Q, V, h, w) (a 3D batch), "
                         f"got {tuple(pred_masks.shape)}")
    batch, _, views, height, width = pred_masks.shape
    if len(targets) != batch:
        raise ValueError(f"targets: expected {batch} entries (one per sample), got {len(targets)}")
    if xyz.dim() != 5 or tuple(xyz.shape[:2]) != (batch, views) or -(-xyz.shape[2] // stride) != height \
            or -(-xyz.shape[3] // stride) != width:
        raise ValueError(f"xyz of shape {tuple(xyz.shape)} does not fit pred_masks {tuple(pred_masks.shape)}: it needs "
                         f"(B, V, H, W, 3) with B={batch}, V={views}, ceil(H/{stride})={height}, "
                         f"ceil(W/{stride})={width}")
    sample, position, slot, slots = mask_voxels(xyz.to(pred_masks.device), valid.to(pred_masks.device),
                                                voxel_size, stride)

    cell_index = sample * (views * height * width) + position
    key = sample * slots + slot
    count = torch.zeros(batch * slots, device=pred_masks.device, dtype=pred_masks.dtype)
    count = count.index_add(0, key, torch.ones_like(key, dtype=pred_masks.dtype)).clamp_min(1.0)

    def pooled(prediction: dict) -> dict:
        return {"pred_logits": prediction["pred_logits"],
                "pred_masks": _pool_predictions(prediction["pred_masks"], cell_index, key, count)}

    voxel_outputs = pooled(outputs)
    voxel_outputs["aux_outputs"] = [pooled(aux) for aux in outputs.get("aux_outputs", [])]

    voxel_targets = []
    for b, target in enumerate(targets):
        masks = target["masks"]
        if tuple(masks.shape[1:]) != (views, height, width):
            raise ValueError(f"targets[{b}]['masks'] must have shape (N, {views}, {height}, {width}), "
                             f"got {tuple(masks.shape)}")
        mine = sample == b
        cells = masks.reshape(masks.shape[0], views * height * width)[:, position[mine].to(masks.device)]
        share = segment_mean(cells.T.float(), slot[mine].to(masks.device), slots).T  # (N, slots)
        voxel_targets.append({**target, "masks": share > 0.5 if masks.dtype == torch.bool else share.to(masks.dtype)})

    voxel_valid = torch.zeros(batch, slots, dtype=torch.bool, device=pred_masks.device)
    voxel_valid[sample, slot] = True
    return voxel_outputs, voxel_targets, voxel_valid
