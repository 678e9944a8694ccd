"""3D cross-view fusion (ODIN's ``CrossViewPAnet``): voxelise the unprojected features of all views of a scene, attend
over k nearest voxel neighbours with relative-position encodings, and copy the result back to the pixels.

Follows ODIN (Jain et al., CVPR 2024, arXiv 2401.02416) as its code builds it (``ayushjain1144/odin`` at 9c67a0b,
``odin/modeling/``): ``backproject.py voxelization`` / ``interpolate_feats_3d`` and ``cross_view_attention.py`` /
``self_cross_attention_layers.py``, with pointops2 and torch-scatter replaced by plain PyTorch (``knn.py``,
``index_add_``).

Voxel grid and translation. ODIN rounds ``xyz / size`` and subtracts the per-scene minimum cell, which ties the voxel
partition to the absolute world grid: shifting a scene by a vector that is not a multiple of the voxel size regroups
points. Here the per-sample minimum xyz is subtracted *before* rounding (computed in float64), so the partition of
points into voxels - and with it every relative offset the attention sees - is the same for any global translation
(up to rounding of points lying exactly on a cell boundary). The absolute decoder PE is deliberately not invariant.

Depth validity. Pixels marked invalid are left out of voxelisation, k-NN and attention; their features pass through
unchanged (ODIN instead unprojects depth 0 to the camera centre, lumping such pixels together).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from .knn_search import PAD_DISTANCE, knn
from .position_encoding import RelativePositionMLP

_ATTENTION_CHUNK = 1024  # voxels per chunk of k-NN attention


def segment_mean(values: torch.Tensor, segment: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Mean of ``values`` rows per ``segment`` id (torch-scatter ``scatter_mean``); empty segments give 0."""
    total = values.new_zeros((num_segments,) + values.shape[1:]).index_add(0, segment, values)
    count = torch.zeros(num_segments, device=values.device, dtype=values.dtype)
    count = count.index_add(0, segment, torch.ones_like(segment, dtype=values.dtype)).clamp_min(1.0)
    return total / count.view((-1,) + (1,) * (values.dim() - 1))


@dataclass
class Voxels:
    """Point-to-voxel map of one voxelisation over all views of every sample (voxels sorted by sample)."""

    point_to_voxel: torch.Tensor  # (N,) long
    xyz: torch.Tensor  # (M, 3) mean of the member points
    batch: torch.Tensor  # (M,) sample id of each voxel
    num_samples: int

    @property
    def count(self) -> int:
        return self.xyz.shape[0]


def voxelize(xyz: torch.Tensor, batch: torch.Tensor, voxel_size: float, num_samples: int) -> Voxels:
    """Group points (N, 3) of each sample into cubic voxels of edge ``voxel_size`` (metres).

    Cells are ``round((xyz - min_of_sample) / voxel_size)`` (see the module note on translation); the linear hash
    puts the sample id first, so voxels come out grouped by sample.
    """
    if voxel_size <= 0:
        raise ValueError(f"voxelize: voxel_size must be positive, got {voxel_size}")
    if xyz.shape[0] == 0:
        empty = xyz.new_zeros((0, 3))
        return Voxels(batch.new_zeros(0), empty, batch.new_zeros(0), num_samples)
    xyz64 = xyz.detach().double()
    origin = torch.full((num_samples, 3), float("inf"), dtype=torch.float64, device=xyz.device)
    origin.scatter_reduce_(0, batch[:, None].expand(-1, 3), xyz64, reduce="amin", include_self=True)
    cells = torch.round((xyz64 - origin[batch]) / voxel_size).long()
    dims = (cells.max(0).values + 1).tolist()
    keys = ((batch * dims[0] + cells[:, 0]) * dims[1] + cells[:, 1]) * dims[2] + cells[:, 2]
    unique_keys, point_to_voxel = torch.unique(keys, return_inverse=True)
    voxel_xyz = segment_mean(xyz, point_to_voxel, unique_keys.numel())
    voxel_batch = torch.zeros(unique_keys.numel(), dtype=torch.long, device=xyz.device)
    voxel_batch[point_to_voxel] = batch
    return Voxels(point_to_voxel, voxel_xyz, voxel_batch, num_samples)


def inverse_distance_weights(distance: torch.Tensor) -> torch.Tensor:
    """pointops2 ``interpolation`` weights: 1 / (d + 1e-8), normalised over the k neighbours (padding gets 0)."""
    weights = (1.0 / (distance + 1e-8)) * (distance < PAD_DISTANCE * 0.5)
    return weights / weights.sum(1, keepdim=True).clamp_min(1e-12)


