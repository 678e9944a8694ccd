"""Shared fixtures. The environment contract suite runs on every backend listed in ``ENV_BACKENDS`` (default: the
embedded simulator only; add ``ai2thor`` on a machine whose Unity build starts)."""

from __future__ import annotations

import os

import pytest

import envs.embedded  # noqa: F401  (sets MUJOCO_GL before any test module imports MuJoCo)

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


@pytest.fixture(scope="session")
def tiny_teach_data(tmp_path_factory):
    """One generated valid_unseen game (seed 0) in TEACh's layout, written once per test session (about 6 s)."""
    from episodes.generate import generate

    root = tmp_path_factory.mktemp("tiny_teach_data")
    summaries = generate(["valid_unseen"], 1, seed=0, out=root, workers=1, progress=False)
    assert all(not s["failed_games"] for s in summaries), summaries
    return root
