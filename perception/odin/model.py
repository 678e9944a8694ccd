"""ODIN: one model for 2D images and multi-view RGB-D scenes (Jain et al., CVPR 2024, arXiv 2401.02416).

The forward pass alternates 2D and 3D fusion as ODIN's code does (``ayushjain1144/odin`` at 9c67a0b:
``odin/odin_model.py``, ``odin/modeling/backbone/resnet.py``, ``odin/modeling/meta_arch/cross_view_attention.py``):

    images -> ResNet stem, res2, res3 [+3D], res4 [+3D], res5 [+3D]    (3D = voxel k-NN attention across views)
           -> pixel decoder: within-view deformable attention over res3..res5, then one 3D block per level
           -> FPN to res2 (3D: k-NN interpolation res3 voxels -> res2 voxels) -> mask features
           -> masked-attention decoder over res5/res4/res3 -> class logits (text head) + mask logits

Input contract of :meth:`Odin.forward`:
* ``images`` (B, V, 3, H, W) float RGB in [0, 1] (any H, W; padded internally to a multiple of 32).
* ``class_names`` list of C class names (e.g. AI2-THOR object types); the head scores any vocabulary.
* ``xyz`` (B, V, H, W, 3) world points per pixel in the right-handed z-up frame of ``envs.camera`` ("zup"), metres,
  e.g. ``envs.camera.unproject_depth(depth, fov, camera_to_world_zup(...))``; ``None`` runs the 2D path (no 3D
  fusion, same weights).
* ``valid`` (B, V, H, W) bool depth validity (default: finite xyz). Invalid pixels take no part in 3D fusion.

In 2D mode the V views of a sample share one set of queries (like a clip: every view's pixels are decoder memory,
each with its own 2D sine PE, no temporal term); in 3D mode the memory is the voxels of all views.

Incremental use (the agent's provider): :meth:`Odin.encode_views` runs the part of the backbone that sees one view
at a time (stem and stages up to the first one followed by 3D fusion, i.e. stem, res2, res3 before fusion) and
returns :class:`ViewFeatures`; ``forward(..., encoded=ViewFeatures.cat([...]))`` skips that part, so a window of
views is re-fused every step while each view's per-view features are computed once and cached. The result equals a
plain ``forward`` over the same views (up to float rounding of batched convolutions).

Output: ``pred_logits`` (B, Q, C + 1) with no-object last; ``pred_masks`` (B, Q, V, ceil(H/4), ceil(W/4)) mask
logits at stride 4 (3D: one logit per 2 cm voxel copied to all its pixels); ``aux_outputs`` the same pair for the
initial queries and every decoder layer but the last.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .backbone import ResNetBackbone, group_count
from .config import LEVELS, MASK_STRIDE, OdinConfig
from .decoder import (MaskedTransformerDecoder, PixelMaskReadout, VoxelMaskReadout, pixel_memory, voxel_memory)
from .fusion2d import DeformableFusion2D
from .fusion3d import CrossViewFusion, SceneGeometry, knn_interpolate
from .position_encoding import AbsolutePosition3D, sine_position_encoding_2d
from .text_head import TextClassHead, TextEmbedder, readable_class_name

STRIDES = {"res2": MASK_STRIDE, "res3": 8, "res4": 16, "res5": 32}
FUSED_LEVELS = ("res3", "res4", "res5")
PAD_MULTIPLE = 32


def conv_norm(in_ch: int, out_ch: int, relu: bool = False) -> nn.Sequential:
    """1x1 conv + GroupNorm(32) (+ ReLU): ODIN's projections between widths."""
    layers = [nn.Conv2d(in_ch, out_ch, 1, bias=False), nn.GroupNorm(group_count(out_ch), out_ch)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BackboneFusionBlock(nn.Module):
    """Stage output -> 1x1 conv to d + GN -> 3D fusion -> 1x1 conv back + GN -> residual add (ODIN ``resnet.py``)."""

    def __init__(self, channels: int, config: OdinConfig, num_layers: int):
        super().__init__()
        self.to_fusion = conv_norm(channels, config.hidden_dim)
        self.fusion = CrossViewFusion(config.hidden_dim, num_layers, config.fusion_heads, config.fusion_ffn_dim)
        self.from_fusion = conv_norm(config.hidden_dim, channels)

    def forward(self, features: torch.Tensor, level) -> torch.Tensor:
        return features + self.from_fusion(self.fusion(self.to_fusion(features), level))


@dataclass
class ViewFeatures:
    """Per-view backbone features of ``batch`` samples x ``views`` views (see :meth:`Odin.encode_views`).

    ``maps[name]`` is (batch * views, C, h, w) for each per-view level, padded as the model pads its input;
    ``height``/``width`` the unpadded input size they were computed from.
    """

    batch: int
    views: int
    height: int
    width: int
    maps: dict[str, torch.Tensor]

    @staticmethod
    def cat(parts: list["ViewFeatures"]) -> "ViewFeatures":
        """Join single-sample ``ViewFeatures`` along the view axis (in the given order)."""
        if not parts:
            raise ValueError("ViewFeatures.cat: no parts")
        first = parts[0]
        for part in parts:
            if part.batch != 1 or (part.height, part.width) != (first.height, first.width) \
                    or part.maps.keys() != first.maps.keys():
                raise ValueError("ViewFeatures.cat: parts must be single-sample features of one input size and model")
        maps = {name: torch.cat([part.maps[name] for part in parts]) for name in first.maps}
        return ViewFeatures(1, sum(part.views for part in parts), first.height, first.width, maps)

    def view(self, index: int) -> "ViewFeatures":
        """The features of one view of a single-sample batch (negative indices count from the end)."""
        if self.batch != 1:
            raise ValueError("ViewFeatures.view: only for single-sample features")
        index = range(self.views)[index]
        return ViewFeatures(1, 1, self.height, self.width,
                            {name: tensor[index:index + 1] for name, tensor in self.maps.items()})


class Odin(nn.Module):
    """The ODIN model; one set of weights for the 2D (``xyz=None``) and 3D paths. See the module docstring."""

    def __init__(self, config: OdinConfig, text_embedder: TextEmbedder | None = None):
        super().__init__()
        self.config = config
        d = config.hidden_dim
        self.text_embedder = text_embedder if text_embedder is not None else TextEmbedder(config.text_encoder)
        self.register_buffer("pixel_mean", torch.tensor(config.pixel_mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(config.pixel_std).view(1, 3, 1, 1), persistent=False)

        self.backbone = ResNetBackbone(config)
        widths = dict(zip(LEVELS, self.backbone.out_channels))
        self.backbone_fusion = nn.ModuleDict({
            name: BackboneFusionBlock(widths[name], config, layers)
            for name, layers in zip(FUSED_LEVELS, config.backbone_fusion_layers) if layers > 0
        })
        # Pixel decoder: projections, within-view deformable encoder, one 3D block per level, FPN to res2.
        self.input_proj = nn.ModuleDict({name: conv_norm(widths[name], d) for name in FUSED_LEVELS})
        self.deformable = DeformableFusion2D(d, len(FUSED_LEVELS), config.deform_layers, config.deform_heads,
                                             config.deform_points, config.deform_ffn_dim)
        self.decoder_fusion = nn.ModuleDict({
            name: CrossViewFusion(d, config.decoder_fusion_layers, config.fusion_heads, config.fusion_ffn_dim)
            for name in FUSED_LEVELS
        }) if config.decoder_fusion_layers > 0 else nn.ModuleDict()
        self.lateral_res2 = conv_norm(widths["res2"], d)
        self.output_res2 = conv_norm(d, d, relu=True)  # 1x1 as ODIN's 3D-capable FPN
        self.mask_features = nn.Conv2d(d, d, 1)
        self.position3d = AbsolutePosition3D(d)
        self.decoder = MaskedTransformerDecoder(
            d, config.num_queries, config.decoder_layers, config.decoder_heads, config.decoder_ffn_dim,
            len(FUSED_LEVELS), TextClassHead(d, config.text_dim, config.logit_scale_init),
            mask_pooled_class=config.mask_pooled_class)

    # ----------------------------------------------------------------------------------------------------- inputs
    def _check_inputs(self, images, class_names, xyz, valid):
        if not torch.is_tensor(images) or images.dim() != 5 or images.shape[2] != 3:
            raise ValueError(f"images must be a (B, V, 3, H, W) tensor, got {getattr(images, 'shape', type(images))}")
        if not images.is_floating_point():
            raise ValueError(f"images must be float in [0, 1], got dtype {images.dtype}")
        if images.numel() and (images.min() < -1e-3 or images.max() > 1.0 + 1e-3):
            raise ValueError("images must be in [0, 1] (divide uint8 frames by 255)")
        if isinstance(class_names, str) or not class_names or not all(isinstance(c, str) and c for c in class_names):
            raise ValueError(f"class_names must be a non-empty list of non-empty strings, got {class_names!r}")
        b, v, _, h, w = images.shape
        if xyz is None:
            if valid is not None:
                raise ValueError("valid was given without xyz: pass xyz for the 3D path or neither for 2D")
            return None
        if not torch.is_tensor(xyz) or tuple(xyz.shape) != (b, v, h, w, 3):
            raise ValueError(f"xyz must have shape {(b, v, h, w, 3)}, got {tuple(getattr(xyz, 'shape', ()))}")
        finite = torch.isfinite(xyz).all(-1)
        if valid is None:
            return finite
        if not torch.is_tensor(valid) or tuple(valid.shape) != (b, v, h, w) or valid.dtype != torch.bool:
            raise ValueError(f"valid must be a bool tensor of shape {(b, v, h, w)}, got "
                             f"{getattr(valid, 'dtype', type(valid))} {tuple(getattr(valid, 'shape', ()))}")
        return valid & finite

    def embed_classes(self, class_names: list[str], device) -> torch.Tensor:
        """(C, text_dim) frozen sentence embeddings of the readable class names (cached by the embedder)."""
        embeddings = self.text_embedder.embed([readable_class_name(c) for c in class_names])
        if embeddings.shape[1] != self.config.text_dim:
            raise ValueError(f"text encoder {self.text_embedder.model!r} gives {embeddings.shape[1]}-d embeddings but "
                             f"OdinConfig.text_dim is {self.config.text_dim}")
        return embeddings.to(device)

    @staticmethod
    def _pad(tensor: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Zero-pad the last two dims (H, W) at the bottom/right up to a multiple of 32 (detectron2 ImageList)."""
        pad_h = (-height) % PAD_MULTIPLE
        pad_w = (-width) % PAD_MULTIPLE
        return F.pad(tensor, (0, pad_w, 0, pad_h)) if pad_h or pad_w else tensor

    # ---------------------------------------------------------------------------------------------------- forward
    @property
    def per_view_levels(self) -> tuple[str, ...]:
        """Backbone levels computed from one view alone: up to and including the first stage followed by 3D fusion
        (whose cached output is taken *before* that fusion); every level when no stage is fused."""
        levels = []
        for name in LEVELS:
            levels.append(name)
            if name in self.backbone_fusion:
                break
        return tuple(levels)

    def encode_views(self, images: torch.Tensor) -> ViewFeatures:
        """The per-view part of the backbone for (B, V, 3, H, W) images in [0, 1]; see the module docstring."""
        if not torch.is_tensor(images) or images.dim() != 5 or images.shape[2] != 3:
            raise ValueError(f"images must be a (B, V, 3, H, W) tensor, got {getattr(images, 'shape', type(images))}")
        batch, views, _, height, width = images.shape
        x = self._pad((images.flatten(0, 1) - self.pixel_mean) / self.pixel_std, height, width)
        maps = {}
        hidden = self.backbone.stem(x)
        for name, stage in zip(self.per_view_levels, self.backbone.stages):
            hidden = stage(hidden)
            maps[name] = hidden
        return ViewFeatures(batch, views, height, width, maps)

    def forward(self, images: torch.Tensor, class_names: list[str], xyz: torch.Tensor | None = None,
                valid: torch.Tensor | None = None, encoded: ViewFeatures | None = None) -> dict:
        valid = self._check_inputs(images, class_names, xyz, valid)
        batch, views, _, height, width = images.shape
        text = self.embed_classes(class_names, images.device)
        if encoded is None:
            encoded = self.encode_views(images)
        elif (encoded.batch, encoded.views, encoded.height, encoded.width) != (batch, views, height, width) \
                or tuple(encoded.maps) != self.per_view_levels:
            raise ValueError(f"encoded ViewFeatures ({encoded.batch} x {encoded.views} views of "
                             f"{encoded.height}x{encoded.width}, levels {tuple(encoded.maps)}) do not match the images "
                             f"({batch} x {views} views of {height}x{width}) and this model's per-view levels "
                             f"{self.per_view_levels}")
        x = encoded.maps[self.per_view_levels[0]]  # device / dtype of the padded input
        geometry = None
        if xyz is not None:
            xyz = torch.where(valid[..., None], xyz.to(images.dtype), torch.zeros((), dtype=images.dtype,
                                                                                  device=images.device))
            padded_xyz = self._pad(xyz.permute(0, 1, 4, 2, 3), height, width).permute(0, 1, 3, 4, 2)
            padded_valid = self._pad(valid, height, width)
            geometry = SceneGeometry(padded_xyz, padded_valid, dict(zip(LEVELS, self.config.voxel_sizes)), STRIDES,
                                     self.config.knn_k)

        # Backbone, with 3D fusion after res3, res4 and res5 when depth is given.
        features = {}
        hidden = None
        for name, stage in zip(LEVELS, self.backbone.stages):
            hidden = encoded.maps[name] if name in encoded.maps else stage(hidden)
            if geometry is not None and name in self.backbone_fusion:
                hidden = self.backbone_fusion[name](hidden, geometry[name])
            features[name] = hidden

        # Pixel decoder: within-view deformable attention, then cross-view 3D fusion per level.
        multiscale = self.deformable([self.input_proj[name](features[name]) for name in FUSED_LEVELS])
        if geometry is not None:
            multiscale = [self.decoder_fusion[name](f, geometry[name]) if name in self.decoder_fusion else f
                          for name, f in zip(FUSED_LEVELS, multiscale)]
        res3 = multiscale[0]
        upsampled = F.interpolate(res3, size=features["res2"].shape[-2:], mode="bilinear", align_corners=False)
        if geometry is not None:
            index, weights = geometry.interpolation("res3", "res2", self.config.interpolation_k)
            res3_voxels = geometry["res3"].pixels_to_voxels(res3)
            upsampled = geometry["res2"].voxels_to_pixels(knn_interpolate(res3_voxels, index, weights), upsampled)
        mask_features = self.mask_features(self.output_res2(self.lateral_res2(features["res2"]) + upsampled))

        # Decoder over res5, res4, res3.
        order = list(reversed(FUSED_LEVELS))
        level_maps = dict(zip(FUSED_LEVELS, multiscale))
        if geometry is None:
            memories = [pixel_memory(level_maps[name], sine_position_encoding_2d(
                *level_maps[name].shape[-2:], self.config.hidden_dim, device=x.device, dtype=x.dtype), batch)
                for name in order]
            readout = PixelMaskReadout(mask_features, batch, [tuple(level_maps[n].shape[-2:]) for n in order])
        else:
            memories = []
            for name in order:
                level = geometry[name]
                position = self.position3d(level.point_xyz, level.point_batch, batch)
                memories.append(voxel_memory(level_maps[name], position, geometry, name))
            readout = VoxelMaskReadout(mask_features, geometry, order, "res2", self.config.interpolation_k)
        outputs = self.decoder(memories, readout, text)
        return self._crop(outputs, math.ceil(height / MASK_STRIDE), math.ceil(width / MASK_STRIDE))

    @staticmethod
    def _crop(outputs: dict, height: int, width: int) -> dict:
        def crop(prediction):
            return {"pred_logits": prediction["pred_logits"],
                    "pred_masks": prediction["pred_masks"][..., :height, :width]}
        cropped = crop(outputs)
        cropped["aux_outputs"] = [crop(p) for p in outputs["aux_outputs"]]
        return cropped

    # -------------------------------------------------------------------------------------------------- optimiser
    def parameter_groups(self, lr: float = 1e-4, weight_decay: float = 0.05,
                         backbone_lr_multiplier: float = 0.1) -> list[dict]:
        """AdamW parameter groups under the one weight-decay rule; see :func:`parameter_groups`."""
        return parameter_groups(self, lr, weight_decay, backbone_lr_multiplier)

    # ---------------------------------------------------------------------------------------------------- predict
    @torch.no_grad()
    def predict(self, images: torch.Tensor, class_names: list[str], xyz: torch.Tensor | None = None,
                valid: torch.Tensor | None = None, top_k: int | None = None,
                encoded: ViewFeatures | None = None) -> list[dict]:
        """Instances per sample: the top-k (query, class) pairs (ODIN ``inference_video``; no NMS, no threshold).

        Returns per sample ``masks`` (K, V, H, W) bool at input resolution (mask logit > 0), ``labels`` (K,) long
        indices into ``class_names``, ``class_names`` (K names), ``scores`` (K,) = p(class) * mean sigmoid inside
        the mask, ``mask_scores`` (K,) the mean sigmoid alone, ``queries`` (K,) the query of each pair and
        ``probabilities`` (K, C) that query's class distribution (no-object left out), for callers that keep more
        than the top class.
        """
        outputs = self.forward(images, class_names, xyz, valid, encoded)
        return postprocess(outputs, class_names, images.shape[-2:], top_k or self.config.num_queries)


def postprocess(outputs: dict, class_names: list[str], image_size, top_k: int) -> list[dict]:
    """Turn ``forward`` outputs into scored instances; see :meth:`Odin.predict`."""
    height, width = int(image_size[0]), int(image_size[1])
    results = []
    for logits, mask_logits in zip(outputs["pred_logits"], outputs["pred_masks"]):
        probabilities = logits.softmax(-1)[:, :-1]  # (Q, C) without no-object
        num_classes = probabilities.shape[1]
        k = min(top_k, probabilities.numel())
        class_scores, flat = probabilities.flatten().topk(k)
        queries, labels = flat // num_classes, flat % num_classes
        selected = mask_logits[queries]  # (K, V, h, w)
        upsampled = F.interpolate(selected.flatten(0, 1)[:, None], scale_factor=float(MASK_STRIDE), mode="bilinear",
                                  align_corners=False)[:, 0, :height, :width]
        upsampled = upsampled.reshape(k, -1, height, width)
        masks = upsampled > 0
        inside = masks.flatten(1).float()
        mask_scores = (upsampled.sigmoid().flatten(1) * inside).sum(1) / inside.sum(1).clamp_min(1.0)
        results.append({"masks": masks, "labels": labels, "scores": class_scores * mask_scores,
                        "class_names": [class_names[i] for i in labels.tolist()], "mask_scores": mask_scores,
                        "queries": queries, "probabilities": probabilities[queries]})
    return results


NORM_MODULES = tuple(m for m in (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase,
                                 getattr(nn, "RMSNorm", None)) if m is not None)
"""Normalisation layers: their weights and biases take no weight decay (BatchNorm/InstanceNorm via ``_NormBase``;
our FrozenBatchNorm2d holds buffers only)."""
NO_DECAY_PARAMETERS = ("level_embed", "norm_weight", "norm_bias", "log_scale")
"""Parameters registered directly on a module rather than through a Linear/Conv/norm/Embedding: the deformable
encoder's learned level embedding, the 3D position MLP's hand-written LayerNorm affine, and the class head's learned
logit temperature (a scalar; decaying it would pull the softmax towards uniform)."""


def takes_weight_decay(module: nn.Module, name: str) -> bool:
    """The one weight-decay rule (detectron2 ``get_default_optimizer_params`` with Mask2Former/ODIN's settings: no
    decay on norms and embeddings, here also none on biases): False for every parameter of a norm layer
    (:data:`NORM_MODULES`) or an ``nn.Embedding`` (query features and positions, level embeddings), for biases
    (``bias``, ``in_proj_bias``, ...) and for :data:`NO_DECAY_PARAMETERS`; True for the rest, i.e. the weights of
    Linear / Conv / attention projections, query projections and the mask-embedding MLP included."""
    if isinstance(module, NORM_MODULES) or isinstance(module, nn.Embedding):
        return False
    if name == "bias" or name.endswith("_bias"):
        return False
    return name not in NO_DECAY_PARAMETERS


def parameter_groups(model: Odin, lr: float = 1e-4, weight_decay: float = 0.05,
                     backbone_lr_multiplier: float = 0.1) -> list[dict]:
    """AdamW groups as ODIN's ``train_odin.py build_optimizer``: the 2D backbone at ``lr * backbone_lr_multiplier``
    (the 3D blocks inside it, ``backbone_fusion``, at full ``lr``); weight decay by :func:`takes_weight_decay`.
    Frozen parameters (``requires_grad`` False) are left out; every trainable parameter is in exactly one group.
    Groups come in a fixed order (head decay, head no-decay, backbone decay, backbone no-decay; empty ones dropped),
    each with a ``name`` and its ``lr`` and ``weight_decay``."""
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {key: [] for key in
                                                         ((False, True), (False, False), (True, True), (True, False))}
    for module_name, module in model.named_modules():
        for name, parameter in module.named_parameters(recurse=False):
            if not parameter.requires_grad:
                continue
            in_backbone = module_name == "backbone" or module_name.startswith("backbone.")
            groups[(in_backbone, takes_weight_decay(module, name))].append(parameter)
    return [{"name": f"{'backbone' if in_backbone else 'rest'}/{'decay' if decay else 'no_decay'}",
             "params": params, "lr": lr * (backbone_lr_multiplier if in_backbone else 1.0),
             "weight_decay": weight_decay if decay else 0.0}
            for (in_backbone, decay), params in groups.items() if params]
