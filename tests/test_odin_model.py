"""The ODIN model end to end on the tiny config: shapes in 2D and 3D, one set of weights for both, predictions,
a few optimisation steps on one synthetic scene, checkpoints and input errors."""

import json
import math

import pytest
import torch

from perception.odin import (CONFIGS, CheckpointError, Odin, SetCriterion, TextEmbedder, ViewFeatures,
                             load_checkpoint, masks_at_prediction_stride, save_checkpoint)
from perception.odin.checkpoint import checksum_path_for, file_sha256, training_settings

NAMES = ["Mug", "CounterTop", "Apple"]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    # The real all-MiniLM-L6-v2; loaded once per process by TextEmbedder's registry.
    return TextEmbedder("minilm", cache_dir=tmp_path_factory.mktemp("text_cache"))


@pytest.fixture(scope="module")
def model(embedder):
    torch.manual_seed(0)
    return Odin(CONFIGS["tiny"], embedder).eval()


def synthetic_scene(views=2, height=64, width=48, seed=0):
    """Two views of a floor (z = 0) with a box on it; the box pixels are instance 0 ('Mug'), the floor instance 1."""
    g = torch.Generator().manual_seed(seed)
    rows = torch.arange(height, dtype=torch.float32)[:, None].expand(height, width)
    cols = torch.arange(width, dtype=torch.float32)[None, :].expand(height, width)
    xyz, images, box = [], [], []
    for view in range(views):
        x = cols * 0.03 + view * 0.3
        y = rows * 0.03
        inside = (rows > height * 0.3) & (rows < height * 0.7) & (cols > width * 0.3 - view * 3) & (cols < width * 0.7)
        z = torch.where(inside, torch.full_like(x, 0.4), torch.zeros_like(x))
        xyz.append(torch.stack([x, y, z], -1))
        image = torch.rand(3, height, width, generator=g) * 0.2 + 0.1
        image[0][inside] = 0.9
        images.append(image)
        box.append(inside)
    return torch.stack(images)[None], torch.stack(xyz)[None], torch.stack(box)[None]


def test_shapes_2d_and_3d_with_the_same_weights(model):
    images, xyz, _ = synthetic_scene()
    config = model.config
    with torch.no_grad():
        out2d = model(images, NAMES)
        out3d = model(images, NAMES, xyz)
    for out in (out2d, out3d):
        assert out["pred_logits"].shape == (1, config.num_queries, len(NAMES) + 1)
        assert out["pred_masks"].shape == (1, config.num_queries, 2, 16, 12)
        assert len(out["aux_outputs"]) == config.decoder_layers
        assert all(a["pred_masks"].shape == out["pred_masks"].shape for a in out["aux_outputs"])
        assert torch.isfinite(out["pred_masks"]).all() and torch.isfinite(out["pred_logits"]).all()
    assert not torch.allclose(out2d["pred_masks"], out3d["pred_masks"])  # 3D fusion changes the answer


def test_non_multiple_of_32_input_and_vocabulary_size(model):
    images = torch.rand(2, 1, 3, 45, 70)
    with torch.no_grad():
        out = model(images, NAMES + ["Fridge", "Toaster"])
    assert out["pred_logits"].shape == (2, model.config.num_queries, 6)
    assert out["pred_masks"].shape == (2, model.config.num_queries, 1, math.ceil(45 / 4), math.ceil(70 / 4))


def test_3d_masks_agree_across_views_of_one_voxel(model):
    images, xyz, _ = synthetic_scene()
    xyz[0, 1] = xyz[0, 0]  # the second view sees exactly the same points as the first
    with torch.no_grad():
        masks = model(images, NAMES, xyz)["pred_masks"]
    assert torch.allclose(masks[:, :, 0], masks[:, :, 1], atol=1e-5)


def test_cached_per_view_features_give_the_same_answer_as_a_full_forward(model):
    """The provider encodes each view once and re-fuses a window of cached views: same outputs as one forward."""
    images, xyz, _ = synthetic_scene(views=3, height=45, width=70)
    assert model.per_view_levels == ("res2", "res3")  # the tiny config fuses from res3 on
    with torch.no_grad():
        full = model(images, NAMES, xyz)
        per_view = [model.encode_views(images[:, i:i + 1]) for i in range(3)]
        cached = model(images, NAMES, xyz, encoded=ViewFeatures.cat(per_view))
        # a window that drops the oldest view and reuses the others' cached features
        window = model(images[:, 1:], NAMES, xyz[:, 1:], encoded=ViewFeatures.cat(per_view[1:]))
        window_full = model(images[:, 1:], NAMES, xyz[:, 1:])
        flat_2d = model(images[:, :1], NAMES, encoded=per_view[0])
        plain_2d = model(images[:, :1], NAMES)
    for a, b in ((full, cached), (window_full, window), (plain_2d, flat_2d)):
        assert torch.allclose(a["pred_masks"], b["pred_masks"], atol=1e-4)
        assert torch.allclose(a["pred_logits"], b["pred_logits"], atol=1e-4)
    assert ViewFeatures.cat(per_view).view(-1).maps["res3"].shape == per_view[2].maps["res3"].shape
    with pytest.raises(ValueError, match="do not match"):
        model(images, NAMES, xyz, encoded=ViewFeatures.cat(per_view[:2]))


