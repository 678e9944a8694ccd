"""One weight-decay rule: ``Odin.parameter_groups`` puts every trainable parameter in exactly one AdamW group (no decay
on norms, biases and embeddings; decay on every other weight), and ``perception.train`` builds its optimiser from it."""

import pytest
import torch

from perception import train
from perception.odin import CONFIGS, Odin
from perception.odin.text_head import TextEmbedder
from tests.test_perception_train import write_box_dataset


@pytest.fixture(scope="module")
def tiny_model():
    return Odin(CONFIGS["tiny"], TextEmbedder("minilm"))


def group_of(groups, parameter):
    found = [g for g in groups if any(p is parameter for p in g["params"])]
    assert len(found) == 1, f"parameter in {len(found)} groups"
    return found[0]


def test_every_trainable_parameter_is_in_exactly_one_group(tiny_model):
    groups = tiny_model.parameter_groups(lr=1e-4, weight_decay=0.05)
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for p in tiny_model.parameters()}
    assert {g["weight_decay"] for g in groups} == {0.0, 0.05}
    assert len({g["name"] for g in groups}) == len(groups)


def test_named_parameters_land_in_the_right_group(tiny_model):
    model = tiny_model
    groups = model.parameter_groups(lr=1e-4, weight_decay=0.05)
    no_decay = {
        "decoder norm weight (LayerNorm)": model.decoder.decoder_norm.weight,
        "backbone GroupNorm weight": model.backbone.stem[0][1].weight,
        "input projection GroupNorm bias": model.input_proj["res3"][1].bias,
        "mask-embedding Linear bias": model.decoder.mask_embed.layers[0].bias,
        "attention in_proj_bias": model.decoder.layers[0].self_attention.in_proj_bias,
        "query embedding": model.decoder.query_embed.weight,
        "query features": model.decoder.query_feat.weight,
        "decoder level embedding (nn.Embedding)": model.decoder.level_embed.weight,
        "deformable level embedding (nn.Parameter)": model.deformable.level_embed,
        "3D position MLP norm weight": model.position3d.norm_weight,
        "class-head logit temperature": model.decoder.class_head.log_scale,
    }
    decay = {
        "class-head query projection weight": model.decoder.class_head.query_proj.weight,
        "3D fusion query projection weight": model.backbone_fusion["res3"].fusion.layers[0].query_proj.weight,
        "mask-embedding Linear weight": model.decoder.mask_embed.layers[0].weight,
        "backbone stem conv weight": model.backbone.stem[0][0].weight,
        "mask-feature conv weight": model.mask_features.weight,
        "attention in_proj_weight": model.decoder.layers[0].self_attention.in_proj_weight,
    }
    assert isinstance(model.backbone.stem[0][0], torch.nn.Conv2d)
    assert isinstance(model.backbone.stem[0][1], torch.nn.GroupNorm)
    for label, parameter in no_decay.items():
        assert group_of(groups, parameter)["weight_decay"] == 0.0, label
    for label, parameter in decay.items():
        assert group_of(groups, parameter)["weight_decay"] == 0.05, label
    # Learning rates: the backbone at the multiplier, its 3D fusion blocks (outside ``backbone.``) at full rate.
    assert group_of(groups, model.backbone.stem[0][0].weight)["lr"] == pytest.approx(1e-5)
    assert group_of(groups, model.backbone_fusion["res3"].fusion.layers[0].query_proj.weight)["lr"] == \
        pytest.approx(1e-4)


def test_frozen_parameters_are_left_out():
    model = Odin(CONFIGS["tiny"], TextEmbedder("minilm"))
    for parameter in model.backbone.parameters():
        parameter.requires_grad_(False)
    ids = {id(p) for g in model.parameter_groups() for p in g["params"]}
    assert ids == {id(p) for p in model.parameters() if p.requires_grad}


class _Built(Exception):
    pass


def test_train_builds_its_optimiser_from_odin_parameter_groups(tmp_path, monkeypatch):
    data = write_box_dataset(tmp_path / "data")
    built = {}
    real_build = train.build_optimizer

    def spy(model, config):
        built["model"], built["config"] = model, config
        built["optimizer"] = real_build(model, config)
        raise _Built  # stop before the first training step: only the optimiser is under test

    monkeypatch.setattr(train, "build_optimizer", spy)
    args = train.parse_args(["--config", "tiny", "--data", str(data), "--out", str(tmp_path / "run"),
                             "--max-steps", "1", "--resolution", "64", "--views", "2", "--threads", "1"])
    with pytest.raises(_Built):
        train.run(args)
    model, config, optimizer = built["model"], built["config"], built["optimizer"]
    expected = model.parameter_groups(lr=config.lr, weight_decay=config.weight_decay,
                                      backbone_lr_multiplier=config.backbone_lr_mult)
    assert [g["name"] for g in optimizer.param_groups] == [g["name"] for g in expected]
    for got, want in zip(optimizer.param_groups, expected):
        assert [id(p) for p in got["params"]] == [id(p) for p in want["params"]]
        assert got["weight_decay"] == want["weight_decay"] and got["lr"] == want["lr"] == got["base_lr"]
    query_proj = model.decoder.class_head.query_proj.weight
    assert group_of(optimizer.param_groups, query_proj)["weight_decay"] == config.weight_decay > 0
