"""ResNet backbone returning res2..res5 (strides 4, 8, 16, 32), built stage by stage so 3D fusion can sit between stages.

Follows He et al., "Deep Residual Learning" (CVPR 2016) as detectron2 builds it for ODIN
(``odin/modeling/backbone/resnet.py``: stride in the 3x3 conv, ``STRIDE_IN_1X1 False``).

Normalisation (``OdinConfig.norm``):
* ``"frozen_bn"`` - detectron2's FrozenBatchNorm2d, ODIN's choice: statistics and affine are fixed buffers, meaningful
  only with pretrained weights (the ``paper`` config).
* ``"group"`` - GroupNorm (32 groups, or fewer when the width is small). Our ``tiny``/``small`` models train from scratch
  with a handful of scenes per batch, where batch statistics would be noisy and frozen statistics meaningless.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import OdinConfig


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm with fixed statistics and affine parameters (all buffers), as detectron2's FrozenBatchNorm2d."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(channels))
        self.register_buffer("bias", torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]


def group_count(channels: int, preferred: int = 32) -> int:
    """The largest group count <= ``preferred`` that divides ``channels`` (GroupNorm needs an exact division)."""
    return math.gcd(channels, preferred)


def make_norm(kind: str, channels: int) -> nn.Module:
    if kind == "frozen_bn":
        return FrozenBatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(group_count(channels), channels)
    raise ValueError(f"norm must be 'group' or 'frozen_bn', got {kind!r}")


class ConvNorm(nn.Sequential):
    """Conv2d (no bias) followed by a norm layer."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, norm: str):
        super().__init__(nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, bias=False), make_norm(norm, out_ch))


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual connection (ResNet-18/34)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, norm: str):
        super().__init__()
        self.conv1 = ConvNorm(in_ch, out_ch, 3, stride, norm)
        self.conv2 = ConvNorm(out_ch, out_ch, 3, 1, norm)
        self.shortcut = ConvNorm(in_ch, out_ch, 1, stride, norm) if stride != 1 or in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv2(torch.relu(self.conv1(x))) + self.shortcut(x))


class BottleneckBlock(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride), 1x1 expand, residual (ResNet-50; bottleneck = out / 4)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, norm: str):
        super().__init__()
        mid = out_ch // 4
        self.conv1 = ConvNorm(in_ch, mid, 1, 1, norm)
        self.conv2 = ConvNorm(mid, mid, 3, stride, norm)
        self.conv3 = ConvNorm(mid, out_ch, 1, 1, norm)
        self.shortcut = ConvNorm(in_ch, out_ch, 1, stride, norm) if stride != 1 or in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.conv1(x))
        out = torch.relu(self.conv2(out))
        return torch.relu(self.conv3(out) + self.shortcut(x))


class ResNetBackbone(nn.Module):
    """Stem (7x7/2 conv + 3x3/2 max pool) and four stages; ``stages[i]`` produces ``LEVELS[i]``.

    The model runs the stages itself (``stem`` then each of ``stages``) so it can insert 3D fusion after res3..res5;
    :meth:`forward` is the plain 2D path for convenience.
    """

    def __init__(self, config: OdinConfig):
        super().__init__()
        block = BasicBlock if config.block == "basic" else BottleneckBlock
        self.stem = nn.Sequential(
            ConvNorm(3, config.stem_width, 7, 2, config.norm), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
        )
        stages, in_ch = [], config.stem_width
        for index, (width, depth) in enumerate(zip(config.stage_widths, config.stage_depths)):
            stride = 1 if index == 0 else 2
            blocks = [block(in_ch if i == 0 else width, width, stride if i == 0 else 1, config.norm) for i in range(depth)]
            stages.append(nn.Sequential(*blocks))
            in_ch = width
        self.stages = nn.ModuleList(stages)
        self.out_channels = tuple(config.stage_widths)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(images)
        outputs = []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs
