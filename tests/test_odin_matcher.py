"""Hungarian matcher and set criterion of ODIN / Mask2Former on hand-made predictions."""

import pytest
import torch

from perception.odin.criterion import SetCriterion
from perception.odin.matcher import HungarianMatcher, pairwise_dice, pairwise_sigmoid_bce


def hand_made(permutation, num_classes=3, views=1, size=8):
    """Three disjoint GT masks; query permutation[i] predicts GT i perfectly (large logits), other queries are empty."""
    masks = torch.zeros(3, views, size, size, dtype=torch.bool)
    masks[0, :, :4, :4] = True
    masks[1, :, 4:, :] = True
    masks[2, :, :4, 4:] = True
    labels = torch.tensor([2, 0, 1])
    queries = 5
    logits = torch.full((1, queries, num_classes + 1), -5.0)
    logits[0, :, -1] = 5.0  # no-object for the spare queries
    mask_logits = torch.full((1, queries, views, size, size), -10.0)
    for gt, query in enumerate(permutation):
        logits[0, query] = -5.0
        logits[0, query, labels[gt]] = 5.0
        mask_logits[0, query] = torch.where(masks[gt], 10.0, -10.0)
    outputs = {"pred_logits": logits, "pred_masks": mask_logits}
    return outputs, [{"labels": labels, "masks": masks}]


@pytest.mark.parametrize("permutation", [[0, 1, 2], [3, 0, 4], [2, 4, 1]])
def test_matcher_recovers_the_assignment(permutation):
    outputs, targets = hand_made(permutation)
    rows, cols = HungarianMatcher(num_points=40)(outputs, targets, generator=torch.Generator().manual_seed(0))[0]
    assignment = dict(zip(cols.tolist(), rows.tolist()))
    assert assignment == {gt: q for gt, q in enumerate(permutation)}


def test_pairwise_costs_match_direct_formulas():
    torch.manual_seed(0)
    logits, targets = torch.randn(4, 30), (torch.rand(3, 30) > 0.5).float()
    bce = pairwise_sigmoid_bce(logits, targets)
    dice = pairwise_dice(logits, targets)
    for q in range(4):
        for t in range(3):
            direct = torch.nn.functional.binary_cross_entropy_with_logits(logits[q], targets[t])
            assert torch.allclose(bce[q, t], direct, atol=1e-5)
            p = logits[q].sigmoid()
            assert torch.allclose(dice[q, t], 1 - (2 * (p * targets[t]).sum() + 1) / (p.sum() + targets[t].sum() + 1))


def test_criterion_prefers_the_correct_prediction_and_deep_supervises():
    good, targets = hand_made([3, 0, 4])
    wrong_masks = {"pred_logits": good["pred_logits"], "pred_masks": -good["pred_masks"]}
    good["aux_outputs"] = [dict(good), wrong_masks]
    criterion = SetCriterion(num_points=64)
    losses = criterion(good, targets, generator=torch.Generator().manual_seed(0))
    assert {"loss_ce", "loss_mask", "loss_dice", "loss_ce_0", "loss_mask_1", "loss_dice_1", "loss"} <= set(losses)
    assert losses["loss_mask"] < 0.01 and losses["loss_dice"] < 0.01 and losses["loss_ce"] < 0.05
    assert losses["loss_mask_1"] > losses["loss_mask"] + 1.0 and losses["loss_dice_1"] > losses["loss_dice"] + 0.2
    weighted = sum(criterion.weights[name.rsplit("_", 1)[0] if name[-1].isdigit() else name] * value
                   for name, value in losses.items() if name != "loss")
    assert torch.allclose(losses["loss"], weighted)


