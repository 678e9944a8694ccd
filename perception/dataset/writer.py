"""Write posed RGB-D frames with instance ground truth in a ScanNet-like sequence layout.

Per sequence directory (ScanNet's ``SensReader`` export layout, the one ODIN's data loaders read)::

    color/<i>.jpg        RGB
    depth/<i>.png        uint16 planar depth in millimetres, 0 = no depth
    pose/<i>.txt         4x4 camera-to-world: OpenCV camera, right-handed z-up world (envs.camera zup frame)
    intrinsic.txt        4x4 intrinsics, envs.camera.intrinsic_matrix (pixel centres at integer + 0.5)
    instance/<i>.png     uint16 instance index per pixel, 0 = none / structure
    instances.json       instance index -> objectId, objectType, class id; the class vocabulary
    meta.json            scene, split, size, fov, seed, command line, frame count; written last = sequence complete

Instance indices are stable over a sequence (an object keeps its index in every frame), which gives the 3D instance
ground truth once frames are unprojected.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from envs.camera import event_camera_to_world, intrinsic_matrix

from ..providers import segmentation_index_image
from .vocabulary import class_ids, class_vocabulary

DEPTH_SCALE = 1000.0
"""Depth PNG units per metre (millimetres, as ScanNet)."""
META_FILE = "meta.json"
INSTANCES_FILE = "instances.json"


def sequence_is_complete(directory: str | Path) -> bool:
    """True if ``directory`` holds a finished sequence (its ``meta.json`` says so)."""
    meta = Path(directory) / META_FILE
    if not meta.is_file():
        return False
    try:
        return bool(json.loads(meta.read_text()).get("complete"))
    except json.JSONDecodeError:
        return False


def depth_to_png(depth: np.ndarray) -> np.ndarray:
    """Metres -> uint16 millimetres; missing, negative or out-of-range depth becomes 0."""
    millimetres = np.round(np.nan_to_num(np.asarray(depth, dtype=np.float64), nan=0.0, posinf=0.0) * DEPTH_SCALE)
    millimetres[(millimetres < 0) | (millimetres > 65535)] = 0
    return millimetres.astype(np.uint16)


class SequenceWriter:
    """Writes one sequence. An unfinished directory from an interrupted run is cleared first."""

    def __init__(self, directory: str | Path, width: int, height: int, fov: float,
                 vocabulary: tuple[str, ...] | None = None, jpeg_quality: int = 95):
        self.directory = Path(directory)
        if sequence_is_complete(self.directory):
            raise FileExistsError(f"{self.directory} already holds a finished sequence")
        if self.directory.exists():
            shutil.rmtree(self.directory)
        for sub in ("color", "depth", "pose", "instance"):
            (self.directory / sub).mkdir(parents=True)
        self.width, self.height, self.fov = int(width), int(height), float(fov)
        self.vocabulary = tuple(vocabulary or class_vocabulary())
        self._class_ids = class_ids(self.vocabulary)
        self.jpeg_quality = jpeg_quality
        self.instances: dict[str, dict] = {}  # objectId -> {"index", "objectType", "class_id"}
        self.n_frames = 0
        intrinsic = np.eye(4)
        intrinsic[:3, :3] = intrinsic_matrix(self.width, self.height, self.fov)
        np.savetxt(self.directory / "intrinsic.txt", intrinsic, fmt="%.8f")

    def _check(self, event) -> None:
        expected = (self.height, self.width)
        segmentation = ("instance_segmentation_frame" if getattr(event, "instance_index", None) is None
                        else "instance_index")
        for name in ("frame", "depth_frame", segmentation):
            image = getattr(event, name)
            if image is None:
                raise ValueError(f"event.{name} is None: the dataset export needs RGB, depth and instance segmentation")
            if tuple(image.shape[:2]) != expected:
                raise ValueError(f"event.{name} is {tuple(image.shape[:2])}, expected (height, width) = {expected}")
        fov = event.metadata.get("fov")
        if fov is not None and abs(float(fov) - self.fov) > 1e-6:
            raise ValueError(f"event.metadata['fov'] = {fov} but the sequence was opened with fov {self.fov}")

    def _instance_map(self, event) -> np.ndarray:
        labels, names = segmentation_index_image(event)
        objects = {o["objectId"]: o for o in event.metadata.get("objects", [])}
        lookup = np.zeros(len(names) + 1, dtype=np.uint16)  # slot 0 takes label -1 (unknown colour)
        for k, object_id in enumerate(names):
            if object_id not in objects:
                continue  # structure: walls, floor, ceiling
            entry = self.instances.get(object_id)
            if entry is None:
                object_type = objects[object_id]["objectType"]
                entry = {"index": len(self.instances) + 1, "objectType": object_type,
                         "class_id": self._class_ids.get(object_type, 0)}
                if entry["index"] > 65535:
                    raise ValueError(f"{self.directory}: more than 65535 instances do not fit a uint16 instance map")
                self.instances[object_id] = entry
            lookup[k + 1] = entry["index"]
        return lookup[labels + 1]

    def add(self, event) -> int:
        """Write one frame; returns its index."""
        self._check(event)
        i = self.n_frames
        Image.fromarray(np.asarray(event.frame, dtype=np.uint8)).save(
            self.directory / "color" / f"{i}.jpg", quality=self.jpeg_quality)
        cv2.imwrite(str(self.directory / "depth" / f"{i}.png"), depth_to_png(event.depth_frame))
        np.savetxt(self.directory / "pose" / f"{i}.txt", event_camera_to_world(event.metadata, frame="zup"), fmt="%.8f")
        cv2.imwrite(str(self.directory / "instance" / f"{i}.png"), self._instance_map(event))
        self.n_frames += 1
        return i

    def close(self, meta: dict | None = None) -> dict:
        """Write ``instances.json`` then ``meta.json`` (marking the sequence complete); returns the meta."""
        table = {str(e["index"]): {"objectId": oid, "objectType": e["objectType"], "class_id": e["class_id"]}
                 for oid, e in self.instances.items()}
        (self.directory / INSTANCES_FILE).write_text(json.dumps(
            {"instances": table, "vocabulary": list(self.vocabulary)}, indent=1))
        full_meta = dict(meta or {})
        full_meta.update(width=self.width, height=self.height, fov=self.fov, n_frames=self.n_frames,
                         depth_scale=DEPTH_SCALE, pose="camera-to-world, OpenCV camera, z-up right-handed world",
                         pixel_centre_offset=0.5, complete=True)
        (self.directory / META_FILE).write_text(json.dumps(full_meta, indent=1))
        return full_meta
