"""The interface between the runner and an agent (the shape of Habitat's ``Agent`` and TEACh's ``TeachModel``).

The runner calls :meth:`EpisodeAgent.start` once per episode with an :class:`EpisodeInput` (what TEACh gives a model:
the dialogue, for EDH the history; never the task, the final state or the expert's future actions), then
:meth:`EpisodeAgent.act` once per step with an :class:`~agent.observation.Observation`, until the agent returns
``AgentAction("Stop")``, the step limit (1,000) or the failed-action limit (30) is reached.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from .observation import AgentAction, Observation



@dataclass
class EpisodeInput:
    mode: str
    """``"tfd"`` or ``"edh"``."""
    instance_id: str
    game_id: str
    dialogue: list[tuple[str, str]]
    """(speaker, utterance) in order; speakers are ``"Commander"`` and ``"Driver"``."""
    history_actions: list[str] = field(default_factory=list)
    """EDH: the TEACh action names already taken (the runner replays them before the agent's first step)."""
    instance: dict = field(default_factory=dict)
    """The instance JSON, less the fields kept for scoring (the runner strips them; for plug-ins written against
    TEACh's runner)."""
    history_frames: list[Any] = field(default_factory=list)
    """EDH: the (H, W, 3) RGB frames of the history, oldest first (TfD: empty)."""
    path: str = ""


class EpisodeAgent(abc.ABC):
    """An agent the runner can drive."""

    name = "agent"

    @abc.abstractmethod
    def start(self, episode: EpisodeInput) -> None:
        """Forget the previous episode and read this one's dialogue."""

    @abc.abstractmethod
    def act(self, observation: Observation) -> AgentAction:
        """The next action for this observation (``AgentAction("Stop")`` to end)."""

    def report(self) -> dict:
        """Anything worth writing to the episode's result line (the program, skill outcomes); JSON-serialisable."""
        return {}

    def close(self) -> None:
        """Release resources."""





class InvalidAction(ValueError):
    """An agent asked for an action the runner cannot send (an unknown name, a click outside the frame). TEACh counts
    such a request as a failed API action; the runner does the same and goes on."""
__all__ = ["EpisodeAgent", "EpisodeInput", "InvalidAction"]
