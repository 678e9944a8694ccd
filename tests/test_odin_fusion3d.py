"""ODIN's 3D fusion: voxelisation, k-NN attention against a naive loop, translation invariance, interpolation."""

import math

import pytest
import torch

from perception.odin.fusion3d import (CrossViewFusion, SceneGeometry, inverse_distance_weights, knn_interpolate,
                                      voxelize)
from perception.odin.knn_search import knn_brute_force


def test_voxelize_groups_points_and_averages():
    xyz = torch.tensor([[0.0, 0.0, 0.0], [0.01, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    batch = torch.tensor([0, 0, 0, 1])
    voxels = voxelize(xyz, batch, 0.1, 2)
    assert voxels.count == 3  # the two close points share a voxel; sample 1's point is its own voxel
    p2v = voxels.point_to_voxel
    assert p2v[0] == p2v[1] and p2v[0] != p2v[2] and p2v[3] != p2v[0]
    assert torch.allclose(voxels.xyz[p2v[0]], torch.tensor([0.005, 0.0, 0.0]))
    assert voxels.batch.tolist() == sorted(voxels.batch.tolist())


def naive_fusion(module, features, xyz, index):
    """Per-voxel loop through the same parameters: the reference for the batched k-NN attention."""
    out = features.clone()
    for layer in module.layers:
        rows = []
        for i in range(features.shape[0]):
            nb = out[index[i]]
            pos = module.position(xyz[index[i]] - xyz[i])
            q = layer.query_proj(layer.norm_attention(out[i]) + module.position(torch.zeros(3)))
            key, val = layer.key_proj(nb + pos), layer.value_proj(nb)
            heads, dim = layer.heads, q.shape[0] // layer.heads
            att = torch.stack([torch.softmax(key[:, h * dim:(h + 1) * dim] @ q[h * dim:(h + 1) * dim] / math.sqrt(dim), 0)
                               for h in range(heads)])
            mixed = torch.cat([att[h] @ val[:, h * dim:(h + 1) * dim] for h in range(heads)])
            x = out[i] + layer.out_proj(mixed)
            x = x + layer.ffn(layer.norm_ffn(x))
            rows.append(layer.norm_out(x))
        out = torch.stack(rows)
    return out


def test_knn_attention_matches_naive_loop():
    torch.manual_seed(0)
    module = CrossViewFusion(dim=16, num_layers=2, heads=4, ffn_dim=32).eval()
    xyz = torch.rand(60, 3)
    batch = torch.zeros(60, dtype=torch.long)
    features = torch.randn(60, 16)
    index, distance = knn_brute_force(xyz, batch, xyz, batch, 8)
    with torch.no_grad():
        fast = module.fuse_voxels(features, xyz, index, distance)
        slow = naive_fusion(module, features, xyz, index)
    assert torch.allclose(fast, slow, atol=1e-5)


def scene(seed=0, views=2, size=16):
    g = torch.Generator().manual_seed(seed)
    xyz = torch.rand(1, views, size, size, 3, generator=g) * torch.tensor([2.0, 2.0, 1.0])
    valid = torch.rand(1, views, size, size, generator=g) > 0.1
    features = torch.randn(views, 16, size // 2, size // 2, generator=g)
    return xyz, valid, features


def fuse(module, xyz, valid, features):
    geometry = SceneGeometry(xyz, valid, {"res3": 0.2}, {"res3": 2}, k=8)
    return module(features, geometry["res3"]), geometry


@pytest.mark.parametrize("shift", [(0.0, 0.0, 0.0), (12.3456, -7.891, 3.21), (0.07, 0.013, -0.051)])
def test_fusion_is_invariant_to_global_translation(shift):
    torch.manual_seed(0)
    module = CrossViewFusion(dim=16, num_layers=2, heads=4, ffn_dim=32).eval()
    xyz, valid, features = scene()
    with torch.no_grad():
        base, geometry = fuse(module, xyz, valid, features)
        moved, moved_geometry = fuse(module, xyz + torch.tensor(shift), valid, features)
    assert torch.equal(geometry["res3"].voxels.point_to_voxel, moved_geometry["res3"].voxels.point_to_voxel)
    assert torch.allclose(base, moved, atol=1e-4)
    assert not torch.allclose(base, features, atol=1e-3)  # the fusion did change the features


def test_fusion_mixes_views_and_keeps_invalid_pixels():
    torch.manual_seed(0)
    module = CrossViewFusion(dim=16, num_layers=1, heads=4, ffn_dim=32).eval()
    xyz, valid, features = scene()
    with torch.no_grad():
        base, geometry = fuse(module, xyz, valid, features)
        changed = features.clone()
        changed[1] += 1.0  # only the second view's features move
        after, _ = fuse(module, xyz, valid, changed)
    level_valid = geometry["res3"].valid
    assert torch.equal(after[~level_valid[:, None].expand_as(after)], changed[~level_valid[:, None].expand_as(after)])
    first_view = level_valid[0]
    assert not torch.allclose(after[0][:, first_view], base[0][:, first_view])  # view 0 sees view 1 through 3D


def test_knn_interpolation_reproduces_linear_field():
    torch.manual_seed(0)
    source = torch.rand(400, 3)
    target = torch.rand(50, 3) * 0.6 + 0.2
    batch_s, batch_t = torch.zeros(400, dtype=torch.long), torch.zeros(50, dtype=torch.long)
    index, distance = knn_brute_force(target, batch_t, source, batch_s, 8)
    weights = inverse_distance_weights(distance)
    assert torch.allclose(weights.sum(1), torch.ones(50))
    field = source @ torch.tensor([1.0, -2.0, 0.5])
    estimate = knn_interpolate(field[:, None], index, weights).squeeze(1)
    assert (estimate - target @ torch.tensor([1.0, -2.0, 0.5])).abs().mean() < 0.1
    exact = knn_interpolate(field[:, None], *[t[:, :1] for t in (index, torch.ones(50, 1))]).squeeze(1)
    assert torch.allclose(exact, field[index[:, 0]])
