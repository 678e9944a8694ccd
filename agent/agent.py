"""The dialogue-following agent: plan once from the dialogue, then execute the program step by step.

``DialogueAgent(planner)`` is an :class:`~agent.base.EpisodeAgent`: ``start`` turns the episode's dialogue into a
:class:`~agent.program.Program` with the planner (``agent.planner.RetrievalPlanner`` by default), ``act`` feeds each
observation to the :class:`~agent.executor.Executor`'s generator and returns the action it yields, and ``Stop``
when the program is done.
"""

from __future__ import annotations

from typing import Callable

from .base import EpisodeAgent, EpisodeInput
from .executor import Executor, ExecutorConfig
from .observation import AgentAction, Observation
from .program import Program


class DialogueAgent(EpisodeAgent):
    name = "dialogue"

    def __init__(self, planner, executor_config: ExecutorConfig | None = None,
                 program_hook: Callable[[Program], None] | None = None):
        self.planner = planner
        self.executor_config = executor_config or ExecutorConfig()
        self.program_hook = program_hook
        self.program: Program | None = None
        self.executor: Executor | None = None
        self._steps = None
        self._started = False
        self.plan_error: str | None = None

    def start(self, episode: EpisodeInput) -> None:
        self.plan_error = None
        self.program = self.planner.plan(episode.dialogue)
        if self.program_hook is not None:
            self.program_hook(self.program)
        self.executor = Executor(self.program, self.executor_config)
        self._steps = self.executor.run()
        self._started = False

    def act(self, observation: Observation) -> AgentAction:
        if self._steps is None:
            return AgentAction("Stop")
        try:
            if not self._started:
                self._started = True
                self.executor.observe(observation)
                action = next(self._steps)
            else:
                action = self._steps.send(observation)
        except StopIteration:
            self._steps = None
            return AgentAction("Stop")
        return action

    def report(self) -> dict:
        out: dict = {}
        if self.program is not None:
            out["program"] = [str(s) for s in self.program.steps]
            if self.program.intent is not None:
                out["intent"] = {"family": self.program.intent.family, "params": self.program.intent.params}
        if self.executor is not None:
            out["failed_by_action"] = dict(self.executor.failed_actions)
            out["skills"] = [{"skill": r.skill, "ok": r.ok, "steps": r.steps, "message": r.message}
                             for r in self.executor.records]
            out["trace"] = list(self.executor.trace)  # the executor's step-stamped decisions, for debugging
        return out


__all__ = ["DialogueAgent"]