def knn_interpolate(source_values: torch.Tensor, neighbour_index: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted sum of source rows (Ns, ...) over each target's neighbours (Nt, k) -> (Nt, ...).

    Padding neighbours (index -1 when a sample has no source point) carry weight 0 and read row 0.
    """
    if source_values.shape[0] == 0:
        return source_values.new_zeros((neighbour_index.shape[0],) + source_values.shape[1:])
    gathered = source_values[neighbour_index.clamp_min(0)]  # (Nt, k, ...)
    return (gathered * weights.view(weights.shape + (1,) * (gathered.dim() - 2))).sum(1)


@dataclass
class LevelGeometry:
    """Where the pixels of one feature level sit in 3D: valid mask, per-pixel xyz, voxels, cached neighbours."""

    valid: torch.Tensor  # (B*V, h, w) bool
    point_xyz: torch.Tensor  # (N, 3) xyz of the valid pixels, in (view, row, column) order
    point_batch: torch.Tensor  # (N,) sample id of each valid pixel
    voxels: Voxels
    k: int
    _neighbours: tuple[torch.Tensor, torch.Tensor] | None = field(default=None, repr=False)

    def neighbours(self) -> tuple[torch.Tensor, torch.Tensor]:
        """k-NN among this level's voxel centroids (self included, ascending), computed once."""
        if self._neighbours is None:
            self._neighbours = knn(self.voxels.xyz, self.voxels.batch, self.voxels.xyz, self.voxels.batch, self.k)
        return self._neighbours

    def pixels_to_voxels(self, features: torch.Tensor) -> torch.Tensor:
        """(B*V, C, h, w) -> (M, C) voxel means over the valid pixels."""
        points = features.permute(0, 2, 3, 1)[self.valid]
        return segment_mean(points, self.voxels.point_to_voxel, self.voxels.count)

    def voxels_to_pixels(self, voxel_features: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
        """Each valid pixel copies its voxel's row; invalid pixels keep ``fallback`` (B*V, C, h, w)."""
        channels_last = fallback.permute(0, 2, 3, 1)
        flat = channels_last.reshape(-1, channels_last.shape[-1])
        valid_rows = torch.nonzero(self.valid.reshape(-1)).squeeze(1)
        flat = flat.index_put((valid_rows,), voxel_features[self.voxels.point_to_voxel])
        return flat.view(channels_last.shape).permute(0, 3, 1, 2)


class SceneGeometry:
    """Per-level geometry of a batch of multi-view scenes, built from full-resolution world xyz maps.

    ``xyz`` (B, V, H, W, 3) in the zup world frame and ``valid`` (B, V, H, W) bool; the xyz and validity of a level of
    stride s are the nearest samples ``[::s, ::s]`` (ODIN ``interpolate_depth``, nearest mode).
    """

    def __init__(self, xyz: torch.Tensor, valid: torch.Tensor, voxel_sizes: dict[str, float],
                 strides: dict[str, int], k: int):
        self.num_samples, self.num_views = xyz.shape[:2]
        self.k = k
        self.levels: dict[str, LevelGeometry] = {}
        flat_xyz = xyz.flatten(0, 1)
        flat_valid = valid.flatten(0, 1)
        view_sample = torch.arange(self.num_samples, device=xyz.device).repeat_interleave(self.num_views)
        for name, stride in strides.items():
            level_xyz = flat_xyz[:, ::stride, ::stride]
            level_valid = flat_valid[:, ::stride, ::stride]
            points = level_xyz[level_valid]
            point_batch = view_sample[:, None, None].expand_as(level_valid)[level_valid]
            voxels = voxelize(points, point_batch, voxel_sizes[name], self.num_samples)
            self.levels[name] = LevelGeometry(level_valid, points, point_batch, voxels, k)
        self._interpolations: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}

    def __getitem__(self, name: str) -> LevelGeometry:
        return self.levels[name]

    def interpolation(self, source: str, target: str, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Neighbour indices (into ``source`` voxels) and inverse-distance weights for each ``target`` voxel."""
        key = (source, target)
        if key not in self._interpolations:
            src, dst = self.levels[source].voxels, self.levels[target].voxels
            index, distance = knn(dst.xyz, dst.batch, src.xyz, src.batch, k)
            self._interpolations[key] = (index, inverse_distance_weights(distance))
        return self._interpolations[key]


class KnnAttentionLayer(nn.Module):
    """One ODIN 3D layer: pre-norm cross-attention of each voxel over its k neighbours, pre-norm FFN, final LayerNorm.

    Query = LN(x) + PE(0); keys = neighbour features + PE(neighbour xyz - query xyz); values = neighbour features
    (neighbours are not normalised), as ``self_cross_attention_layers.py``; dropout 0; Xavier initialisation.
    """

    def __init__(self, dim: int, heads: int, ffn_dim: int):
        super().__init__()
        self.heads = heads
        self.norm_attention = nn.LayerNorm(dim)
        self.query_proj = nn.Linear(dim, dim)
        self.key_proj = nn.Linear(dim, dim)
        self.value_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)
        self.norm_ffn = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.ReLU(inplace=True), nn.Linear(ffn_dim, dim))
        self.norm_out = nn.LayerNorm(dim)
        for parameter in self.parameters():
            if parameter.dim() > 1:
                nn.init.xavier_uniform_(parameter)

    def forward(self, x: torch.Tensor, neighbour_index: torch.Tensor, relative_xyz: torch.Tensor,
                position: RelativePositionMLP, query_position: torch.Tensor,
                neighbour_valid: torch.Tensor) -> torch.Tensor:
        """x (M, C) voxel features; neighbour_index (M, k); relative_xyz (M, k, 3) neighbour minus query xyz;
        ``position`` the block's relative-PE MLP; query_position (C,) = PE(0); neighbour_valid (M, k) bool."""
        # key_proj(x_j + PE) = key_proj(x)_j + (W_k W_pe) h + W_k b_pe: project the M voxels before gathering their
        # k neighbours, and fold the PE's last Linear into the key projection (the M*k-row products dominate).
        folded_weight = self.key_proj.weight @ position.output.weight
        folded_bias = self.key_proj.weight @ position.output.bias
        keys, values = self.key_proj(x), self.value_proj(x)
        # Everything after the key/value projections is per voxel, so voxels go through in chunks that keep the
        # (rows, k, C) temporaries in cache: time then grows linearly with M instead of degrading past the cache.
        outputs = []
        for start in range(0, neighbour_index.shape[0], _ATTENTION_CHUNK):
            rows = slice(start, start + _ATTENTION_CHUNK)
            key_position = nn.functional.linear(position.hidden(relative_xyz[rows]), folded_weight, folded_bias)
            query = self.query_proj(self.norm_attention(x[rows]) + query_position)
            attended = self._attend(query, keys, values, neighbour_index[rows], key_position, neighbour_valid[rows])
            out = x[rows] + self.out_proj(attended)
            out = out + self.ffn(self.norm_ffn(out))
            outputs.append(self.norm_out(out))
        return torch.cat(outputs) if outputs else x

    def _attend(self, query, keys, values, neighbour_index, key_position, neighbour_valid):
        count, k = neighbour_index.shape
        head_dim = query.shape[1] // self.heads
        query = query.view(count, self.heads, head_dim)
        key = (keys[neighbour_index] + key_position).view(count, k, self.heads, head_dim)
        value = values[neighbour_index].view(count, k, self.heads, head_dim)
        logits = torch.einsum("mhd,mkhd->mkh", query, key) / math.sqrt(head_dim)
        logits = logits.masked_fill(~neighbour_valid[:, :, None], float("-inf"))
        attention = logits.softmax(dim=1)
        return torch.einsum("mkh,mkhd->mhd", attention, value).reshape(count, -1)


class CrossViewFusion(nn.Module):
    """ODIN ``CrossViewPAnet``: voxelise (B*V, C, h, w) features, run k-NN attention layers, scatter back to pixels.

    The k-NN is computed once per call; keys are re-gathered from the updated voxel features at every layer. One
    relative-position MLP per block, shared by its layers.
    """

    def __init__(self, dim: int, num_layers: int, heads: int, ffn_dim: int):
        super().__init__()
        self.position = RelativePositionMLP(dim)
        self.layers = nn.ModuleList(KnnAttentionLayer(dim, heads, ffn_dim) for _ in range(num_layers))

    def fuse_voxels(self, voxel_features: torch.Tensor, voxel_xyz: torch.Tensor, neighbour_index: torch.Tensor,
                    neighbour_distance: torch.Tensor) -> torch.Tensor:
        """The attention stack on voxel rows (M, C) with their centroids (M, 3) and k-NN (M, k)."""
        if voxel_features.shape[0] == 0:
            return voxel_features
        relative_xyz = voxel_xyz[neighbour_index] - voxel_xyz[:, None, :]
        query_position = self.position(voxel_xyz.new_zeros(1, 3))
        neighbour_valid = neighbour_distance < PAD_DISTANCE * 0.5
        for layer in self.layers:
            voxel_features = layer(voxel_features, neighbour_index, relative_xyz, self.position, query_position,
                                   neighbour_valid)
        return voxel_features

    def forward(self, features: torch.Tensor, level: LevelGeometry) -> torch.Tensor:
        voxel_features = level.pixels_to_voxels(features)
        index, distance = level.neighbours()
        fused = self.fuse_voxels(voxel_features, level.voxels.xyz, index, distance)
        return level.voxels_to_pixels(fused, features)
