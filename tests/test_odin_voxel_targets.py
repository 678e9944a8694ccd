"""Per-voxel 3D supervision (perception.odin.voxel_targets): a hand-made two-view scene whose shared surface is pooled
into one voxel per spot, a loss that a duplicated view leaves unchanged in voxel mode (and changes per pixel), and
the model's own voxel partition."""

import pytest
import torch

from perception.odin import CONFIGS, Odin, SetCriterion, pool_to_voxels
from perception.odin.voxel_targets import mask_voxels

VOXEL = 0.02


def hand_made_scene():
    """One sample, two 8x8 views (2x2 cells at stride 4). View 0 sees spots A, B, C, D; view 1 sees B (3 mm off,
    the same 2 cm voxel), A, a new spot E, and one cell without depth. Two more samples: one with a single valid
    cell, so padding shows."""
    a, b, c, d, e = (0.0, 0.0, 0.0), (0.1, 0.0, 0.0), (0.0, 0.1, 0.0), (0.1, 0.1, 0.0), (0.3, 0.0, 0.0)
    b_again = (0.103, 0.0, 0.002)
    cells = torch.tensor([[[a, b], [c, d]], [[b_again, a], [e, (9.0, 9.0, 9.0)]]])  # (V, 2, 2, 3)
    xyz = torch.full((2, 2, 8, 8, 3), 5.0)
    valid = torch.ones(2, 2, 8, 8, dtype=torch.bool)
    xyz[0, :, ::4, ::4] = cells
    valid[0, 1, 4, 4] = False  # the cell that reads (9, 9, 9): no depth
    xyz[1, :, ::4, ::4] = torch.tensor([1.0, 1.0, 1.0])
    valid[1] = False
    valid[1, 0, 0, 0] = True  # sample 1: one valid cell
    logits = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[6.0, 3.0], [5.0, 100.0]]])  # per cell of sample 0
    soft = torch.tensor([[[1.0, 0.5], [0.0, 0.0]], [[0.5, 0.0], [1.0, 1.0]]])
    hard = torch.tensor([[[True, True], [False, False]], [[False, True], [True, True]]])
    pred = torch.zeros(2, 2, 2, 2, 2)  # (B, Q, V, h, w)
    pred[0, 0], pred[0, 1] = logits, -logits
    pred[1, 0, 0, 0, 0] = 7.0
    return xyz, valid, pred, soft, hard


def test_two_views_of_one_surface_count_once():
    xyz, valid, pred, soft, hard = hand_made_scene()
    pred.requires_grad_(True)
    outputs = {"pred_logits": torch.zeros(2, 2, 3), "pred_masks": pred,
               "aux_outputs": [{"pred_logits": torch.zeros(2, 2, 3), "pred_masks": pred * 2}]}
    targets = [{"labels": torch.tensor([0, 1]), "masks": torch.stack([soft, soft.flip(0)])},
               {"labels": torch.tensor([0]), "masks": torch.zeros(1, 2, 2, 2)}]
    voxel_outputs, voxel_targets, voxel_valid = pool_to_voxels(outputs, targets, xyz, valid, VOXEL)

    # 7 cells with depth in sample 0 but 5 spots: A and B seen twice count once; the cell without depth is out.
    assert voxel_outputs["pred_masks"].shape == (2, 2, 5) and voxel_valid.tolist() == [[True] * 5,
                                                                                       [True] + [False] * 4]
    logit = voxel_outputs["pred_masks"][0, 0]
    share = voxel_targets[0]["masks"][0]
    # (mean logit, mean soft target) per spot: A (1+3)/2 & (1+0)/2, B (2+6)/2 & (0.5+0.5)/2, C, D, E.
    pairs = sorted(zip(logit.tolist(), share.tolist()))
    assert pairs == sorted([(2.0, 0.5), (4.0, 0.5), (3.0, 0.0), (4.0, 0.0), (5.0, 1.0)])
    assert torch.equal(voxel_outputs["pred_masks"][0, 1], -logit)
    assert torch.equal(voxel_outputs["aux_outputs"][0]["pred_masks"], 2 * voxel_outputs["pred_masks"])
    assert voxel_targets[0]["masks"].shape == (2, 5) and voxel_targets[0]["labels"].tolist() == [0, 1]
    assert voxel_outputs["pred_masks"][1, 0, 0] == 7.0  # the lone cell of sample 1

    # Gradients reach the pixels of each voxel in equal shares; the cell without depth gets none.
    logit.sum().backward()
    assert pred.grad[0, 0].tolist() == [[[0.5, 0.5], [1.0, 1.0]], [[0.5, 0.5], [1.0, 0.0]]]

    # Boolean targets follow ODIN's rule: a voxel is in the mask when more than half of its cells are.
    _, hard_targets, _ = pool_to_voxels(outputs, [{"labels": torch.tensor([0]), "masks": hard[None]},
                                                  targets[1]], xyz, valid, VOXEL)
    pairs = sorted(zip(logit.tolist(), hard_targets[0]["masks"][0].tolist()))
    assert hard_targets[0]["masks"].dtype == torch.bool
    assert pairs == sorted([(2.0, True), (4.0, False), (3.0, False), (4.0, False), (5.0, True)])


