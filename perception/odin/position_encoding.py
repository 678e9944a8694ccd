"""Positional encodings: 2D sine over pixel coordinates, relative-3D MLP for k-NN attention, absolute 3D for the decoder.

* 2D sine: DETR / Mask2Former ``PositionEmbeddingSine`` (Carion et al. 2020), normalised coordinates scaled to 2*pi,
  half the channels for y and half for x.
* Relative 3D: ODIN ``PositionEmbeddingLearnedMLP`` (``USE_MLP_POSITIONAL_ENCODING True``): Linear(3, d) -> LayerNorm ->
  ReLU -> Linear(d, d) applied to neighbour xyz minus query xyz; the query itself gets the MLP of (0, 0, 0).
* Absolute 3D: ODIN ``PositionEmbeddingLearned``: Conv1d(3, d) -> GroupNorm(1) over all points of a sample -> ReLU ->
  Conv1d(d, d) on raw world xyz (not normalised), computed per pixel then voxel-averaged by the caller.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sine_position_encoding_2d(height: int, width: int, channels: int, device=None, temperature: float = 10000.0,
                              dtype=torch.float32) -> torch.Tensor:
    """(channels, height, width) sine/cosine encoding of normalised pixel coordinates (y first, then x)."""
    if channels % 4:
        raise ValueError(f"sine_position_encoding_2d: channels must be a multiple of 4, got {channels}")
    per_axis = channels // 2
    eps, scale = 1e-6, 2 * math.pi
    y = torch.arange(1, height + 1, device=device, dtype=dtype) / (height + eps) * scale
    x = torch.arange(1, width + 1, device=device, dtype=dtype) / (width + eps) * scale
    dim_t = torch.arange(per_axis, device=device, dtype=dtype)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / per_axis)
    pos_y = y[:, None] / dim_t  # (H, per_axis)
    pos_x = x[:, None] / dim_t  # (W, per_axis)
    pos_y = torch.stack((pos_y[:, 0::2].sin(), pos_y[:, 1::2].cos()), dim=2).flatten(1)
    pos_x = torch.stack((pos_x[:, 0::2].sin(), pos_x[:, 1::2].cos()), dim=2).flatten(1)
    grid_y = pos_y[:, None, :].expand(height, width, per_axis)
    grid_x = pos_x[None, :, :].expand(height, width, per_axis)
    return torch.cat((grid_y, grid_x), dim=2).permute(2, 0, 1).contiguous()


class RelativePositionMLP(nn.Module):
    """Linear(3, d) -> LayerNorm -> ReLU -> Linear(d, d) on relative offsets (ODIN's learned MLP PE)."""

    def __init__(self, dim: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, dim), nn.LayerNorm(dim), nn.ReLU(inplace=True), nn.Linear(dim, dim))

    def hidden(self, offsets: torch.Tensor) -> torch.Tensor:
        """Everything but the last Linear, so callers can fold that Linear into their own projection."""
        return self.net[:3](offsets)

    @property
    def output(self) -> nn.Linear:
        return self.net[3]

    def forward(self, offsets: torch.Tensor) -> torch.Tensor:
        return self.net(offsets)


class AbsolutePosition3D(nn.Module):
    """Linear(3, d) -> per-sample GroupNorm(1) -> ReLU -> Linear(d, d) on world xyz (ODIN ``PositionEmbeddingLearned``).

    The GroupNorm statistics run over all points and channels of one sample, so points are passed flat with a
    ``sample_index`` per point.
    """

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.first = nn.Linear(3, dim)
        self.norm_weight = nn.Parameter(torch.ones(dim))
        self.norm_bias = nn.Parameter(torch.zeros(dim))
        self.second = nn.Linear(dim, dim)
        self.eps = eps

    def forward(self, xyz: torch.Tensor, sample_index: torch.Tensor, num_samples: int) -> torch.Tensor:
        hidden = self.first(xyz)
        dim = hidden.shape[1]
        count = torch.zeros(num_samples, device=xyz.device, dtype=hidden.dtype)
        count.index_add_(0, sample_index, torch.ones_like(sample_index, dtype=hidden.dtype))
        count = count.clamp_min(1.0) * dim
        total = torch.zeros(num_samples, device=xyz.device, dtype=hidden.dtype).index_add_(0, sample_index, hidden.sum(1))
        mean = total / count
        centred = hidden - mean[sample_index, None]
        var = torch.zeros(num_samples, device=xyz.device, dtype=hidden.dtype).index_add_(
            0, sample_index, centred.pow(2).sum(1)) / count
        normed = centred * (var[sample_index, None] + self.eps).rsqrt()
        return self.second(torch.relu(normed * self.norm_weight + self.norm_bias))