def test_invalid_depth_pixels_still_get_masks(model):
    images, xyz, _ = synthetic_scene()
    valid = torch.ones(xyz.shape[:-1], dtype=torch.bool)
    valid[0, 0, :32] = False
    with torch.no_grad():
        out = model(images, NAMES, xyz, valid)
    assert torch.isfinite(out["pred_masks"]).all()


def test_predict_returns_ranked_instances_at_input_resolution(model):
    images, xyz, _ = synthetic_scene()
    results = model.predict(images, NAMES, xyz, top_k=5)
    assert len(results) == 1
    result = results[0]
    assert result["masks"].shape == (5, 2, 64, 48) and result["masks"].dtype == torch.bool
    assert result["labels"].max() < len(NAMES)
    assert result["class_names"] == [NAMES[i] for i in result["labels"].tolist()]
    assert torch.all(result["scores"][:-1] >= 0) and torch.all(result["scores"] <= 1)


def test_training_steps_lower_the_loss(embedder):
    torch.manual_seed(0)
    config = CONFIGS["tiny"]
    model = Odin(config, embedder)
    criterion = SetCriterion.from_config(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
    images, xyz, box = synthetic_scene()
    full_masks = torch.stack([box[0], ~box[0]])
    targets = [{"labels": torch.tensor([0, 1]), "masks": masks_at_prediction_stride(full_masks)}]
    generator = torch.Generator().manual_seed(0)
    losses = []
    for step in range(12):
        outputs = model(images, NAMES, xyz if step % 2 == 0 else None)  # alternate 3D and 2D, as joint training
        loss = criterion(outputs, targets, generator=generator)["loss"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert sum(losses[-4:]) < 0.8 * sum(losses[:4])


def test_checkpoint_round_trip(model, embedder, tmp_path):
    path = save_checkpoint(model, tmp_path / "odin_tiny.safetensors")
    assert (tmp_path / "odin_tiny.json").exists()
    loaded = load_checkpoint(path, "cpu", embedder).eval()
    assert loaded.config == model.config
    images, xyz, _ = synthetic_scene()
    with torch.no_grad():
        assert torch.equal(model(images, NAMES, xyz)["pred_masks"], loaded(images, NAMES, xyz)["pred_masks"])


@pytest.mark.filterwarnings("ignore:.*integrity is not checked")  # hand-made files, no hash beside them
def test_corrupt_or_mismatched_checkpoint_names_the_file(model, embedder, tmp_path):
    path = save_checkpoint(model, tmp_path / "odin.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(path.read_bytes()[:200])
    (tmp_path / "corrupt.json").write_text((tmp_path / "odin.json").read_text())
    with pytest.raises(CheckpointError, match="corrupt.safetensors"):
        load_checkpoint(corrupt, "cpu", embedder)
    mismatched = tmp_path / "mismatch.safetensors"
    mismatched.write_bytes(path.read_bytes())
    CONFIGS["tiny"].replace(hidden_dim=64).to_json(tmp_path / "mismatch.json")
    with pytest.raises(CheckpointError, match="mismatch.safetensors.*wrong shape"):
        load_checkpoint(mismatched, "cpu", embedder)
    (tmp_path / "broken.safetensors").write_bytes(path.read_bytes())
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="broken.json"):
        load_checkpoint(tmp_path / "broken.safetensors", "cpu", embedder)


def test_stored_hash_catches_damaged_weights(model, embedder, tmp_path):
    """Zeroing the last 4 KB of the tensors keeps a valid safetensors file; only the stored SHA-256 notices."""
    path = save_checkpoint(model, tmp_path / "odin.safetensors")
    assert checksum_path_for(path).read_text().strip() == file_sha256(path)
    data = bytearray(path.read_bytes())
    data[-4096:] = bytes(4096)
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="odin.safetensors: its SHA-256 .* differs from odin.sha256"):
        load_checkpoint(path, "cpu", embedder)
    checksum_path_for(path).unlink()
    with pytest.warns(UserWarning, match="no odin.sha256"):
        load_checkpoint(path, "cpu", embedder)


@pytest.mark.parametrize("recipe, complaint", [
    ([{"train": {"resolution": 128}}], "expected a JSON object with a 'train' object, got list"),
    ({"train": {"resolution": 0}}, "train.resolution must be an integer >= 32, got 0"),
    ({"train": {"resolution": "128"}}, "train.resolution must be an integer >= 32"),
    ({"train": {"use_3d": "yes"}}, "train.use_3d must be true or false"),
])
def test_bad_training_recipe_names_the_file(tmp_path, recipe, complaint):
    weights = tmp_path / "odin.safetensors"
    recipe_file = tmp_path / "odin.train.json"
    recipe_file.write_text(json.dumps(recipe))
    with pytest.raises(CheckpointError) as caught:
        training_settings(weights)
    assert str(caught.value).startswith(f"{recipe_file}: ") and complaint in str(caught.value)


def test_bad_inputs_get_clear_errors(model):
    images, xyz, _ = synthetic_scene()
    with pytest.raises(ValueError, match="images"):
        model(images[0], NAMES)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model(images * 255, NAMES)
    with pytest.raises(ValueError, match="xyz"):
        model(images, NAMES, xyz[..., :2])
    with pytest.raises(ValueError, match="class_names"):
        model(images, "Mug")
    with pytest.raises(ValueError, match="valid"):
        model(images, NAMES, xyz, torch.ones(xyz.shape[:-1]))


def test_scene_with_almost_no_valid_depth(model):
    images, xyz, _ = synthetic_scene()
    images = torch.cat([images, images])
    xyz = torch.cat([xyz, xyz])
    valid = torch.ones(xyz.shape[:-1], dtype=torch.bool)
    valid[1] = False
    valid[1, 0, 5, 6] = True  # one valid pixel, off the stride-8/16/32 grids: sample 1 has res2 points only
    with torch.no_grad():
        out = model(images, NAMES, xyz, valid)
        alone = model(images[:1], NAMES, xyz[:1], valid[:1])
    assert torch.isfinite(out["pred_masks"]).all()
    assert torch.allclose(out["pred_masks"][:1], alone["pred_masks"], atol=1e-4)  # samples do not leak


def test_mask_pooled_class_evidence_starts_silent_then_trains(model, embedder, tmp_path):
    """``mask_pooled_class``: a model grown from a checkpoint without it (perception.train.init_weights_from) gives
    the checkpoint's outputs in 2D and 3D; after a step the pooled res2 features move the class logits, the masks'
    gradients do not flow through the pooling weights (they are detached), and padded voxels are left out."""
    from perception import train

    path = tmp_path / "plain.safetensors"
    save_checkpoint(model, path)
    pooled = Odin(CONFIGS["tiny"].replace(name="tiny_pooled", mask_pooled_class=True), embedder).eval()
    assert train.init_weights_from(pooled, path) == len(model.state_dict())
    images, xyz, box = synthetic_scene()
    with torch.no_grad():
        for points in (xyz, None):
            a, b = model(images, NAMES, points), pooled(images, NAMES, points)
            assert torch.allclose(a["pred_logits"], b["pred_logits"], atol=1e-5)
            assert torch.allclose(a["pred_masks"], b["pred_masks"], atol=1e-5)

    pooled.train()
    criterion = SetCriterion.from_config(pooled.config)
    targets = [{"labels": torch.tensor([0, 1]), "masks": masks_at_prediction_stride(torch.stack([box[0], ~box[0]]))}]
    loss = criterion(pooled(images, NAMES, xyz), targets, generator=torch.Generator().manual_seed(0))["loss"]
    loss.backward()
    last = pooled.decoder.class_pool[1]
    assert float(last.weight.grad.abs().sum()) > 0.0
    with torch.no_grad():
        last.weight.add_(0.05 * torch.randn_like(last.weight))
        pooled.eval()
        moved = pooled(images, NAMES, None)
        plain = model(images, NAMES, None)
    assert not torch.allclose(moved["pred_logits"], plain["pred_logits"], atol=1e-4)
    assert torch.allclose(moved["pred_masks"], plain["pred_masks"], atol=1e-5)  # only the class head changed
    with pytest.raises(KeyError):  # a config without the option has no such module in its checkpoint
        model.state_dict()["decoder.class_pool.1.weight"]


def test_mask_pooling_averages_features_under_the_soft_mask():
    from perception.odin.decoder import PixelMaskReadout

    features = torch.zeros(1, 2, 2, 2)  # one view, 2 channels, 2 x 2 pixels
    features[0, 0, 0, 0], features[0, 1, 1, 1] = 4.0, 8.0
    readout = PixelMaskReadout(features, 1, [(1, 1)])
    state = torch.full((1, 2, 1, 2, 2), -30.0)
    state[0, 0, 0, 0, 0] = 30.0  # query 0: the top-left pixel only
    state[0, 1, 0, :, :] = 30.0  # query 1: every pixel
    pooled = readout.pool(state)
    assert torch.allclose(pooled[0, 0], torch.tensor([4.0, 0.0]), atol=1e-4)
    assert torch.allclose(pooled[0, 1], torch.tensor([1.0, 2.0]), atol=1e-4)