def test_no_object_weight_and_empty_targets():
    outputs, targets = hand_made([0, 1, 2])
    empty = [{"labels": torch.zeros(0, dtype=torch.long), "masks": torch.zeros(0, 1, 8, 8, dtype=torch.bool)}]
    heavy = SetCriterion(no_object_weight=1.0)(outputs, empty)
    light = SetCriterion(no_object_weight=0.1)(outputs, empty)
    assert heavy["loss_mask"] == 0 and heavy["loss_ce"] > 0
    # with only no-object targets the weighted mean is the same; the weight matters when both kinds are present
    assert torch.allclose(heavy["loss_ce"], light["loss_ce"])
    outputs["pred_logits"] = torch.randn(outputs["pred_logits"].shape, generator=torch.Generator().manual_seed(0))
    mixed_heavy = SetCriterion(no_object_weight=1.0)(outputs, targets)["loss_ce"]
    mixed_light = SetCriterion(no_object_weight=0.1)(outputs, targets)["loss_ce"]
    assert not torch.allclose(mixed_heavy, mixed_light)


def test_criterion_rejects_mismatched_targets():
    outputs, targets = hand_made([0, 1, 2])
    targets[0]["masks"] = targets[0]["masks"][..., :4]
    with pytest.raises(ValueError, match="targets\\[0\\]: masks"):
        SetCriterion()(outputs, targets)


def test_class_weights_move_the_loss_toward_the_up_weighted_class():
    """A query that gets class 2 wrong costs more when class 2 weighs more than the others; with equal weights the
    loss is what the unweighted criterion gives."""
    outputs, targets = hand_made([0, 1, 2])
    outputs["pred_logits"][0, 0, 2] = -5.0  # the query matched to GT 0 (class 2) now says class 0
    outputs["pred_logits"][0, 0, 0] = 5.0
    generator = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    plain = SetCriterion(num_points=64)(outputs, targets, generator=generator())["loss_ce"]
    ones = SetCriterion(num_points=64, class_weights=torch.ones(3))(outputs, targets, generator=generator())["loss_ce"]
    up = SetCriterion(num_points=64, class_weights=torch.tensor([1.0, 1.0, 4.0]))(outputs, targets,
                                                                                    generator=generator())["loss_ce"]
    down = SetCriterion(num_points=64, class_weights=torch.tensor([1.0, 1.0, 0.25]))(outputs, targets,
                                                                                       generator=generator())["loss_ce"]
    assert torch.allclose(plain, ones)
    assert up > plain > down


def test_class_weights_are_checked():
    outputs, targets = hand_made([0, 1, 2])
    with pytest.raises(ValueError, match="class_weights has 2 entries"):
        SetCriterion(class_weights=torch.ones(2))(outputs, targets)
    with pytest.raises(ValueError, match="finite positive"):
        SetCriterion(class_weights=torch.tensor([1.0, 0.0, 1.0]))


