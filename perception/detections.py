"""Per-step 2D instance detections: what every perception provider's ``observe`` returns.

The layout follows the usual instance-segmentation output (Mask2Former / ODIN ``instances``): N binary masks over the
frame, one class name and one confidence score each. Ground truth adds the simulator objectId of each mask, and a
provider may attach state hints (AI2-THOR's ``isOpen``, ``isToggled``, ...) it could read or predict, and the classes
it hesitated between (``class_scores``: a few class names with their scores, the top class among them), which the
memory fuses over views instead of the top class alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass
class Detections:
    """Instance masks ``(N, H, W)`` bool, ``class_names`` (N), ``scores`` (N) in [0, 1], optional ``instance_ids`` (N;
    e.g. AI2-THOR objectIds, None where unknown), optional ``states`` (N dicts of state hints) and optional
    ``class_scores`` (N dicts {class name: score in [0, 1]}, each holding its detection's class name)."""

    masks: np.ndarray
    class_names: list[str]
    scores: np.ndarray
    instance_ids: list[str | None] | None = None
    states: list[dict] | None = field(default=None)
    class_scores: list[dict[str, float]] | None = field(default=None)

    def __post_init__(self) -> None:
        self.masks = np.asarray(self.masks)
        if self.masks.ndim != 3:
            raise ValueError(f"Detections.masks must be (N, H, W), got shape {self.masks.shape}")
        if self.masks.dtype != bool:
            self.masks = self.masks.astype(bool)
        self.class_names = list(self.class_names)
        self.scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        count = self.masks.shape[0]
        for name, value in (("class_names", self.class_names), ("scores", self.scores),
                            ("instance_ids", self.instance_ids), ("states", self.states),
                            ("class_scores", self.class_scores)):
            if value is not None and len(value) != count:
                raise ValueError(f"Detections.{name} has {len(value)} entries for {count} masks")
        if self.instance_ids is not None:
            self.instance_ids = list(self.instance_ids)
        if self.states is not None:
            self.states = [dict(s or {}) for s in self.states]
        if self.class_scores is not None:
            self.class_scores = [{str(k): float(v) for k, v in (c or {}).items()} for c in self.class_scores]
            for k, (name, candidates) in enumerate(zip(self.class_names, self.class_scores)):
                if name not in candidates:
                    raise ValueError(f"Detections.class_scores[{k}] must include the detection's class {name!r}")
                if any(not 0.0 <= v <= 1.0 for v in candidates.values()):
                    raise ValueError(f"Detections.class_scores[{k}]: scores must be in [0, 1]")

    def __len__(self) -> int:
        return self.masks.shape[0]

    @property
    def frame_shape(self) -> tuple[int, int]:
        return int(self.masks.shape[1]), int(self.masks.shape[2])

    @classmethod
    def empty(cls, height: int, width: int) -> "Detections":
        return cls(np.zeros((0, height, width), dtype=bool), [], np.zeros(0, dtype=np.float32))

    def select(self, keep: Sequence[int] | np.ndarray) -> "Detections":
        """The detections at indices (or boolean selector) ``keep``, in that order."""
        index = np.arange(len(self))[np.asarray(keep)] if len(self) else np.zeros(0, dtype=int)
        return Detections(
            masks=self.masks[index],
            class_names=[self.class_names[i] for i in index],
            scores=self.scores[index],
            instance_ids=None if self.instance_ids is None else [self.instance_ids[i] for i in index],
            states=None if self.states is None else [self.states[i] for i in index],
            class_scores=None if self.class_scores is None else [self.class_scores[i] for i in index],
        )

    def candidates(self, index: int) -> dict[str, float]:
        """{class name: score} of detection ``index``: its ``class_scores``, or its one class and score."""
        if self.class_scores is not None:
            return dict(self.class_scores[index])
        return {self.class_names[index]: float(self.scores[index])}

    def filter_by_score(self, min_score: float) -> "Detections":
        """Keep detections whose score is at least ``min_score``."""
        return self.select(self.scores >= min_score)

    def of_class(self, class_name: str) -> "Detections":
        return self.select(np.array([c == class_name for c in self.class_names], dtype=bool))

    def to_label_image(self) -> np.ndarray:
        """(H, W) int32 label image: 0 = no detection, i + 1 = detection i. Where masks overlap the higher score wins
        (ties: the earlier detection), as in panoptic merging of instance outputs."""
        height, width = self.frame_shape
        labels = np.zeros((height, width), dtype=np.int32)
        # Paint lowest score first so that higher scores overwrite it; stable sort keeps earlier-wins for ties.
        order = np.argsort(-self.scores, kind="stable")[::-1]
        for i in order:
            labels[self.masks[i]] = i + 1
        return labels

    @classmethod
    def from_label_image(cls, labels: np.ndarray, class_names: Sequence[str], scores: Sequence[float] | None = None,
                         instance_ids: Sequence[str | None] | None = None) -> "Detections":
        """Inverse of :meth:`to_label_image`: label k (1-based) becomes mask k - 1 with ``class_names[k - 1]``.

        Labels with no pixels still give an (empty) mask, so the table lines up with the labels."""
        labels = np.asarray(labels)
        if labels.ndim != 2:
            raise ValueError(f"label image must be (H, W), got shape {labels.shape}")
        count = len(class_names)
        if labels.size and (labels.min() < 0 or labels.max() > count):
            raise ValueError(f"label image holds labels up to {int(labels.max())} but only {count} class names given")
        masks = labels[None, :, :] == np.arange(1, count + 1)[:, None, None]
        return cls(masks, list(class_names), np.ones(count) if scores is None else scores,
                   None if instance_ids is None else list(instance_ids))
