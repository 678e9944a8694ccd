"""The one place that knows AI2-THOR's camera model.

AI2-THOR (Unity) uses metres, y up and a *left-handed* frame: yaw ``rotation.y`` is clockwise seen from above (0 faces
+z, 90 faces +x), ``cameraHorizon`` is pitch with positive looking down, and ``fieldOfView`` is the *vertical* field of
view of a pinhole camera with square pixels and no distortion (AI2-THOR issue #733, Unity ``Camera.fieldOfView``).
The camera of the default standing agent sits 0.675 m above ``agent.position`` (AI2-THOR issue #954).

Everything else in the project calls these functions instead of re-deriving them. Three frames appear here:

* **thor**: AI2-THOR world coordinates (x, y-up, z), left-handed. Metadata positions are in this frame.
* **zup**: a right-handed, z-up world ``(x, z_thor, y_thor)``; ScanNet-style exports, the renderer (MuJoCo) and the
  perception model use it, because rigid camera poses there have determinant +1.
* **camera (OpenCV)**: x right, y down, z forward along the optical axis; pixel (u, v) = (column, row) from the top left,
  pixel centres at u + 0.5, v + 0.5. Depth is *planar*: the z of this frame, as AI2-THOR's depth shader returns.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

CAMERA_HEIGHT_ABOVE_AGENT = 0.675
"""Camera offset above ``agent.position`` for the standing iTHOR agent (AI2-THOR issue #954)."""

AGENT_Y = 0.9009992
"""``agent.position.y`` of the iTHOR agent standing on a floor at y = 0 (ALFRED ``init_action``)."""

# Maps thor (x, y, z) to zup (x, z, y). It is its own inverse and has determinant -1: it flips handedness.
THOR_TO_ZUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
_CV_TO_UNITY_CAMERA = np.diag([1.0, -1.0, 1.0])  # OpenCV camera (y down) to Unity camera (y up)


def intrinsic_matrix(width: int, height: int, fov: float) -> np.ndarray:
    """3x3 pinhole intrinsics for a ``width`` x ``height`` frame with vertical field of view ``fov`` degrees.

    fy = (H / 2) / tan(fov / 2), fx = fy, cx = W / 2, cy = H / 2 (AI2-THOR, issue #733; the vertical FOV is Unity's).
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got width={width}, height={height}")
    if not 0.0 < fov < 180.0:
        raise ValueError(f"fov must be in (0, 180) degrees, got {fov}")
    focal = (height / 2.0) / math.tan(math.radians(fov) / 2.0)
    return np.array([[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]])


def thor_rotation(yaw: float, horizon: float) -> np.ndarray:
    """Rotation taking Unity camera axes (right, up, forward) to the thor world: R_y(yaw) @ R_x(horizon)."""
    th, h = math.radians(yaw), math.radians(horizon)
    r_y = np.array([[math.cos(th), 0.0, math.sin(th)], [0.0, 1.0, 0.0], [-math.sin(th), 0.0, math.cos(th)]])
    r_x = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(h), -math.sin(h)], [0.0, math.sin(h), math.cos(h)]])
    return r_y @ r_x


def _as_xyz(p) -> np.ndarray:
    if isinstance(p, Mapping):
        return np.array([float(p["x"]), float(p["y"]), float(p["z"])])
    return np.asarray(p, dtype=float).reshape(3)


def camera_position(agent_position, standing: bool = True) -> np.ndarray:
    """Thor-frame camera position for an agent at ``agent_position`` (dict with x, y, z or a 3-vector)."""
    offset = CAMERA_HEIGHT_ABOVE_AGENT if standing else CAMERA_HEIGHT_ABOVE_AGENT - 0.22
    return _as_xyz(agent_position) + np.array([0.0, offset, 0.0])


def camera_to_world_thor(camera_pos, yaw: float, horizon: float) -> np.ndarray:
    """4x4 map from OpenCV camera coordinates to the thor world (determinant -1, the thor world being left-handed)."""
    pose = np.eye(4)
    pose[:3, :3] = thor_rotation(yaw, horizon) @ _CV_TO_UNITY_CAMERA
    pose[:3, 3] = _as_xyz(camera_pos)
    return pose


def camera_to_world_zup(camera_pos, yaw: float, horizon: float) -> np.ndarray:
    """4x4 rigid camera-to-world pose (OpenCV camera, right-handed z-up world): what ScanNet's ``pose/*.txt`` holds."""
    pose = np.eye(4)
    pose[:3, :3] = THOR_TO_ZUP @ thor_rotation(yaw, horizon) @ _CV_TO_UNITY_CAMERA
    pose[:3, 3] = THOR_TO_ZUP @ _as_xyz(camera_pos)
    return pose


def thor_to_zup(points: np.ndarray) -> np.ndarray:
    """Convert (..., 3) thor points to the zup frame."""
    return np.asarray(points)[..., [0, 2, 1]]


def zup_to_thor(points: np.ndarray) -> np.ndarray:
    """Convert (..., 3) zup points to the thor frame."""
    return np.asarray(points)[..., [0, 2, 1]]


def pixel_rays(width: int, height: int, fov: float) -> np.ndarray:
    """(H, W, 3) camera-frame points at planar depth 1 through every pixel centre."""
    k = intrinsic_matrix(width, height, fov)
    u = (np.arange(width) + 0.5 - k[0, 2]) / k[0, 0]
    v = (np.arange(height) + 0.5 - k[1, 2]) / k[1, 1]
    rays = np.empty((height, width, 3))
    rays[..., 0] = u[None, :]
    rays[..., 1] = v[:, None]
    rays[..., 2] = 1.0
    return rays


def unproject_depth(depth: np.ndarray, fov: float, camera_to_world: np.ndarray) -> np.ndarray:
    """Planar depth (H, W) metres -> (H, W, 3) world points in whatever frame ``camera_to_world`` maps into."""
    height, width = depth.shape
    cam = pixel_rays(width, height, fov) * depth[..., None]
    return cam @ camera_to_world[:3, :3].T + camera_to_world[:3, 3]


def project_points(points: np.ndarray, width: int, height: int, fov: float, camera_to_world: np.ndarray):
    """World points (N, 3) -> pixel coordinates (N, 2) as (u, v) continuous, and planar depth (N,).

    The inverse of :func:`unproject_depth`: a point unprojected from pixel centre (u + 0.5, v + 0.5) projects back to
    exactly that centre.
    """
    k = intrinsic_matrix(width, height, fov)
    rot, trans = camera_to_world[:3, :3], camera_to_world[:3, 3]
    cam = (np.asarray(points, dtype=float) - trans) @ np.linalg.inv(rot).T
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = k[0, 0] * cam[:, 0] / z + k[0, 2]
        v = k[1, 1] * cam[:, 1] / z + k[1, 2]
    return np.stack([u, v], axis=1), z


def event_camera_to_world(metadata: Mapping, frame: str = "zup") -> np.ndarray:
    """Camera pose of an Event's metadata (``cameraPosition``, ``agent.rotation.y``, ``agent.cameraHorizon``)."""
    agent = metadata["agent"]
    cam = metadata.get("cameraPosition") or camera_position(agent["position"], agent.get("isStanding", True))
    yaw = float(agent["rotation"]["y"])
    horizon = float(agent["cameraHorizon"])
    if frame == "zup":
        return camera_to_world_zup(cam, yaw, horizon)
    if frame == "thor":
        return camera_to_world_thor(cam, yaw, horizon)
    raise ValueError(f"frame must be 'zup' or 'thor', got {frame!r}")
