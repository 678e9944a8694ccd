"""Ray workers for :func:`parallel.run_jobs`: one Ray actor per worker (an actor is Ray's stateful task: it keeps its
simulator and model between jobs as a local worker process does), one CPU each; every job is an actor task.

``ray="local"`` starts a private single-machine Ray (``workers`` CPUs, default all) and shuts it down afterwards;
``"auto"`` joins the cluster this machine belongs to (``ray start`` was run), anything else is a cluster address
(``HOST:PORT`` or ``ray://HOST:PORT``). When Ray is already initialised in this process it is used as it is. Every
node needs this package installed and the data and output directories at the same paths (shared storage).
A hung job is cancelled by killing its actor; an actor that dies is reported as a dead worker.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager

from .jobs import WorkerInfo, describe, execute, peak_rss_mb


class RayUnavailable(RuntimeError):
    """--ray was asked for but Ray cannot be imported or reached."""


class RayWorker:
    """The actor's class (made remote by :class:`RayBackend`)."""

    def __init__(self, setup, work, teardown, config, info: WorkerInfo, timeout):
        self.setup, self.work, self.teardown, self.config = setup, work, teardown, config
        self.info, self.timeout = info, timeout
        self.state = None

    def start(self):
        import traceback

        try:
            self.state = self.setup(self.config, self.info)
        except BaseException as error:  # noqa: BLE001
            return "setup_failed", f"{describe(error)}\n{traceback.format_exc(limit=8)}"
        return "ready", None

    def run(self, payload):
        status, value, detail = execute(self.work, self.state, payload, self.timeout)
        return status, value, detail, peak_rss_mb()

    def stop(self):
        if self.teardown is not None:
            try:
                self.teardown(self.state)
            except Exception:  # noqa: BLE001
                pass
        return True


@contextmanager
def _environment(**values: str):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def valid_ray_address(address: str) -> bool:
    """``local``, ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``."""
    if address in ("local", "auto"):
        return True
    host, _, port = address.removeprefix("ray://").rpartition(":")
    return bool(host) and port.isdigit()


def import_ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--ray needs Ray: pip install 'odin-teach[distributed]' (or pip install ray)") from None
    return ray


class RayBackend:
    def __init__(self, address: str, setup, work, teardown, config, timeout, workers: int | None):
        ray = self.ray = import_ray()
        self.started_ray = False
        if not ray.is_initialized():
            try:
                if address == "local":
                    # Workers of a private Ray on this machine see the driver's code, installed or not (a checkout,
                    # tests): they inherit the environment of the processes ray.init starts.
                    with _environment(PYTHONPATH=os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))):
                        ray.init(num_cpus=workers or None, include_dashboard=False, log_to_driver=False,
                                 configure_logging=True, logging_level="warning")
                else:
                    ray.init(address=address, log_to_driver=False, logging_level="warning")
            except Exception as error:  # noqa: BLE001 - ConnectionError, ValueError, RuntimeError, ...
                raise RayUnavailable(f"--ray {address}: cannot start or reach Ray: {describe(error)}") from None
            self.started_ray = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = workers or max(1, cpus)
        self.setup, self.work, self.teardown, self.config, self.timeout = setup, work, teardown, config, timeout
        self.actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(RayWorker)
        self.pending: dict = {}  # object ref -> slot

    def start(self, slot):
        actor = self.actor_class.remote(self.setup, self.work, self.teardown, self.config,
                                        WorkerInfo(slot.index, self.workers), self.timeout)
        self.pending[actor.start.remote()] = slot
        return actor

    def submit(self, slot, payload) -> None:
        self.pending[slot.handle.run.remote(payload)] = slot

    def poll(self, slots, wait: float) -> list:
        ray = self.ray
        live = {id(slot) for slot in slots}
        for ref in [r for r, s in self.pending.items() if id(s) not in live]:
            del self.pending[ref]
        if not self.pending:
            time.sleep(min(wait, 0.05))
            return []
        refs = list(self.pending)
        ready, rest = ray.wait(refs, num_returns=1, timeout=wait)
        if ready and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        events = []
        for ref in ready:
            slot = self.pending.pop(ref)
            try:
                answer = ray.get(ref)
            except ray.exceptions.RayError as error:  # the actor died (killed, os._exit, out of memory, node lost)
                events.append((slot, "died", describe(error).splitlines()[0][:200]))
                continue
            if len(answer) == 2:  # the answer of start(): ("ready", None) or ("setup_failed", text)
                events.append((slot, answer[0], answer[1]))
            else:
                events.append((slot, "result", answer))
        return events

    def stop(self, slot, kill: bool) -> None:
        for ref in [r for r, s in self.pending.items() if s is slot]:
            del self.pending[ref]
        if not kill:
            try:
                self.ray.get(slot.handle.stop.remote(), timeout=10)
            except Exception:  # noqa: BLE001
                pass
        try:
            self.ray.kill(slot.handle, no_restart=True)
        except Exception:  # noqa: BLE001
            pass

    def close(self) -> None:
        self.pending.clear()
        if self.started_ray:
            self.ray.shutdown()
