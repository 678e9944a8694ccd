"""The ``Event`` both backends return from ``step``: AI2-THOR's field names and meanings (``ai2thor/server.py``).

* ``frame``: (H, W, 3) uint8 RGB, row 0 at the top.
* ``depth_frame``: (H, W) float32 planar depth in metres (None if depth is off).
* ``instance_segmentation_frame``: (H, W, 3) uint8, one colour per object; ``object_id_to_color`` and
  ``color_to_object_id`` map between colours (tuples) and objectIds; ``instance_masks`` {objectId: (H, W) bool} and
  ``instance_detections2D`` {objectId: [x1, y1, x2, y2]} (inclusive pixel box) are derived from it lazily.
* ``metadata``: AI2-THOR's metadata dict (``agent``, ``objects``, ``lastActionSuccess``, ``errorMessage``, ...).
* ``instance_index`` and ``instance_index_names`` (ours, optional): an (H, W) int image of indices into
  ``instance_index_names`` (-1 = nothing), the same segmentation as ``instance_segmentation_frame`` in a form that
  needs no colour lookup; a backend that renders one hands it over, and masks are then read from it.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import numpy as np


class _LazyMasks(Mapping):
    """{objectId: bool mask} computed on first access per id, like ai2thor 5.0's lazy instance_masks."""

    def __init__(self, event: "Event"):
        self._event = event
        self._cache: dict[str, np.ndarray] = {}
        self._ids: list[str] | None = None

    def _present_ids(self) -> list[str]:
        if self._ids is None:
            self._ids = self._event._present_object_ids()
        return self._ids

    def __getitem__(self, object_id: str) -> np.ndarray:
        if object_id not in self._cache:
            if object_id not in self._present_ids():
                raise KeyError(object_id)
            self._cache[object_id] = self._event._mask_of(object_id)
        return self._cache[object_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._present_ids())

    def __len__(self) -> int:
        return len(self._present_ids())


class Event:
    """One observation + metadata, as ``ai2thor.server.Event`` exposes it."""

    def __init__(
        self,
        metadata: dict,
        frame: np.ndarray | None = None,
        depth_frame: np.ndarray | None = None,
        instance_segmentation_frame: np.ndarray | None = None,
        object_id_to_color: Mapping[str, tuple] | None = None,
        instance_index: np.ndarray | None = None,
        instance_index_names: list[str] | None = None,
    ):
        self.metadata = metadata
        self.frame = frame
        self.depth_frame = depth_frame
        self.instance_segmentation_frame = instance_segmentation_frame
        self.object_id_to_color: dict[str, tuple] = dict(object_id_to_color or {})
        self.color_to_object_id: dict[tuple, str] = {tuple(c): o for o, c in self.object_id_to_color.items()}
        self.instance_index = instance_index
        self.instance_index_names = instance_index_names
        self._name_index: dict[str, int] | None = None
        self._masks = _LazyMasks(self)
        self._detections: dict[str, list[int]] | None = None

    # --- AI2-THOR's conveniences -------------------------------------------------------------------------------------
    def __bool__(self) -> bool:
        return bool(self.metadata.get("lastActionSuccess", False))

    def __repr__(self) -> str:
        m = self.metadata
        return f"<Event {m.get('sceneName')} {m.get('lastAction')} success={m.get('lastActionSuccess')}>"

    @property
    def events(self) -> list["Event"]:
        return [self]

    @property
    def cv2img(self) -> np.ndarray | None:
        return None if self.frame is None else self.frame[..., ::-1]

    def get_object(self, object_id: str) -> dict | None:
        for obj in self.metadata.get("objects", []):
            if obj["objectId"] == object_id:
                return obj
        return None

    def objects_by_type(self, object_type: str) -> list[dict]:
        return [o for o in self.metadata.get("objects", []) if o["objectType"] == object_type]

    # --- instance segmentation ------------------------------------------------------------------------------------------
    @property
    def instance_masks(self) -> Mapping[str, np.ndarray]:
        return self._masks

    @property
    def instance_detections2D(self) -> dict[str, list[int]]:
        if self._detections is None:
            boxes = {}
            for oid in self._masks:
                rows, cols = np.nonzero(self._masks[oid])
                boxes[oid] = [int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())]
            self._detections = boxes
        return self._detections

    def object_id_at(self, row: int, col: int) -> str | None:
        """objectId whose segmentation colour is at pixel (row, col), or None."""
        if self.instance_index is not None:
            idx = int(self.instance_index[row, col])
            return None if idx < 0 else self.instance_index_names[idx]
        if self.instance_segmentation_frame is None:
            return None
        return self.color_to_object_id.get(tuple(int(c) for c in self.instance_segmentation_frame[row, col]))

    def _present_object_ids(self) -> list[str]:
        if self.instance_index is not None:
            present = np.unique(self.instance_index)
            return [self.instance_index_names[i] for i in present if i >= 0]
        if self.instance_segmentation_frame is None:
            return []
        flat = self.instance_segmentation_frame.reshape(-1, 3)
        colours = np.unique(flat, axis=0)
        return [self.color_to_object_id[tuple(int(x) for x in c)] for c in colours
                if tuple(int(x) for x in c) in self.color_to_object_id]

    def _mask_of(self, object_id: str) -> np.ndarray:
        if self.instance_index is not None:
            if self._name_index is None:
                self._name_index = {name: i for i, name in enumerate(self.instance_index_names)}
            return self.instance_index == self._name_index[object_id]
        colour = np.array(self.object_id_to_color[object_id], dtype=np.uint8)
        return np.all(self.instance_segmentation_frame == colour, axis=-1)

    def to_dict(self) -> dict[str, Any]:
        """The metadata (JSON-serialisable); frames are left out."""
        return dict(self.metadata)
