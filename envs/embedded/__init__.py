"""The embedded AI2-THOR-compatible simulator: procedural rooms, AI2-THOR actions and state changes, MuJoCo rendering.

MuJoCo picks its OpenGL backend from ``MUJOCO_GL`` when it is first imported; this package is the only one that
imports MuJoCo, so this is the one place that sets the default: headless EGL, unless the caller chose otherwise.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

from .env import EmbeddedEnv  # noqa: E402

__all__ = ["EmbeddedEnv"]
