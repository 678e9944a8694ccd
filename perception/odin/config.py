"""Configurations of the one ODIN model: ``tiny`` (tests), ``small`` (the shipped CPU model), ``paper`` (ODIN R50).

The ``paper`` values follow ODIN's released configs (ayushjain1144/odin ``configs/scannet_context/{base,3d}.yaml`` plus
the overrides of ``scripts/ai2thor/ai2thor_resnet.sh``, at 9c67a0b). ``small`` keeps the architecture and shrinks the
widths and depths for CPU training. Measured CPU time of one training step (forward, losses, backward, AdamW) over
8 views at 192x192 on ONE thread: about 2.1 s with depth (3D path) and 0.8 s without (2D path); the 3D overhead
is mostly the exact k-NN searches (~0.45 s) and the res3 k-NN attention (~0.3 s per block, forward + backward).
Configurations are data: one dataclass, three instances, a JSON round trip.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from envs.jsonfile import read_json

LEVELS = ("res2", "res3", "res4", "res5")
"""Backbone outputs, strides 4 / 8 / 16 / 32."""
MASK_STRIDE = 4
"""Stride of the res2 level, where ``pred_masks`` live: (H, W) inputs give (ceil(H/4), ceil(W/4)) masks, and targets
and validity are sampled on that grid."""


@dataclass(frozen=True)
class OdinConfig:
    """Every size and switch of :class:`perception.odin.model.Odin` (and its losses)."""

    name: str = "custom"

    # Backbone (ResNet). ``block`` is "basic" (ResNet-18/34) or "bottleneck" (ResNet-50). ``norm`` is "group"
    # (GroupNorm, for training from scratch with a few scenes per batch) or "frozen_bn" (detectron2's FrozenBN, as
    # ODIN uses with ImageNet / Mask2Former weights). ``perception.train`` trains a "frozen_bn" config without
    # ``--init-backbone`` with "group" instead, and says so (``perception.train.trainable_norm_config``).
    block: str = "basic"
    stem_width: int = 64
    stage_widths: tuple[int, int, int, int] = (64, 128, 256, 512)
    stage_depths: tuple[int, int, int, int] = (2, 2, 2, 2)
    norm: str = "group"

    hidden_dim: int = 256

    # 3D fusion (CrossViewPAnet): layers after res3 / res4 / res5 in the backbone, and one block per level after the
    # 2D deformable encoder in the pixel decoder.
    backbone_fusion_layers: tuple[int, int, int] = (2, 6, 2)
    decoder_fusion_layers: int = 1
    fusion_heads: int = 8
    fusion_ffn_dim: int = 1024
    knn_k: int = 8
    voxel_sizes: tuple[float, float, float, float] = (0.02, 0.04, 0.08, 0.16)  # res2, res3, res4, res5 in metres
    interpolation_k: int = 8

    # Within-view multi-scale deformable attention (levels res3..res5).
    deform_layers: int = 6
    deform_heads: int = 8
    deform_points: int = 4
    deform_ffn_dim: int = 1024

    # Transformer decoder.
    num_queries: int = 100
    decoder_layers: int = 9
    decoder_heads: int = 8
    decoder_ffn_dim: int = 2048
    # Add each query's mask-pooled stride-4 mask features to it before the class head (not in ODIN; see
    # ``perception.odin.decoder.MaskedTransformerDecoder``): class evidence for objects smaller than a res3 token.
    mask_pooled_class: bool = False

    # Open-vocabulary class head: frozen sentence embeddings of the class names, projected to ``hidden_dim``.
    text_encoder: str = "minilm"
    text_dim: int = 384
    logit_scale_init: float = 1.0 / 0.07

    # Losses and matching (ODIN scripts: class 2, mask BCE 15, dice 6; no-object weight 0.1).
    class_weight: float = 2.0
    mask_weight: float = 15.0
    dice_weight: float = 6.0
    no_object_weight: float = 0.1
    train_num_points: int = 50000

    # Input normalisation (ImageNet statistics, images in [0, 1]).
    pixel_mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    pixel_std: tuple[float, float, float] = (0.229, 0.224, 0.225)

    def __post_init__(self) -> None:
        def fail(field_name: str, message: str) -> None:
            raise ValueError(f"OdinConfig.{field_name}: {message}")

        if self.block not in ("basic", "bottleneck"):
            fail("block", f"must be 'basic' or 'bottleneck', got {self.block!r}")
        if self.norm not in ("group", "frozen_bn"):
            fail("norm", f"must be 'group' or 'frozen_bn', got {self.norm!r}")
        for name in ("stage_widths", "stage_depths", "voxel_sizes"):
            if len(getattr(self, name)) != 4:
                fail(name, f"needs 4 entries (res2..res5), got {getattr(self, name)!r}")
        if len(self.backbone_fusion_layers) != 3:
            fail("backbone_fusion_layers", f"needs 3 entries (res3, res4, res5), got {self.backbone_fusion_layers!r}")
        for name, heads in (("fusion_heads", self.fusion_heads), ("deform_heads", self.deform_heads),
                            ("decoder_heads", self.decoder_heads)):
            if heads <= 0 or self.hidden_dim % heads:
                fail(name, f"{heads} heads must divide hidden_dim={self.hidden_dim}")
        if any(size <= 0 for size in self.voxel_sizes):
            fail("voxel_sizes", f"must be positive, got {self.voxel_sizes!r}")
        for name in ("knn_k", "interpolation_k", "num_queries", "decoder_layers", "deform_points", "hidden_dim"):
            if getattr(self, name) <= 0:
                fail(name, f"must be positive, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str = "config") -> "OdinConfig":
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"{source}: unknown OdinConfig fields {unknown}")
        values = {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
        return cls(**values)

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_json(cls, path: str | Path) -> "OdinConfig":
        try:
            data = read_json(path)
        except OSError as error:
            raise ValueError(f"{path}: cannot read an OdinConfig JSON ({error})") from error
        if not isinstance(data, dict):
            raise ValueError(f"{path}: an OdinConfig JSON must hold an object, got {type(data).__name__}")
        return cls.from_dict(data, source=str(path))

    def replace(self, **changes) -> "OdinConfig":
        return dataclasses.replace(self, **changes)


CONFIGS: dict[str, OdinConfig] = {
    "tiny": OdinConfig(
        name="tiny", block="basic", stem_width=8, stage_widths=(8, 16, 32, 32), stage_depths=(1, 1, 1, 1),
        norm="group", hidden_dim=32, backbone_fusion_layers=(1, 1, 1), decoder_fusion_layers=1, fusion_heads=4,
        fusion_ffn_dim=64, deform_layers=1, deform_heads=4, deform_points=2, deform_ffn_dim=64, num_queries=8,
        decoder_layers=3, decoder_heads=4, decoder_ffn_dim=64, train_num_points=2048,
    ),
    "small": OdinConfig(
        name="small", block="basic", stem_width=32, stage_widths=(32, 64, 128, 256), stage_depths=(1, 1, 1, 1),
        norm="group", hidden_dim=128, backbone_fusion_layers=(1, 2, 1), decoder_fusion_layers=1, fusion_heads=4,
        fusion_ffn_dim=256, deform_layers=2, deform_heads=4, deform_points=2, deform_ffn_dim=256, num_queries=50,
        decoder_layers=6, decoder_heads=4, decoder_ffn_dim=512, train_num_points=12544,
    ),
    "small_deep": OdinConfig(
        name="small_deep", block="basic", stem_width=32, stage_widths=(32, 64, 128, 256), stage_depths=(2, 2, 2, 2),
        norm="group", hidden_dim=128, backbone_fusion_layers=(1, 2, 1), decoder_fusion_layers=1, fusion_heads=4,
        fusion_ffn_dim=256, deform_layers=2, deform_heads=4, deform_points=2, deform_ffn_dim=256, num_queries=50,
        decoder_layers=6, decoder_heads=4, decoder_ffn_dim=512, train_num_points=12544,
    ),
    "small_deep3_pooled": OdinConfig(
        name="small_deep3_pooled", block="basic", stem_width=32, stage_widths=(32, 64, 128, 256),
        stage_depths=(3, 3, 3, 3), norm="group", hidden_dim=128, backbone_fusion_layers=(1, 2, 1),
        decoder_fusion_layers=1, fusion_heads=4, fusion_ffn_dim=256, deform_layers=2, deform_heads=4, deform_points=2,
        deform_ffn_dim=256, num_queries=50, decoder_layers=6, decoder_heads=4, decoder_ffn_dim=512,
        train_num_points=12544, mask_pooled_class=True,
    ),
    "paper": OdinConfig(
        name="paper", block="bottleneck", stem_width=64, stage_widths=(256, 512, 1024, 2048), stage_depths=(3, 4, 6, 3),
        norm="frozen_bn", hidden_dim=256, backbone_fusion_layers=(2, 6, 2), decoder_fusion_layers=1, fusion_heads=8,
        fusion_ffn_dim=1024, knn_k=8, voxel_sizes=(0.02, 0.04, 0.08, 0.16), deform_layers=6, deform_heads=8,
        deform_points=4, deform_ffn_dim=1024, num_queries=100, decoder_layers=9, decoder_heads=8, decoder_ffn_dim=2048,
        train_num_points=50000,
    ),
}


def get_config(name_or_path: str) -> OdinConfig:
    """A named configuration (``tiny`` / ``small`` / ``paper``) or one read from a JSON file."""
    if name_or_path in CONFIGS:
        return CONFIGS[name_or_path]
    if Path(name_or_path).suffix == ".json":
        return OdinConfig.from_json(name_or_path)
    raise ValueError(f"unknown ODIN config {name_or_path!r}: use one of {sorted(CONFIGS)} or a .json path")
