"""ODIN (Jain et al., CVPR 2024) in plain PyTorch: one model for 2D images and multi-view RGB-D scenes.

Public API::

    from perception.odin import Odin, CONFIGS, load_checkpoint, save_checkpoint, SetCriterion
    model = Odin(CONFIGS["small"])
    outputs = model(images, class_names, xyz=xyz, valid=valid)   # see perception/odin/model.py for the contract
    instances = model.predict(images, class_names, xyz=xyz, valid=valid)
"""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import CONFIGS, LEVELS, OdinConfig, get_config
from .criterion import SetCriterion, masks_at_prediction_stride
from .fusion3d import CrossViewFusion, KnnAttentionLayer, SceneGeometry, knn_interpolate, voxelize
from .knn_search import knn, knn_brute_force
from .matcher import HungarianMatcher
from .model import Odin, ViewFeatures, parameter_groups, postprocess
from .text_head import TextClassHead, TextEmbedder, readable_class_name
from .voxel_targets import pool_to_voxels

__all__ = [
    "CONFIGS", "LEVELS", "CheckpointError", "CrossViewFusion", "HungarianMatcher", "KnnAttentionLayer", "Odin",
    "OdinConfig", "SceneGeometry", "SetCriterion", "TextClassHead", "TextEmbedder", "ViewFeatures", "get_config", "knn",
    "knn_brute_force", "knn_interpolate", "load_checkpoint", "masks_at_prediction_stride", "parameter_groups",
    "pool_to_voxels", "postprocess", "readable_class_name", "save_checkpoint", "voxelize",
]
