"""Run independent jobs serially, over local worker processes, or as Ray tasks, with fault isolation.

Each worker builds its state once, ``state = setup(config, WorkerInfo(index, count))`` (a simulator, a model), then
runs jobs with ``work(state, payload)``; ``teardown(state)`` releases it. An *attempt* fails when

- ``work`` raises (the exception's type and message are the error),
- it runs past ``timeout`` seconds: inside the worker a SIGALRM raises :class:`JobTimeout` at the limit (so a job
  that catches exceptions, as the episode runner does, records the timeout and returns); a worker still busy
  ``grace`` seconds after that is killed,
- its worker dies (killed, ``os._exit``, a segfault in native code),
- or ``failure(value)`` finds an error in what ``work`` returned (e.g. an episode record with ``error = 1``).

A failed attempt is retried ``retries`` times (default once), each time on a *fresh* worker: a new process or Ray
actor that has run no other job (serially: the state is torn down and set up again). The last attempt's outcome is
yielded with the first attempt's error. Outcomes come in completion order; callers that want a fixed order sort.

Backends: ``workers=1`` without ``ray`` runs in this process (no isolation from a worker kill: the kill is the run's,
and a time limit needs the main thread); ``workers>=2`` uses ``workers`` spawned processes; ``ray="local"`` starts a
private Ray on this machine, ``ray="auto"`` or an address joins a running cluster (``workers`` Ray actors, by default
one per CPU of the cluster). Ctrl-C in the parent stops every worker (they ignore SIGINT themselves) and re-raises.
"""

from __future__ import annotations

import os
import resource
import signal
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator


class JobTimeout(Exception):
    """Raised inside a job that ran past its time limit."""


class WorkerSetupError(RuntimeError):
    """A worker could not build its state (``setup`` raised); the run cannot go on."""


@dataclass(frozen=True)
class Job:
    key: str
    """Unique within a run; names the job in outcomes and messages."""
    payload: Any
    """Handed to ``work(state, payload)``; must pickle for process and Ray backends."""


@dataclass(frozen=True)
class WorkerInfo:
    index: int
    """Slot of this worker, 0 .. count - 1 (a replacement takes the slot of the worker it replaces)."""
    count: int


@dataclass
class Outcome:
    key: str
    value: Any = None
    """What ``work`` returned on the last attempt; None when that attempt raised, timed out or lost its worker."""
    error: str | None = None
    """Why the last attempt failed (None when it succeeded)."""
    attempts: int = 1
    first_error: str | None = None
    """The first attempt's error when the job was retried."""
    detail: str | None = None
    """A traceback of the last attempt's exception, when there was one."""
    worker: str = ""


@dataclass
class PoolStats:
    """Filled in while a run goes: workers started, retries, and each worker's peak resident memory."""

    workers_started: int = 0
    retries: int = 0
    peak_rss_mb: dict = field(default_factory=dict)
    """worker name -> peak resident set size in MiB, as the worker last reported it."""


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def grace_seconds(timeout: float) -> float:
    """How long past its time limit a worker may stay busy before it is killed: half the limit, 2 s to 30 s."""
    return min(30.0, max(2.0, 0.5 * timeout))


def describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")[:500]


