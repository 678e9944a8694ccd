"""Shared fixtures. The environment contract suite runs on every backend listed in ``ENV_BACKENDS`` (default: the
embedded simulator only; add ``ai2thor`` on a machine whose Unity build starts)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

BACKENDS = [b.strip() for b in os.environ.get("ENV_BACKENDS", "embedded").split(",") if b.strip()]


@pytest.fixture(scope="module", params=BACKENDS)
def any_env(request):
    from envs import make_env

    env = make_env(backend=request.param)
    env.reset(scene="FloorPlan1")
    yield env
    env.close()


@pytest.fixture(scope="module")
def kitchen():
    from envs import make_env

    env = make_env()
    env.reset(scene="FloorPlan1")
    yield env
    env.close()
