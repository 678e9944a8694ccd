"""Perception: ODIN (``perception.odin``), perception providers (``gt``, ``odin``, ``odin-2d``), the 3D semantic memory,
and segmentation dataset export. ``perception`` may import ``envs`` only (DESIGN.md)."""

from .detections import Detections
from .memory import MemoryConfig, SemanticMemory
from .providers import PROVIDERS, GroundTruthProvider, PerceptionProvider, make_provider, register_provider

__all__ = ["Detections", "MemoryConfig", "SemanticMemory", "PROVIDERS", "GroundTruthProvider", "PerceptionProvider",
           "make_provider", "register_provider"]
