"""parallel.run_jobs on toy jobs (no simulator): results, retries on a fresh worker, crashes, hangs, deaths, setup
failures, stopping early; and the atomic file helpers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parallel import Job, PoolStats, WorkerSetupError, atomic_directory, atomic_file, remove_partials, run_jobs


def toy_setup(config, info):
    if config == "fail":
        raise RuntimeError("no simulator here")
    return {"pid": os.getpid(), "index": info.index}


def toy_work(state, payload):
    kind, argument = payload
    if kind == "raise":
        raise RuntimeError("boom")
    if kind == "raise-once":  # fails in the first process that tries, succeeds elsewhere
        marker = Path(argument)
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return {"pid": state["pid"]}
        raise RuntimeError(f"first attempt in {state['pid']}")
    if kind == "sleep":
        time.sleep(argument)
    if kind == "hard-hang-once":
        marker = Path(argument)
        if not marker.exists():
            marker.touch()
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(600)
    if kind == "exit":
        os._exit(3)
    return {"square": argument * argument if kind == "square" else None, "pid": state["pid"]}


def _jobs(tmp_path: Path, with_deaths: bool) -> list[Job]:
    jobs = [Job(f"square{k}", ("square", k)) for k in range(3)]
    jobs += [Job("raise", ("raise", 0)), Job("once", ("raise-once", str(tmp_path / "once"))),
             Job("hang", ("sleep", 600))]
    if with_deaths:
        jobs += [Job("hard", ("hard-hang-once", str(tmp_path / "hard"))), Job("exit", ("exit", 0))]
    return jobs


def _check_common(outcomes: dict) -> None:
    for k in range(3):
        assert outcomes[f"square{k}"].value["square"] == k * k and outcomes[f"square{k}"].attempts == 1
        assert outcomes[f"square{k}"].error is None
    raised = outcomes["raise"]
    assert raised.value is None and raised.error == "RuntimeError: boom" and raised.attempts == 2
    assert raised.first_error == "RuntimeError: boom" and "boom" in raised.detail
    once = outcomes["once"]
    assert once.error is None and once.attempts == 2 and once.first_error.startswith("RuntimeError: first attempt")
    first_pid = int(once.first_error.split()[-1])
    if once.worker != "main":  # the retry ran on a fresh worker process, not the one that failed
        assert once.value["pid"] != first_pid
    hang = outcomes["hang"]
    assert hang.value is None and hang.attempts == 2 and hang.error.startswith("JobTimeout: exceeded the time limit")


def test_worker_processes_isolate_crashes_hangs_and_deaths(tmp_path):
    stats = PoolStats()
    retried = []
    started = time.monotonic()
    outcomes = {o.key: o for o in run_jobs(_jobs(tmp_path, with_deaths=True), toy_setup, toy_work, None, workers=2,
                                           timeout=1.0, stats=stats, on_retry=retried.append)}
    assert set(outcomes) == {job.key for job in _jobs(tmp_path, with_deaths=True)}
    _check_common(outcomes)
    hard = outcomes["hard"]  # SIGALRM blocked: the parent killed the worker, the retry succeeded
    assert hard.error is None and hard.attempts == 2 and "worker killed" in hard.first_error
    died = outcomes["exit"]
    assert died.value is None and died.attempts == 2 and died.error == "worker died (exit code 3)"
    assert sorted(o.key for o in retried) == ["exit", "hang", "hard", "once", "raise"]
    assert stats.retries == 5 and stats.workers_started >= 2 + 5  # each failure replaced its worker
    assert all(rss > 0 for rss in stats.peak_rss_mb.values())
    assert time.monotonic() - started < 60


def test_in_process_runs_give_the_same_outcomes(tmp_path):
    outcomes = {o.key: o for o in run_jobs(_jobs(tmp_path, with_deaths=False), toy_setup, toy_work, None,
                                           workers=1, timeout=1.0)}
    _check_common(outcomes)
    assert {o.worker for o in outcomes.values()} == {"main"}


def test_a_worker_that_cannot_start_stops_the_run_with_its_reason():
    with pytest.raises(WorkerSetupError, match="could not start: RuntimeError: no simulator here"):
        list(run_jobs([Job("a", ("square", 1)), Job("b", ("square", 2))], toy_setup, toy_work, "fail", workers=2))
    with pytest.raises(WorkerSetupError, match="no simulator here"):
        list(run_jobs([Job("a", ("square", 1))], toy_setup, toy_work, "fail"))
    with pytest.raises(ValueError, match="unique"):
        run_jobs([Job("a", 1), Job("a", 2)], toy_setup, toy_work)


def test_leaving_early_stops_every_worker():
    outcomes = run_jobs([Job(f"j{k}", ("sleep", 0 if k == 0 else 30)) for k in range(3)], toy_setup, toy_work,
                        workers=2)
    first = next(outcomes)
    outcomes.close()  # what Ctrl-C in the caller's loop does
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(first.value["pid"], 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a worker outlived the run")


def test_atomic_files_and_directories(tmp_path):
    target = tmp_path / "a" / "table.json"
    with atomic_file(target) as tmp:
        tmp.write_text("{}")
        assert not target.exists() and tmp.name.startswith(".table.json.partial-") and tmp.suffix == ".json"
    assert target.read_text() == "{}"
    with pytest.raises(RuntimeError):
        with atomic_file(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "{}" and os.listdir(target.parent) == ["table.json"]

    directory = tmp_path / "seq"
    for text in ("old", "new"):
        with atomic_directory(directory) as tmp:
            (tmp / "meta.json").write_text(text)
    assert (directory / "meta.json").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["a", "seq"]

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    (tmp_path / f".x.jpg.partial-{dead_pid}.jpg").write_text("half")
    (tmp_path / "seq" / f".y.partial-{dead_pid}").mkdir()
    (tmp_path / f".z.json.partial-{os.getpid()}.json").write_text("mine, still writing")
    removed = remove_partials(tmp_path)
    assert sorted(p.name for p in removed) == sorted([f".x.jpg.partial-{dead_pid}.jpg", f".y.partial-{dead_pid}"])
    assert (tmp_path / f".z.json.partial-{os.getpid()}.json").exists()
