"""A TEACh model that misbehaves on purpose, to test how the runners isolate faults
(``python -m agent.run_teach --model agent.fault_injection:FaultyTeachModel --model-args="..."``).

On every instance it takes ``--steps`` actions drawn from a generator seeded by the instance id alone (so an episode
gives the same record whichever worker runs it and whatever ran before), then says Stop. On an instance whose id
contains ``SUBSTRING`` (``--fault SUBSTRING=KIND``, repeatable) it fails at step ``--fault-step`` instead:

- ``raise``: raises RuntimeError (the runner records the exception);
- ``hang``: sleeps for a day (a time limit interrupts it inside the worker);
- ``hang-hard``: blocks SIGALRM first, so only killing the worker ends it;
- ``exit``: ``os._exit(3)``, the worker process dies.

``KIND-once`` fails only the first time that instance is started (remembered by a file in ``--state-dir``), so a
retry succeeds. ``--step-delay S`` sleeps S seconds per step (a slow agent). ``--journal FILE`` appends the id of
every instance started to FILE (to count how often an episode ran, across processes).
"""

from __future__ import annotations

import argparse
import os
import signal
import time
import zlib
from pathlib import Path

import numpy as np

from .teach_model import TeachModel

KINDS = ("raise", "hang", "hang-hard", "exit")
ACTIONS = ("Forward", "Turn Left", "Turn Right", "Look Up", "Look Down", "Pan Left", "Pan Right", "Backward",
           "Pickup", "Open")


def _parse(model_args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="FaultyTeachModel", add_help=False)
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--fault-step", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--step-delay", type=float, default=0.0)
    parser.add_argument("--state-dir")
    parser.add_argument("--journal")
    try:
        args = parser.parse_args(list(model_args))
    except SystemExit:
        raise ValueError(f"FaultyTeachModel: bad model_args {list(model_args)!r}") from None
    faults = {}
    for spec in args.fault:
        substring, _, kind = spec.partition("=")
        base = kind.removesuffix("-once")
        if not substring or base not in KINDS:
            raise ValueError(f"FaultyTeachModel: --fault {spec!r}: expected SUBSTRING=KIND with KIND one of {KINDS} "
                             "(optionally ending in -once)")
        if kind.endswith("-once") and not args.state_dir:
            raise ValueError(f"FaultyTeachModel: --fault {spec!r} needs --state-dir")
        faults[substring] = kind
    args.faults = faults
    return args


class FaultyTeachModel(TeachModel):
    def __init__(self, process_index: int, num_processes: int, model_args: list[str]):
        super().__init__(process_index, num_processes, model_args)
        self.args = _parse(model_args)
        self.fault: str | None = None
        self.rng = np.random.default_rng(0)
        self.steps = 0

    def start_new_edh_instance(self, edh_instance, edh_history_images, edh_name=None) -> bool:
        instance_id = Path(str(edh_name)).name.removesuffix(".json")
        self.rng = np.random.default_rng(zlib.crc32(instance_id.encode()))
        if self.args.journal:
            with open(self.args.journal, "a", encoding="utf-8") as journal:  # one short O_APPEND write per start
                journal.write(instance_id + "\n")
        self.steps = 0
        self.fault = None
        for substring, kind in self.args.faults.items():
            if substring in instance_id:
                self.fault = kind
                if kind.endswith("-once"):
                    self.fault = kind.removesuffix("-once") if self._first_time(instance_id) else None
        return True

    def _first_time(self, instance_id: str) -> bool:
        marker = Path(self.args.state_dir) / f"{instance_id}.started"
        marker.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def get_next_action(self, img, edh_instance, prev_action, img_name=None, edh_name=None):
        self.steps += 1
        if self.args.step_delay:
            time.sleep(self.args.step_delay)
        if self.fault is not None and self.steps == self.args.fault_step:
            self._fail(self.fault)
        if self.steps > self.args.steps:
            return "Stop", None
        action = ACTIONS[int(self.rng.integers(len(ACTIONS)))]
        if action in ("Pickup", "Open"):
            y, x = self.rng.random(2)
            return action, [float(y), float(x)]
        return action, None

    @staticmethod
    def _fail(kind: str) -> None:
        if kind == "raise":
            raise RuntimeError("injected crash")
        if kind == "exit":
            os._exit(3)
        if kind == "hang-hard":
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(86400)


__all__ = ["FaultyTeachModel", "KINDS"]
