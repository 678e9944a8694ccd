"""Local worker processes for :func:`parallel.run_jobs`: spawned (not forked: a fresh interpreter, no copied
simulator or OpenGL state), one duplex pipe each, watched through the pipe and the process sentinel so that a worker
that dies is noticed at once. Workers ignore SIGINT (the parent decides how a run stops) and die with the parent
(Linux ``PR_SET_PDEATHSIG``; elsewhere they exit when the pipe closes)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import connection

from .jobs import WorkerInfo, describe, execute, peak_rss_mb

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def exit_text(code: int | None) -> str:
    if code is None:
        return "exited"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _die_with_parent(parent_pid: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the kernel kills this worker when the parent goes
    except Exception:  # noqa: BLE001 - not Linux: the closed pipe ends the worker instead
        pass
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)


def _send(conn, message) -> bool:
    try:
        conn.send(message)
        return True
    except (BrokenPipeError, EOFError, OSError):
        return False


def worker_main(conn, parent_pid, setup, work, teardown, config, info: WorkerInfo, timeout) -> None:
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        state = setup(config, info)
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which stops the run
        _send(conn, ("setup_failed", f"{describe(error)}\n{traceback.format_exc(limit=8)}"))
        return
    if not _send(conn, ("ready", None)):
        return
    while True:
        try:
            payload = conn.recv()
        except (EOFError, OSError):
            break
        if payload is None:
            break
        status, value, detail = execute(work, state, payload, timeout)
        try:
            conn.send(("result", (status, value, detail, peak_rss_mb())))
        except (BrokenPipeError, EOFError, OSError):
            break
        except Exception as error:  # noqa: BLE001 - the value does not pickle; nothing was written to the pipe
            if not _send(conn, ("result", ("raised", f"its result could not be sent back: {describe(error)}", None,
                                           peak_rss_mb()))):
                break
    if teardown is not None:
        try:
            teardown(state)
        except Exception:  # noqa: BLE001
            pass


@contextmanager
def _thread_caps(threads: int):
    """Children inherit the environment at spawn: cap their OpenMP/BLAS pools unless the user already chose."""
    added = [name for name in THREAD_VARIABLES if name not in os.environ]
    for name in added:
        os.environ[name] = str(threads)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextmanager
def _sigint_ignored():
    """Start children with SIGINT ignored from their first instruction (an ignored signal stays ignored across exec,
    and Python then installs no KeyboardInterrupt handler): a Ctrl-C that reaches the whole process group while a
    worker is still importing must not kill it with a traceback; the parent stops the workers itself."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass
class _Handle:
    process: multiprocessing.process.BaseProcess
    conn: connection.Connection


class LocalBackend:
    def __init__(self, setup, work, teardown, config, timeout, workers: int, threads: int):
        self.setup, self.work, self.teardown, self.config = setup, work, teardown, config
        self.timeout, self.workers, self.threads = timeout, workers, threads
        self.context = multiprocessing.get_context("spawn")
        self.stopping: list[_Handle] = []

    def start(self, slot) -> _Handle:
        parent_end, child_end = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=worker_main, name=slot.name, daemon=True,
            args=(child_end, os.getpid(), self.setup, self.work, self.teardown, self.config,
                  WorkerInfo(slot.index, self.workers), self.timeout))
        with _thread_caps(self.threads), _sigint_ignored():
            process.start()
        child_end.close()
        return _Handle(process, parent_end)

    def submit(self, slot, payload) -> None:
        slot.handle.conn.send(payload)

    def poll(self, slots, wait: float) -> list:
        waitables = {}
        for slot in slots:
            waitables[slot.handle.conn] = slot
            waitables[slot.handle.process.sentinel] = slot
        if not waitables:
            time.sleep(min(wait, 0.05))
            return []
        ready = connection.wait(list(waitables), timeout=wait)
        events, dead = [], []
        for item in ready:  # messages first: a worker may have sent its result just before it died
            slot = waitables[item]
            if item is not slot.handle.conn:
                continue
            try:
                while slot.handle.conn.poll():
                    kind, data = slot.handle.conn.recv()
                    events.append((slot, kind, data))
            except (EOFError, OSError):
                if slot not in dead:
                    dead.append(slot)
        for item in ready:
            slot = waitables[item]
            if item is slot.handle.process.sentinel and slot not in dead:
                dead.append(slot)
        for slot in dead:
            slot.handle.process.join(2.0)
            events.append((slot, "died", exit_text(slot.handle.process.exitcode)))
        return events

    def stop(self, slot, kill: bool) -> None:
        handle = slot.handle
        if kill or not _send(handle.conn, None):
            handle.process.kill()
        self.stopping.append(handle)

    def close(self) -> None:
        for handle in self.stopping:
            handle.process.join(5.0)
            if handle.process.is_alive():
                handle.process.kill()
                handle.process.join(2.0)
            handle.conn.close()
        self.stopping.clear()
