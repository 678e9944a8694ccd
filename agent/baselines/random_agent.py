"""A random TEACh driver: the floor any model should beat (``--model agent.baselines.random_agent:RandomTeachModel``).

Each step it picks uniformly among TEACh's 16 driver actions (``inference/actions.py``, Stop excluded) and, for object
actions, clicks a uniformly random point, returned row first ``[y, x]`` as TEACh's runner reads it. It stops on its
own at the ``--max-steps``-th request, so its trajectory, Stop included, is never longer than ``--max-steps``.

Model arguments: ``--seed N`` (default 0; process ``i`` of a multi-process run uses the stream ``(N, i)``) and
``--max-steps N`` (default 100).
"""

from __future__ import annotations

import argparse

import numpy as np

from agent.teach_model import TeachModel

DRIVER_ACTIONS = ("Forward", "Backward", "Turn Left", "Turn Right", "Look Up", "Look Down", "Pan Left", "Pan Right",
                  "Pickup", "Place", "Open", "Close", "ToggleOn", "ToggleOff", "Slice", "Pour")
OBJECT_ACTIONS = frozenset(("Pickup", "Place", "Open", "Close", "ToggleOn", "ToggleOff", "Slice", "Pour"))


def _parse(model_args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="RandomTeachModel", add_help=False)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=100)
    try:
        args = parser.parse_args(list(model_args))
    except SystemExit:  # argparse exits on bad input; a library should raise
        raise ValueError(f"RandomTeachModel: bad model_args {list(model_args)!r}; accepted: --seed N, --max-steps N") \
            from None
    if args.max_steps < 1:
        raise ValueError(f"RandomTeachModel: --max-steps must be >= 1, got {args.max_steps}")
    return args


class RandomTeachModel(TeachModel):
    def __init__(self, process_index: int, num_processes: int, model_args: list[str]):
        super().__init__(process_index, num_processes, model_args)
        args = _parse(model_args)
        self.seed = args.seed
        self.max_steps = args.max_steps
        self.rng = np.random.default_rng([args.seed, process_index])
        self.steps = 0

    def start_new_edh_instance(self, edh_instance, edh_history_images, edh_name=None) -> bool:
        self.steps = 0
        return True

    def get_next_action(self, img, edh_instance, prev_action, img_name=None, edh_name=None):
        self.steps += 1
        if self.steps >= self.max_steps:
            return "Stop", None
        action = DRIVER_ACTIONS[int(self.rng.integers(len(DRIVER_ACTIONS)))]
        if action in OBJECT_ACTIONS:
            y, x = self.rng.random(2)
            return action, [float(y), float(x)]
        return action, None


__all__ = ["DRIVER_ACTIONS", "RandomTeachModel"]
