"""The embedded AI2-THOR-compatible simulator: procedural rooms, AI2-THOR actions and state changes, MuJoCo rendering."""

from .env import EmbeddedEnv

__all__ = ["EmbeddedEnv"]
