"""The world: the ``Env`` protocol (AI2-THOR's API), the ontology, the camera model and the backends.

>>> from envs import make_env
>>> with make_env() as env:                     # the embedded simulator, 300x300, fov 90
...     event = env.reset(scene="FloorPlan1")
...     event = env.step(action="MoveAhead")

Other packages build environments only through :func:`make_env`.
"""

from __future__ import annotations

from .base import Env
from .event import Event

BACKENDS = ("embedded", "ai2thor")


def make_env(backend: str = "embedded", width: int = 300, height: int = 300, fov: float = 90, seed: int = 0,
             **backend_options) -> Env:
    """Build an environment. ``backend`` is ``"embedded"`` (default, our MuJoCo-rendered simulator) or ``"ai2thor"``
    (the real Unity simulator, through the optional ``ai2thor`` package)."""
    if backend == "embedded":
        from .embedded import EmbeddedEnv

        return EmbeddedEnv(width=width, height=height, fov=fov, seed=seed, **backend_options)
    if backend == "ai2thor":
        from .ai2thor_backend import AI2ThorEnv

        return AI2ThorEnv(width=width, height=height, fov=fov, seed=seed, **backend_options)
    raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")


__all__ = ["Env", "Event", "make_env", "BACKENDS"]