def test_positive_weight_cap_lifts_a_thin_mask_out_of_the_empty_mask_trap():
    """A 3-cell target in a 32 x 32 view: a query with an empty mask (logits -8 everywhere) is the cheapest match
    under plain BCE, and the loss barely pulls its cells up; with the cap the positive cells weigh up to
    negatives / positives, the cheapest match is the query whose mask touches the object, and the pull on the
    object's cells grows by the cap (the rest of the view is unchanged)."""
    from perception.odin.matcher import positive_weights, sigmoid_bce

    size = 32
    target = torch.zeros(1, 1, size, size)
    target[0, 0, 10:13, 5] = 1.0  # a fork: three cells
    flat = target.flatten(1)
    assert positive_weights(flat, 1.0).item() == 1.0
    assert positive_weights(flat, 50.0).item() == 50.0  # (1024 - 3) / 3 = 340, capped
    assert positive_weights(torch.ones(1, 8), 50.0).item() == 1.0  # never below 1

    # As a cost: BCE with pos_weight (torch's formula) per target. As a loss: the same where sigmoid(x) < t, plain
    # BCE elsewhere, so its minimum stays at sigmoid(x) = t.
    logits = torch.randn(2, size * size)
    soft = torch.rand(2, size * size) * (torch.rand(2, size * size) > 0.9)
    weights = positive_weights(soft, 20.0)
    with_pos_weight = torch.stack([torch.nn.functional.binary_cross_entropy_with_logits(
        logits[i], soft[i], pos_weight=weights[i]) for i in range(2)])
    assert torch.allclose(pairwise_sigmoid_bce(logits, soft, 20.0).diagonal(), with_pos_weight, atol=1e-5)
    short = logits.sigmoid() < soft
    direct = torch.where(short, weights, 1.0) * soft * torch.nn.functional.softplus(-logits) \
        + (1 - soft) * torch.nn.functional.softplus(logits)
    assert torch.allclose(sigmoid_bce(logits, soft, 20.0), direct.mean(1), atol=1e-5)
    assert torch.allclose(sigmoid_bce(logits, soft), torch.nn.functional.binary_cross_entropy_with_logits(
        logits, soft, reduction="none").mean(1), atol=1e-6)
    border = torch.tensor([[0.3]])
    for x in (-0.9, -0.8, -0.7):  # logit(0.3) = -0.847: the loss of a border cell rises on both sides of it
        assert sigmoid_bce(torch.tensor([[x]]), border, 50.0) > sigmoid_bce(torch.tensor([[-0.847]]), border, 50.0)

    empty = torch.full((1, size * size), -8.0)
    touching = torch.full((1, size * size), -8.0)
    touching[0, flat[0] > 0] = 0.0  # an unsure mask on the fork
    touching[0, :40] = 2.0  # and a few wrong cells elsewhere
    queries = torch.cat([empty, touching])
    plain, capped = pairwise_sigmoid_bce(queries, flat), pairwise_sigmoid_bce(queries, flat, 50.0)
    assert plain[0, 0] < plain[1, 0]  # plain BCE: the empty mask is the better match
    assert capped[1, 0] < capped[0, 0]  # capped: the one on the object

    for cap, expected in ((1.0, 1.0), (50.0, 50.0)):
        x = empty.clone().requires_grad_(True)
        sigmoid_bce(x, flat, cap).sum().backward()
        on_object = -x.grad[0, flat[0] > 0].mean()
        off_object = x.grad[0, flat[0] == 0].mean()
        if cap == 1.0:
            base_on, base_off = on_object, off_object
        else:
            assert on_object / base_on == pytest.approx(expected, rel=1e-3)
            assert off_object == pytest.approx(base_off.item())


def test_criterion_passes_the_positive_weight_cap_to_its_matcher():
    criterion = SetCriterion(num_points=64, positive_weight_cap=20.0)
    assert criterion.matcher.positive_weight_cap == 20.0
    with pytest.raises(ValueError, match="positive_weight_cap must be >= 1"):
        SetCriterion(positive_weight_cap=0.5)
    outputs, targets = hand_made([0, 1, 2])
    losses = criterion(outputs, targets, generator=torch.Generator().manual_seed(0))
    assert losses["loss_mask"] < 0.01  # perfect masks stay (nearly) free under the weighting


def test_matcher_cap_can_be_set_apart_from_the_loss_cap():
    """``matcher_positive_weight_cap`` keeps ODIN's plain matching cost while the loss weighs positives: the
    matcher gets its own cap (default: the loss's), and the loss still grows with the loss's cap."""
    assert SetCriterion(num_points=64, positive_weight_cap=20.0).matcher.positive_weight_cap == 20.0
    apart = SetCriterion(num_points=64, positive_weight_cap=20.0, matcher_positive_weight_cap=1.0)
    assert (apart.positive_weight_cap, apart.matcher.positive_weight_cap) == (20.0, 1.0)
    with pytest.raises(ValueError, match="positive_weight_cap must be >= 1"):
        SetCriterion(positive_weight_cap=3.0, matcher_positive_weight_cap=0.5)
    outputs, targets = hand_made([0, 1, 2])
    outputs["pred_masks"] = outputs["pred_masks"].clamp(-1.0, 1.0) - 0.5  # unsure masks, below target on objects
    plain = SetCriterion(num_points=64)(outputs, targets, generator=torch.Generator().manual_seed(0))
    weighted = apart(outputs, targets, generator=torch.Generator().manual_seed(0))
    assert weighted["loss_mask"] > plain["loss_mask"] * 1.5
    assert weighted["loss_dice"] == pytest.approx(plain["loss_dice"].item())  # same matching, same points