def test_pooling_rejects_shapes_that_do_not_fit():
    xyz, valid, pred, soft, _ = hand_made_scene()
    outputs = {"pred_logits": torch.zeros(2, 2, 3), "pred_masks": pred}
    targets = [{"labels": torch.tensor([0]), "masks": soft[None]}] * 2
    with pytest.raises(ValueError, match="xyz of shape"):
        pool_to_voxels(outputs, targets, xyz[:, :, :4], valid[:, :, :4], VOXEL)
    with pytest.raises(ValueError, match="voxel_size must be positive"):
        pool_to_voxels(outputs, targets, xyz, valid, 0.0)
    with pytest.raises(ValueError, match=r"targets\[1\]\['masks'\]"):
        pool_to_voxels(outputs, [targets[0], {"labels": torch.tensor([0]), "masks": soft[None, :1]}], xyz, valid,
                       VOXEL)
    with pytest.raises(ValueError, match="valid must have shape"):
        mask_voxels(xyz, valid[:, :1], VOXEL)


def random_scene(views=2, size=24, queries=4, objects=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    xyz = torch.rand(1, views, size, size, 3, generator=generator) * 0.3  # 15 x 15 x 15 voxels: some shared
    valid = torch.rand(1, views, size, size, generator=generator) > 0.1
    cells = size // 4
    outputs = {"pred_logits": torch.randn(1, queries, 6, generator=generator),
               "pred_masks": torch.randn(1, queries, views, cells, cells, generator=generator) * 3,
               "aux_outputs": [{"pred_logits": torch.randn(1, queries, 6, generator=generator),
                                "pred_masks": torch.randn(1, queries, views, cells, cells, generator=generator)}]}
    targets = [{"labels": torch.tensor([0, 2, 4][:objects]),
                "masks": torch.rand(objects, views, cells, cells, generator=generator).round()}]
    return outputs, targets, xyz, valid


def with_view_repeated(outputs, targets, xyz, valid, view=0):
    """The same scene with view ``view`` appended again (a surface seen twice as often)."""
    def repeat(tensor, axis):
        return torch.cat([tensor, tensor.narrow(axis, view, 1)], axis)
    return ({"pred_logits": outputs["pred_logits"], "pred_masks": repeat(outputs["pred_masks"], 2),
             "aux_outputs": [{"pred_logits": aux["pred_logits"], "pred_masks": repeat(aux["pred_masks"], 2)}
                             for aux in outputs["aux_outputs"]]},
            [{"labels": t["labels"], "masks": repeat(t["masks"], 1)} for t in targets],
            repeat(xyz, 1), repeat(valid, 1))


def pixel_loss(criterion, outputs, targets, xyz, valid):
    return criterion(outputs, targets, valid[..., ::4, ::4])["loss"]


def voxel_loss(criterion, outputs, targets, xyz, valid):
    return criterion(*pool_to_voxels(outputs, targets, xyz, valid, VOXEL))["loss"]


def test_the_voxel_loss_ignores_a_duplicated_view_the_pixel_loss_does_not():
    criterion = SetCriterion(num_points=100000)  # every point: no sampling noise
    scene = random_scene()
    doubled = with_view_repeated(*scene)
    same = voxel_loss(criterion, *scene), voxel_loss(criterion, *doubled)
    assert torch.allclose(same[0], same[1], rtol=1e-5), same
    differ = pixel_loss(criterion, *scene), pixel_loss(criterion, *doubled)
    assert abs(float(differ[0] - differ[1])) > 1e-2 * float(differ[0]), differ
    # Voxels pool something: fewer voxels than cells with depth, as the views overlap.
    _, _, voxel_valid = pool_to_voxels(*scene[:2], scene[2], scene[3], VOXEL)
    assert voxel_valid.sum() < scene[3][..., ::4, ::4].sum()


def test_pooling_uses_the_models_own_voxels():
    """The tiny model's 3D pred_masks copy one logit per res2 voxel to its pixels: pooling returns that logit, and
    each cell's logit equals its voxel's (the same partition as the model's)."""
    torch.manual_seed(0)
    model = Odin(CONFIGS["tiny"]).eval()
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(1, 2, 3, 32, 32, generator=generator)
    xyz = torch.rand(1, 2, 32, 32, 3, generator=generator) * 0.2
    valid = torch.rand(1, 2, 32, 32, generator=generator) > 0.2
    with torch.no_grad():
        outputs = model(images, ["Mug", "Cup"], xyz, valid)
    pooled, _, voxel_valid = pool_to_voxels(outputs, [{"labels": torch.zeros(0, dtype=torch.long),
                                                      "masks": torch.zeros(0, 2, 8, 8)}], xyz, valid, VOXEL)
    sample, position, slot, _ = mask_voxels(xyz, valid, model.config.voxel_sizes[0])
    cells = outputs["pred_masks"].reshape(1, outputs["pred_masks"].shape[1], -1)[0][:, position]
    assert torch.allclose(cells, pooled["pred_masks"][0][:, slot], atol=1e-5)
    assert int(voxel_valid.sum()) < position.numel()  # several cells share voxels
