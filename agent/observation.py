"""What the agent sees each step, and what it sends back (DESIGN.md, "What the agent sees").

The runner builds an :class:`Observation` from the simulator's event and the perception provider's output. It copies
the egocentric frames, the camera pose and intrinsics (``envs.camera``), the types of the held objects, and the last
action's outcome; it never copies ``metadata["objects"]``, reachable positions or object ids, so an agent holding an
Observation cannot read the simulator's state. Only the ``gt`` provider reads that, as the named ground-truth ablation.

An :class:`AgentAction` is one action in TEACh's driver action space, named as AI2-THOR names it (``MoveAhead``,
``PickupObject`` ...) with a click ``(x, y)`` (column and row fractions of the frame) for object interactions, or
``Stop``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from envs.camera import CAMERA_HEIGHT_ABOVE_AGENT, event_camera_to_world, intrinsic_matrix

MOTION_ACTIONS = ("MoveAhead", "MoveBack", "MoveLeft", "MoveRight", "RotateLeft", "RotateRight", "LookUp", "LookDown")
OBJECT_ACTIONS = ("PickupObject", "PutObject", "OpenObject", "CloseObject", "ToggleObjectOn", "ToggleObjectOff",
                  "SliceObject", "Pour")
STOP = "Stop"

TEACH_NAMES = {"MoveAhead": "Forward", "MoveBack": "Backward", "RotateLeft": "Turn Left", "RotateRight": "Turn Right",
               "LookUp": "Look Up", "LookDown": "Look Down", "MoveLeft": "Pan Left", "MoveRight": "Pan Right",
               "PickupObject": "Pickup", "PutObject": "Place", "OpenObject": "Open", "CloseObject": "Close",
               "ToggleObjectOn": "ToggleOn", "ToggleObjectOff": "ToggleOff", "SliceObject": "Slice", "Pour": "Pour",
               STOP: "Stop"}
"""AI2-THOR action -> TEACh driver action name (TEACh ``inference/actions.py``, ``simulator_THOR.apply_motion``)."""
THOR_NAMES = {teach: thor for thor, teach in TEACH_NAMES.items()}


@dataclass(frozen=True)
class AgentAction:
    name: str
    x: float | None = None
    y: float | None = None

    def __post_init__(self) -> None:
        if self.name not in TEACH_NAMES:
            raise ValueError(f"AgentAction.name: unknown action {self.name!r}; expected one of {sorted(TEACH_NAMES)}")
        if self.name in OBJECT_ACTIONS:
            if self.x is None or self.y is None:
                raise ValueError(f"AgentAction: {self.name} needs a click x, y")
            if not (0.0 <= self.x <= 1.0 and 0.0 <= self.y <= 1.0):
                raise ValueError(f"AgentAction: click ({self.x}, {self.y}) outside [0, 1]")

    @property
    def teach_name(self) -> str:
        return TEACH_NAMES[self.name]

    @property
    def is_object_action(self) -> bool:
        return self.name in OBJECT_ACTIONS

    def thor_args(self) -> dict[str, Any]:
        return {"x": float(self.x), "y": float(self.y)} if self.is_object_action else {}

    def to_record(self) -> list:
        """``[teach name, x, y]`` as stored in ``pred_actions`` (x, y None for motions)."""
        return [self.teach_name, None if self.x is None else round(float(self.x), 4),
                None if self.y is None else round(float(self.y), 4)]

    @classmethod
    def from_teach(cls, teach_name: str, x: float | None = None, y: float | None = None) -> "AgentAction":
        if teach_name not in THOR_NAMES:
            raise ValueError(f"unknown TEACh action {teach_name!r}; expected one of {sorted(THOR_NAMES)}")
        return cls(THOR_NAMES[teach_name], x, y)


@dataclass
class Observation:
    """One step's view. Frames are (H, W, 3) uint8 RGB and (H, W) float32 planar depth in metres; ``camera_to_world``
    maps OpenCV camera coordinates to the thor world (``envs.camera``); ``agent_position`` is the body position
    (thor frame), the camera sitting ``CAMERA_HEIGHT_ABOVE_AGENT`` above it."""

    rgb: np.ndarray
    depth: np.ndarray
    camera_to_world: np.ndarray
    intrinsics: np.ndarray
    fov: float
    agent_position: np.ndarray
    yaw: float
    horizon: float
    held: tuple[str, ...]
    last_action_success: bool
    last_error: str
    step: int
    detections: Any = None
    memory: Any = None

    @property
    def width(self) -> int:
        return int(self.depth.shape[1])

    @property
    def height(self) -> int:
        return int(self.depth.shape[0])

    @property
    def camera_position(self) -> np.ndarray:
        return self.camera_to_world[:3, 3]


_OBJECT_ID = re.compile(r"\b([A-Z][A-Za-z]*)\|[-+0-9.|A-Za-z_]*")


def scrub_object_ids(message: str) -> str:
    """AI2-THOR's error messages name objects by id (``Cabinet|+01.00|+00.00|-02.00 must be open``); the agent gets
    the type only (``Cabinet must be open``), so an error message cannot leak the simulator's object ids."""
    return _OBJECT_ID.sub(lambda m: m.group(1), message)


def held_types(metadata: dict) -> tuple[str, ...]:
    """Types of what the agent holds (the agent knows what is in its hand, not the object's id)."""
    out = []
    for item in metadata.get("inventoryObjects") or []:
        kind = item.get("objectType") or str(item.get("objectId", "")).split("|")[0]
        if "Sliced" in str(item.get("objectId", "")) and "Sliced" not in kind:
            kind = str(item["objectId"]).rsplit("|", 1)[-1].split("_")[0]
        out.append(kind)
    return tuple(out)


def build_observation(event, step: int, detections=None, memory=None) -> Observation:
    """The agent's view of ``event``: frames, pose, held types, last outcome; nothing of the simulator's state."""
    metadata = event.metadata
    depth = np.asarray(event.depth_frame, dtype=np.float32)
    height, width = depth.shape
    fov = float(metadata["fov"])
    pose = event_camera_to_world(metadata, frame="thor")
    agent = metadata["agent"]
    position = pose[:3, 3] - np.array([0.0, CAMERA_HEIGHT_ABOVE_AGENT, 0.0])
    return Observation(
        rgb=np.asarray(event.frame), depth=depth, camera_to_world=pose, intrinsics=intrinsic_matrix(width, height, fov),
        fov=fov, agent_position=position, yaw=float(agent["rotation"]["y"]) % 360.0,
        horizon=float(agent["cameraHorizon"]), held=held_types(metadata),
        last_action_success=bool(metadata.get("lastActionSuccess", True)),
        last_error=scrub_object_ids(str(metadata.get("errorMessage") or "")), step=step, detections=detections, memory=memory)


__all__ = ["AgentAction", "MOTION_ACTIONS", "OBJECT_ACTIONS", "Observation", "STOP", "TEACH_NAMES", "THOR_NAMES",
           "build_observation", "held_types", "scrub_object_ids"]
