"""Within-view fusion: Deformable-DETR multi-scale deformable attention encoder over res3..res5, in plain PyTorch.

Follows Zhu et al., "Deformable DETR" (ICLR 2021) as Mask2Former's ``MSDeformAttnPixelDecoder`` uses it (and ODIN keeps
it: 3 levels, post-norm layers, level embeddings plus 2D sine PE, no padding mask). The CUDA kernel is replaced by its
exact ``grid_sample`` form (``ms_deform_attn_core_pytorch``: bilinear, ``align_corners=False``, zero padding,
grid = 2 * location - 1). Views are independent here: the batch is B*V.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .position_encoding import sine_position_encoding_2d


def deformable_sample(values: list[torch.Tensor], locations: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted sum of bilinear samples per head.

    values: per level (N, heads, head_dim, h_l, w_l); locations: (N, Lq, heads, levels, points, 2) in [0, 1] as (x, y);
    weights: (N, Lq, heads, levels, points), normalised over levels x points. Returns (N, Lq, heads * head_dim).
    """
    n, queries, heads, levels, points, _ = locations.shape
    head_dim = values[0].shape[2]
    grids = 2.0 * locations - 1.0
    w = weights.permute(0, 2, 1, 3, 4).flatten(0, 1)  # (N*heads, Lq, levels, points)
    out = None
    for level, value in enumerate(values):
        value = value.flatten(0, 1)  # (N*heads, head_dim, h, w)
        grid = grids[:, :, :, level].permute(0, 2, 1, 3, 4).flatten(0, 1)  # (N*heads, Lq, points, 2)
        sampled = F.grid_sample(value, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        # (N*heads, head_dim, Lq, points) x (N*heads, Lq, points) summed over points, one level at a time (memory)
        contribution = torch.einsum("bdqp,bqp->bdq", sampled, w[:, :, level])
        out = contribution if out is None else out + contribution
    return out.reshape(n, heads * head_dim, queries).transpose(1, 2)


class MultiScaleDeformableAttention(nn.Module):
    """MSDeformAttn: each query samples ``points`` offsets per head and level around its reference point."""

    def __init__(self, dim: int, levels: int, heads: int, points: int):
        super().__init__()
        self.levels, self.heads, self.points = levels, heads, points
        self.sampling_offsets = nn.Linear(dim, heads * levels * points * 2)
        self.attention_weights = nn.Linear(dim, heads * levels * points)
        self.value_proj = nn.Linear(dim, dim)
        self.output_proj = nn.Linear(dim, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Deformable DETR init: offsets start on a ring of directions, one per head, growing with the point index.
        nn.init.zeros_(self.sampling_offsets.weight)
        angles = torch.arange(self.heads, dtype=torch.float32) * (2.0 * math.pi / self.heads)
        directions = torch.stack([angles.cos(), angles.sin()], -1)
        directions = directions / directions.abs().max(-1, keepdim=True).values
        bias = directions[:, None, None, :].repeat(1, self.levels, self.points, 1)
        bias *= torch.arange(1, self.points + 1, dtype=torch.float32)[None, None, :, None]
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(bias.flatten())
        nn.init.zeros_(self.attention_weights.weight)
        nn.init.zeros_(self.attention_weights.bias)
        for linear in (self.value_proj, self.output_proj):
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)

    def forward(self, query: torch.Tensor, reference_points: torch.Tensor, value: torch.Tensor,
                shapes: list[tuple[int, int]]) -> torch.Tensor:
        """query (N, Lq, C), reference_points (N, Lq, levels, 2) in [0, 1], value (N, sum h*w, C) -> (N, Lq, C)."""
        n, queries, dim = query.shape
        head_dim = dim // self.heads
        value = self.value_proj(value)
        per_level, start = [], 0
        for h, w in shapes:
            chunk = value[:, start:start + h * w].view(n, h, w, self.heads, head_dim)
            per_level.append(chunk.permute(0, 3, 4, 1, 2))
            start += h * w
        offsets = self.sampling_offsets(query).view(n, queries, self.heads, self.levels, self.points, 2)
        weights = self.attention_weights(query).view(n, queries, self.heads, self.levels * self.points)
        weights = weights.softmax(-1).view(n, queries, self.heads, self.levels, self.points)
        normaliser = torch.tensor([[w, h] for h, w in shapes], dtype=query.dtype, device=query.device)
        locations = reference_points[:, :, None, :, None, :] + offsets / normaliser[None, None, None, :, None, :]
        return self.output_proj(deformable_sample(per_level, locations, weights))


class DeformableEncoderLayer(nn.Module):
    """Post-norm layer: x = LN(x + MSDeformAttn(x + pos)); x = LN(x + FFN(x)) (dropout 0)."""

    def __init__(self, dim: int, levels: int, heads: int, points: int, ffn_dim: int):
        super().__init__()
        self.attention = MultiScaleDeformableAttention(dim, levels, heads, points)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.ReLU(inplace=True), nn.Linear(ffn_dim, dim))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x, position, reference_points, shapes):
        x = self.norm1(x + self.attention(x + position, reference_points, x, shapes))
        return self.norm2(x + self.ffn(x))


def reference_points_for(shapes: list[tuple[int, int]], device, dtype) -> torch.Tensor:
    """(sum h*w, levels, 2) normalised pixel centres of every level, repeated for each level (valid ratio 1)."""
    points = []
    for h, w in shapes:
        y, x = torch.meshgrid(torch.arange(h, device=device, dtype=dtype) + 0.5,
                              torch.arange(w, device=device, dtype=dtype) + 0.5, indexing="ij")
        points.append(torch.stack([x.reshape(-1) / w, y.reshape(-1) / h], -1))
    flat = torch.cat(points, 0)
    return flat[:, None, :].expand(-1, len(shapes), -1)


class DeformableFusion2D(nn.Module):
    """The deformable encoder over a list of (B*V, C, h_l, w_l) maps (res3, res4, res5); returns maps in that order."""

    def __init__(self, dim: int, levels: int, num_layers: int, heads: int, points: int, ffn_dim: int):
        super().__init__()
        self.level_embed = nn.Parameter(torch.randn(levels, dim) * 0.02)
        self.layers = nn.ModuleList(DeformableEncoderLayer(dim, levels, heads, points, ffn_dim)
                                    for _ in range(num_layers))

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        n, dim = features[0].shape[:2]
        shapes = [tuple(f.shape[-2:]) for f in features]
        tokens, positions = [], []
        for level, feature in enumerate(features):
            h, w = feature.shape[-2:]
            tokens.append(feature.flatten(2).transpose(1, 2))
            pe = sine_position_encoding_2d(h, w, dim, device=feature.device, dtype=feature.dtype)
            positions.append((pe.flatten(1).T + self.level_embed[level])[None].expand(n, -1, -1))
        x, position = torch.cat(tokens, 1), torch.cat(positions, 1)
        reference = reference_points_for(shapes, x.device, x.dtype)[None].expand(n, -1, -1, -1)
        for layer in self.layers:
            x = layer(x, position, reference, shapes)
        outputs, start = [], 0
        for h, w in shapes:
            outputs.append(x[:, start:start + h * w].transpose(1, 2).reshape(n, dim, h, w))
            start += h * w
        return outputs