@contextmanager
def time_limit(seconds: float | None):
    """Raise :class:`JobTimeout` in this thread after ``seconds`` (SIGALRM; main thread of a POSIX process only,
    elsewhere nothing happens here and only the parent's hard limit applies)."""
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise JobTimeout(f"exceeded the time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def execute(work: Callable, state: Any, payload: Any, timeout: float | None) -> tuple[str, Any, str | None]:
    """One attempt: ("ok", value, None) or ("raised", error text, traceback). KeyboardInterrupt propagates."""
    try:
        with time_limit(timeout):
            return "ok", work(state, payload), None
    except (Exception, SystemExit) as error:  # SystemExit: a plug-in calling sys.exit() fails its job, not the run
        return "raised", describe(error), traceback.format_exc(limit=8)


# ------------------------------------------------------------------------------------------------ the scheduler
@dataclass
class _Attempt:
    job: Job
    number: int = 1
    first_error: str | None = None


@dataclass
class _Slot:
    """One worker as the scheduler sees it; ``handle`` belongs to the backend."""

    index: int
    name: str
    handle: Any = None
    ready: bool = False
    attempt: _Attempt | None = None
    started: float = 0.0
    jobs_run: int = 0


class _Scheduler:
    def __init__(self, backend, jobs: list[Job], workers: int, timeout: float | None, retries: int,
                 failure: Callable[[Any], str | None] | None, on_retry: Callable[[Outcome], None] | None,
                 stats: PoolStats):
        self.backend, self.workers, self.timeout, self.retries = backend, workers, timeout, retries
        self.failure, self.on_retry, self.stats = failure, on_retry, stats
        self.queue: deque[_Attempt] = deque(_Attempt(job) for job in jobs)
        self.retry_queue: deque[_Attempt] = deque()
        self.slots: list[_Slot] = []
        self.remaining = len(jobs)
        self.serial = 0

    # -- workers
    def spawn(self, index: int) -> None:
        self.serial += 1
        slot = _Slot(index, f"worker{index}.{self.serial}")
        slot.handle = self.backend.start(slot)
        self.slots.append(slot)
        self.stats.workers_started += 1

    def retire(self, slot: _Slot, kill: bool) -> None:
        self.slots.remove(slot)
        self.backend.stop(slot, kill=kill)

    def free_index(self) -> int:
        used = {slot.index for slot in self.slots}
        return next(i for i in range(self.workers + 1) if i not in used)

    def top_up(self) -> None:
        busy = sum(1 for s in self.slots if s.attempt is not None)
        wanted = min(self.workers, busy + len(self.queue) + len(self.retry_queue))
        while len(self.slots) < wanted:
            self.spawn(self.free_index())
        # A retry needs a worker that has run nothing: make room by retiring an idle used one if need be.
        fresh = [s for s in self.slots if s.jobs_run == 0 and s.attempt is None]
        while len(self.retry_queue) > len(fresh):
            idle_used = [s for s in self.slots if s.attempt is None and s.jobs_run > 0]
            if len(self.slots) < self.workers:
                self.spawn(self.free_index())
            elif idle_used:
                index = idle_used[0].index
                self.retire(idle_used[0], kill=False)
                self.spawn(index)
            else:
                break
            fresh = [s for s in self.slots if s.jobs_run == 0 and s.attempt is None]

    def dispatch(self) -> None:
        for slot in self.slots:
            if not slot.ready or slot.attempt is not None:
                continue
            if self.retry_queue and slot.jobs_run == 0:
                attempt = self.retry_queue.popleft()
            elif self.queue:
                attempt = self.queue.popleft()
            else:
                continue
            slot.attempt, slot.started = attempt, time.monotonic()
            slot.jobs_run += 1
            self.backend.submit(slot, attempt.job.payload)

    # -- outcomes
    def failed(self, slot: _Slot, attempt: _Attempt, error: str, value: Any, detail: str | None) -> Outcome | None:
        if attempt.number <= self.retries:
            retry = _Attempt(attempt.job, attempt.number + 1, attempt.first_error or error)
            self.retry_queue.append(retry)
            self.stats.retries += 1
            if self.on_retry is not None:
                self.on_retry(Outcome(attempt.job.key, value, error, attempt.number, attempt.first_error, detail,
                                      slot.name))
            return None
        self.remaining -= 1
        return Outcome(attempt.job.key, value, error, attempt.number, attempt.first_error, detail, slot.name)

    def finished(self, slot: _Slot, status: str, value: Any, detail: str | None) -> Outcome | None:
        attempt, slot.attempt = slot.attempt, None
        if attempt is None:
            return None
        if status == "ok":
            error = self.failure(value) if self.failure is not None else None
            if error is None:
                self.remaining -= 1
                return Outcome(attempt.job.key, value, None, attempt.number, attempt.first_error, None, slot.name)
        else:
            error, value = value, None
        # A worker whose job failed may be in any state: it is replaced, never reused.
        if slot in self.slots:
            self.retire(slot, kill=True)
        return self.failed(slot, attempt, error, value, detail)

    def run(self) -> Iterator[Outcome]:
        try:
            while self.remaining:
                self.top_up()
                self.dispatch()
                now = time.monotonic()
                deadlines = [s.started + self.timeout + grace_seconds(self.timeout) for s in self.slots
                             if s.attempt is not None and self.timeout is not None]
                wait = min([1.0] + [max(0.01, d - now) for d in deadlines])
                for slot, kind, data in self.backend.poll(self.slots, wait):
                    outcome = None
                    if kind == "ready":
                        slot.ready = True
                    elif kind == "setup_failed":
                        error = WorkerSetupError(f"{slot.name} could not start: {str(data).splitlines()[0]}")
                        error.detail = data
                        raise error
                    elif kind == "result":
                        status, value, detail, rss = data
                        self.stats.peak_rss_mb[slot.name] = rss
                        outcome = self.finished(slot, status, value, detail)
                    elif kind == "died":
                        attempt = slot.attempt
                        if slot in self.slots:
                            self.retire(slot, kill=True)
                        if attempt is None and not slot.ready:
                            raise WorkerSetupError(f"{slot.name} died while starting: {data}")
                        if attempt is not None:
                            outcome = self.failed(slot, attempt, f"worker died ({data})", None, None)
                    if outcome is not None:
                        yield outcome
                if self.timeout is None:
                    continue
                now = time.monotonic()
                for slot in list(self.slots):
                    limit = self.timeout + grace_seconds(self.timeout)
                    if slot.attempt is not None and now - slot.started > limit:
                        attempt = slot.attempt
                        self.retire(slot, kill=True)
                        outcome = self.failed(slot, attempt, f"timed out: still running {limit:g} s after it "
                                                             f"started (limit {self.timeout:g} s); worker killed",
                                              None, None)
                        if outcome is not None:
                            yield outcome
        except BaseException:
            for slot in list(self.slots):
                self.retire(slot, kill=True)
            raise
        else:
            for slot in list(self.slots):
                self.retire(slot, kill=False)
        finally:
            self.backend.close()


# ------------------------------------------------------------------------------------------------ serial
def _run_here(jobs, setup, work, teardown, config, timeout, retries, failure, on_retry, stats):
    state, has_state = None, False

    def release():
        nonlocal state, has_state
        if has_state and teardown is not None:
            try:
                teardown(state)
            except Exception:  # noqa: BLE001 - a failing teardown must not hide the job's outcome
                pass
        state, has_state = None, False

    try:
        for job in jobs:
            attempt = _Attempt(job)
            while True:
                if not has_state:
                    try:
                        state, has_state = setup(config, WorkerInfo(0, 1)), True
                    except Exception as error:
                        raise WorkerSetupError(f"could not set up: {describe(error)}") from error
                    stats.workers_started += 1
                status, value, detail = execute(work, state, job.payload, timeout)
                stats.peak_rss_mb["main"] = peak_rss_mb()
                error = value if status == "raised" else (failure(value) if failure is not None else None)
                if status == "raised":
                    value = None
                if error is None or attempt.number > retries:
                    yield Outcome(job.key, value, error, attempt.number, attempt.first_error, detail, "main")
                    break
                stats.retries += 1
                if on_retry is not None:
                    on_retry(Outcome(job.key, value, error, attempt.number, attempt.first_error, detail, "main"))
                release()  # the retry gets fresh state
                attempt = _Attempt(job, attempt.number + 1, attempt.first_error or error)
    finally:
        release()


def run_jobs(jobs: Iterable[Job], setup: Callable[[Any, WorkerInfo], Any], work: Callable[[Any, Any], Any],
             config: Any = None, *, workers: int = 1, ray: str | None = None, timeout: float | None = None,
             retries: int = 1, failure: Callable[[Any], str | None] | None = None,
             teardown: Callable[[Any], None] | None = None, on_retry: Callable[[Outcome], None] | None = None,
             stats: PoolStats | None = None, threads_per_worker: int | None = None) -> Iterator[Outcome]:
    """Yield one :class:`Outcome` per job (see the module docstring). ``setup``, ``work``, ``teardown`` and
    ``failure`` must be module-level functions (they are pickled by reference for workers); ``config`` and the
    payloads must pickle. ``workers`` is the number of local processes, or of Ray actors (None: one per cluster CPU).
    ``threads_per_worker`` caps the OpenMP/BLAS threads of each worker process (default: cores / workers)."""
    jobs = list(jobs)
    if len({job.key for job in jobs}) != len(jobs):
        raise ValueError("run_jobs: job keys must be unique")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"run_jobs: timeout must be > 0 seconds, got {timeout}")
    if retries < 0:
        raise ValueError(f"run_jobs: retries must be >= 0, got {retries}")
    stats = stats if stats is not None else PoolStats()
    if not jobs:
        return (outcome for outcome in ())
    if ray is None and (workers is None or workers <= 1):
        return _run_here(jobs, setup, work, teardown, config, timeout, retries, failure, on_retry, stats)
    if ray is not None:
        from .ray_backend import RayBackend

        backend = RayBackend(ray, setup, work, teardown, config, timeout, workers)
        workers = backend.workers
    else:
        from .local import LocalBackend

        threads = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)
        backend = LocalBackend(setup, work, teardown, config, timeout, workers, threads)
    return _Scheduler(backend, jobs, workers, timeout, retries, failure, on_retry, stats).run()


__all__ = ["Job", "JobTimeout", "Outcome", "PoolStats", "WorkerInfo", "WorkerSetupError", "describe", "execute",
           "grace_seconds", "peak_rss_mb", "run_jobs", "time_limit"]
