"""Perception providers: what the agent calls each step to see (DESIGN.md, "Perception provider").

A provider turns an :class:`~envs.event.Event` into :class:`~perception.detections.Detections` and keeps a
:class:`~perception.memory.SemanticMemory` up to date. ``make_provider(name, **options)`` builds one from the
registry ``PROVIDERS`` (name -> factory); ``gt`` lives here, ``odin`` and ``odin-2d`` are registered by their owners
with :func:`register_provider`. Ablations are options, e.g.
``make_provider("gt", min_pixels=50, memory={"voxel_size": 0.1})``.
"""

from __future__ import annotations

import abc
import importlib
from typing import Any, Callable, Mapping

import numpy as np

from .detections import Detections
from .memory import MemoryConfig, SemanticMemory, memory_from_options

STATE_HINT_KEYS = ("isOpen", "isToggled", "isDirty", "isFilledWithLiquid", "isSliced", "isCooked", "isBroken")
"""Object states a ground-truth provider passes on to the memory as hints."""


class PerceptionProvider(abc.ABC):
    """``reset(episode)``, ``observe(event) -> Detections`` (and a memory update), ``memory``."""

    name = "base"

    def __init__(self, memory: SemanticMemory | MemoryConfig | Mapping | None = None, update_memory: bool = True):
        self.memory = memory if isinstance(memory, SemanticMemory) else memory_from_options(memory)
        self.update_memory = update_memory
        self.steps = 0

    def reset(self, episode: Any = None) -> None:
        """Forget everything seen: a new episode starts with an empty map."""
        self.memory.reset()
        self.steps = 0

    def observe(self, event) -> Detections:
        """Detect objects in ``event`` and (unless ``update_memory`` is off) fuse them into ``memory``."""
        detections = self.detect(event)
        self.steps += 1
        if self.update_memory:
            self.memory.update(event, detections)
        return detections

    @abc.abstractmethod
    def detect(self, event) -> Detections:
        """This step's detections, without touching the memory."""


def segmentation_index_image(event) -> tuple[np.ndarray, list[str]]:
    """(H, W) index image and its index -> objectId table from the segmentation colours (-1 = unknown colour).

    Colours are packed into one int so a single ``np.unique`` labels the whole frame, which is much cheaper than one
    full-frame comparison per object."""
    index_image = getattr(event, "instance_index", None)
    if index_image is not None:  # the Event's own (H, W) index image, when the backend provides one
        return np.asarray(index_image), list(event.instance_index_names)
    seg = np.asarray(event.instance_segmentation_frame)
    packed = (seg[..., 0].astype(np.int32) << 16) | (seg[..., 1].astype(np.int32) << 8) | seg[..., 2].astype(np.int32)
    colours, inverse = np.unique(packed.reshape(-1), return_inverse=True)
    names: list[str] = []
    table = np.full(len(colours), -1, dtype=np.int32)
    for k, value in enumerate(colours.tolist()):
        object_id = event.color_to_object_id.get(((value >> 16) & 255, (value >> 8) & 255, value & 255))
        if object_id is not None:
            table[k] = len(names)
            names.append(object_id)
    return table[inverse].reshape(packed.shape), names


class GroundTruthProvider(PerceptionProvider):
    """Detections read from the simulator: one mask per objectId in the instance segmentation, its ``objectType`` from
    the metadata, score 1, the objectId as instance id and the object's state flags as hints. Structure (walls, floor,
    ceiling: ids not among ``metadata["objects"]``) and masks under ``min_pixels`` pixels are skipped."""

    name = "gt"

    def __init__(self, min_pixels: int = 1, include_states: bool = True, include_held: bool = False,
                 memory: SemanticMemory | MemoryConfig | Mapping | None = None, update_memory: bool = True):
        super().__init__(memory=memory, update_memory=update_memory)
        if min_pixels < 1:
            raise ValueError(f"min_pixels must be >= 1, got {min_pixels}")
        self.min_pixels = int(min_pixels)
        self.include_states = include_states
        self.include_held = include_held

    def detect(self, event) -> Detections:
        objects = {o["objectId"]: o for o in event.metadata.get("objects", [])}
        if event.instance_segmentation_frame is not None or getattr(event, "instance_index", None) is not None:
            labels, names = segmentation_index_image(event)
            masks_by_id = {name: labels == k for k, name in enumerate(names) if name in objects}
        else:
            masks_by_id = {oid: np.asarray(m, dtype=bool) for oid, m in event.instance_masks.items() if oid in objects}
        held = {o.get("objectId") for o in event.metadata.get("inventoryObjects") or []}
        chosen = [oid for oid in sorted(masks_by_id)
                  if masks_by_id[oid].sum() >= self.min_pixels and (self.include_held or oid not in held)]
        if not chosen:
            height, width = self._frame_shape(event)
            return Detections.empty(height, width)
        states = None
        if self.include_states:
            states = [{k: objects[oid][k] for k in STATE_HINT_KEYS if k in objects[oid]} for oid in chosen]
        return Detections(
            masks=np.stack([masks_by_id[oid] for oid in chosen]),
            class_names=[objects[oid]["objectType"] for oid in chosen],
            scores=np.ones(len(chosen), dtype=np.float32),
            instance_ids=chosen,
            states=states,
        )

    @staticmethod
    def _frame_shape(event) -> tuple[int, int]:
        for image in (event.depth_frame, event.frame, event.instance_segmentation_frame):
            if image is not None:
                return int(image.shape[0]), int(image.shape[1])
        raise ValueError("event has no frame, depth_frame or instance_segmentation_frame to take the frame size from")


ProviderFactory = Callable[..., PerceptionProvider]
PROVIDERS: dict[str, ProviderFactory] = {"gt": GroundTruthProvider}
"""Provider registry, name -> factory(**options). ``odin`` and ``odin-2d`` are added with :func:`register_provider`."""


def register_provider(name: str, factory: ProviderFactory, replace: bool = False) -> None:
    """Make ``make_provider(name, ...)`` call ``factory``; re-registering a name needs ``replace=True``."""
    if not name or not isinstance(name, str):
        raise ValueError(f"provider name must be a non-empty string, got {name!r}")
    if name in PROVIDERS and not replace and PROVIDERS[name] is not factory:
        raise ValueError(f"provider {name!r} is already registered; pass replace=True to override it")
    PROVIDERS[name] = factory


LAZY_PROVIDERS = {"odin": "perception.odin_provider", "odin-2d": "perception.odin_provider"}
"""Providers whose module is imported on first use."""


def make_provider(name: str = "gt", **options) -> PerceptionProvider:
    """Build the provider registered as ``name`` with ``options`` (ablations are options, not new names)."""
    if name not in PROVIDERS and name in LAZY_PROVIDERS:
        importlib.import_module(LAZY_PROVIDERS[name])  # registers itself; keeps torch out of gt-only runs
    if name not in PROVIDERS:
        raise ValueError(f"unknown perception provider {name!r}; registered: {sorted(PROVIDERS)}")
    return PROVIDERS[name](**options)


__all__ = ["Detections", "GroundTruthProvider", "PerceptionProvider", "PROVIDERS", "make_provider",
           "register_provider", "segmentation_index_image", "STATE_HINT_KEYS"]
