"""Read a sequence written by :mod:`perception.dataset.writer` (ScanNet-like layout) into arrays.

Depth is returned in metres, poses as 4x4 camera-to-world in the zup frame, and world points are unprojected with
``envs.camera.unproject_depth`` (pixel centres at integer + 0.5), the same camera model that wrote the data, so
``world_points`` reproduces the simulator's geometry up to the millimetre depth quantisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from envs.camera import intrinsic_matrix, unproject_depth
from envs.jsonfile import read_json

from .writer import DEPTH_SCALE, INSTANCES_FILE, META_FILE


def _read_png16(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"cannot read image {path}")
    if image.dtype != np.uint16 or image.ndim != 2:
        raise ValueError(f"{path}: expected a single-channel uint16 PNG, got {image.dtype} {image.shape}")
    return image


def _read_matrix(path: Path) -> np.ndarray:
    try:
        matrix = np.loadtxt(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read a 4x4 matrix ({exc})") from None
    if matrix.shape != (4, 4):
        raise ValueError(f"{path}: expected a 4x4 matrix, got shape {matrix.shape}")
    return matrix


@dataclass
class ScanNetSequence:
    """One loaded sequence. Arrays are stacked over frames T."""

    directory: Path
    meta: dict
    color: np.ndarray | None  # (T, H, W, 3) uint8 RGB, None if not loaded
    depth: np.ndarray  # (T, H, W) float32 metres, 0 = no depth
    poses: np.ndarray  # (T, 4, 4) camera-to-world, zup
    intrinsic: np.ndarray  # (4, 4)
    instance: np.ndarray  # (T, H, W) int32 instance index, 0 = none
    instances: dict[int, dict]  # index -> {"objectId", "objectType", "class_id"}
    vocabulary: list[str]

    def __len__(self) -> int:
        return len(self.depth)

    @property
    def fov(self) -> float:
        return float(self.meta["fov"])

    def world_points(self, frame: int) -> np.ndarray:
        """(H, W, 3) zup world points of ``frame`` (pixels without depth land on the camera centre; mask with
        ``depth[frame] > 0``)."""
        return unproject_depth(self.depth[frame], self.fov, self.poses[frame])

    def masks(self, frame: int) -> dict[int, np.ndarray]:
        """{instance index: (H, W) bool} of the instances visible in ``frame``."""
        present = np.unique(self.instance[frame])
        return {int(k): self.instance[frame] == k for k in present if k != 0}

    def semantic(self, frame: int) -> np.ndarray:
        """(H, W) class id per pixel (0 = none), through the instance table."""
        lookup = np.zeros(int(self.instance.max(initial=0)) + 1, dtype=np.int32)
        for index, entry in self.instances.items():
            if index < len(lookup):
                lookup[index] = entry["class_id"]
        return lookup[self.instance[frame]]


def _read_colour(directory: Path, frame: int) -> np.ndarray:
    path = directory / "color" / f"{frame}.jpg"
    if not path.is_file():
        raise FileNotFoundError(f"cannot read image {path}")
    return np.asarray(Image.open(path).convert("RGB"))


def _read_instance(directory: Path, frame: int) -> np.ndarray:
    return _read_png16(directory / "instance" / f"{frame}.png").astype(np.int32)


def read_frame(directory: str | Path, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """One frame's full-resolution colour (H, W, 3) uint8 RGB and instance indices (H, W) int32 of a written
    sequence, without loading the rest (zoom crops read them during training)."""
    directory = Path(directory)
    instance, colour = _read_instance(directory, frame), _read_colour(directory, frame)
    if colour.shape[:2] != instance.shape:
        raise ValueError(f"{directory / 'color' / f'{frame}.jpg'}: {colour.shape[:2]} pixels, its instance image "
                         f"{instance.shape}")
    return colour, instance


def load_sequence(directory: str | Path, load_color: bool = True) -> ScanNetSequence:
    """Load a finished sequence; a missing or inconsistent file raises an error naming it."""
    directory = Path(directory)
    meta = read_json(directory / META_FILE)
    for key in ("width", "height", "fov", "n_frames"):
        if key not in meta:
            raise ValueError(f"{directory / META_FILE}: missing field {key!r}")
    if not meta.get("complete"):
        raise ValueError(f"{directory / META_FILE}: the sequence is not complete")
    table = read_json(directory / INSTANCES_FILE)
    if "instances" not in table or "vocabulary" not in table:
        raise ValueError(f"{directory / INSTANCES_FILE}: needs fields 'instances' and 'vocabulary'")
    width, height, fov = int(meta["width"]), int(meta["height"]), float(meta["fov"])
    intrinsic = _read_matrix(directory / "intrinsic.txt")
    if not np.allclose(intrinsic[:3, :3], intrinsic_matrix(width, height, fov), atol=1e-4):
        raise ValueError(f"{directory / 'intrinsic.txt'} does not match width={width}, height={height}, fov={fov} "
                         f"of {directory / META_FILE}")
    frames = range(int(meta["n_frames"]))
    if not frames:
        raise ValueError(f"{directory / META_FILE}: n_frames is 0, nothing to load")
    depth = np.stack([_read_png16(directory / "depth" / f"{i}.png") for i in frames]).astype(np.float32) / DEPTH_SCALE
    instance = np.stack([_read_instance(directory, i) for i in frames])
    poses = np.stack([_read_matrix(directory / "pose" / f"{i}.txt") for i in frames])
    color = None
    if load_color:
        color = np.stack([_read_colour(directory, i) for i in frames])
    if depth.shape[1:] != (height, width):
        raise ValueError(f"{directory / 'depth'}: frames are {depth.shape[1:]}, meta says {(height, width)}")
    return ScanNetSequence(
        directory=directory, meta=meta, color=color, depth=depth, poses=poses, intrinsic=intrinsic, instance=instance,
        instances={int(k): v for k, v in table["instances"].items()}, vocabulary=list(table["vocabulary"]),
    )
