"""The benchmark suite in one table: simulator, perception, episodes serially and on workers, memory, k-NN scaling.

    python -m bench                       # every section, 3 runs each (about 10 minutes on an idle 2-core machine)
    python -m bench --quick               # 1 run each, 4 episodes (a smoke run; its figures are not medians)
    python -m bench --sections episodes --episodes 8 --repeats 3 --json bench.json

Every figure is the median of ``--repeats`` runs (a ratio is the ratio of the medians); the load average (1 minute)
when each section started and ended is printed beside it, with the core count, because figures on a shared machine
grow with other processes' load. The sections reuse the single-purpose benchmarks:

- ``sim``: :func:`bench.sim_speed.measure_scene` on FloorPlan1 at 300x300 (RGB + depth + segmentation): navigation and
  interaction steps/s, and a step's time over a bare MuJoCo render of the scene (the figure that travels between
  machines);
- ``perception``: :func:`bench.perception_provider.time_providers`, milliseconds per agent step (detect + memory
  update) of ``gt``, ``odin-2d`` and ``odin`` (3 views, shipped ``small`` checkpoint, 1 torch thread), interleaved;
- ``episodes``: ``agent.run_teach`` (TfD, ``gt`` perception, the retrieval planner) on the first ``--episodes``
  episodes of the embedded default ``valid_unseen`` split, serially and with ``--workers`` processes: episodes per
  minute end to end (worker start-up included), the speed-up, whether the summaries are equal (timing aside), and the
  peak resident memory of a worker;
- ``knn``: :func:`bench.perception_speed.knn_attention_scaling`, one 3D k-NN attention layer at 5k / 20k / 80k voxels
  and time(80k) / time(5k) for 16x the points (near-linear is <= 24).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

SECTIONS = ("sim", "perception", "episodes", "knn")


def load_1min() -> float:
    return os.getloadavg()[0]


def median(values) -> float:
    return float(statistics.median(values))


class Table:
    """Rows of (section, figure, value, runs, load when the section started -> ended)."""

    def __init__(self):
        self.rows: list[dict] = []

    def add(self, section: str, figure: str, value: str, runs: int, load: tuple[float, float]) -> None:
        self.rows.append({"section": section, "figure": figure, "value": value, "runs": runs,
                          "load": f"{load[0]:.2f} -> {load[1]:.2f}"})

    def markdown(self) -> str:
        lines = ["| section | figure | value | runs | load avg (1 min) |", "|---|---|---|---|---|"]
        lines += [f"| {r['section']} | {r['figure']} | {r['value']} | {r['runs']} | {r['load']} |" for r in self.rows]
        return "\n".join(lines)


def section_sim(args, table: Table, numbers: dict) -> None:
    from bench.sim_speed import measure_scene, median_runs
    from envs import make_env

    start = load_1min()
    with make_env(width=300, height=300) as env:
        runs = [measure_scene(env, "FloorPlan1", args.sim_steps) for _ in range(args.repeats)]
    m = median_runs(runs)
    load = (start, load_1min())
    numbers["sim"] = m
    table.add("sim", "navigation steps/s (FloorPlan1, 300x300, RGB+depth+seg)", f"{1.0 / m['nav']:.1f}", len(runs),
              load)
    table.add("sim", "interaction steps/s", f"{1.0 / m['interaction']:.1f}", len(runs), load)
    table.add("sim", "bare MuJoCo render, RGB+depth+seg (ms)", f"{1e3 * m['bare']:.1f}", len(runs), load)
    table.add("sim", "navigation step / bare render", f"{m['nav'] / m['bare']:.2f}", len(runs), load)
    table.add("sim", "interaction step / bare render", f"{m['interaction'] / m['bare']:.2f}", len(runs), load)


def section_perception(args, table: Table, numbers: dict) -> None:
    import torch

    import perception.odin_provider  # noqa: F401  (registers odin / odin-2d)
    from bench.perception_provider import WARMUP, record_events, time_providers
    from perception.odin import load_checkpoint
    from perception.odin_provider import DEFAULT_CHECKPOINT
    from perception.providers import make_provider

    start = load_1min()
    torch.set_num_threads(1)
    model = load_checkpoint(DEFAULT_CHECKPOINT)
    events = record_events("FloorPlan1", args.perception_steps + WARMUP, 300)
    runs = []
    for _ in range(args.repeats):
        providers = {"gt": make_provider("gt"),
                     "odin-2d": make_provider("odin-2d", checkpoint=DEFAULT_CHECKPOINT, model=model),
                     "odin (3 views)": make_provider("odin", checkpoint=DEFAULT_CHECKPOINT, model=model,
                                                     context_views=3)}
        runs.append(time_providers(providers, events, WARMUP))
    load = (start, load_1min())
    numbers["perception"] = {}
    for name in runs[0]:
        ms = median(1e3 * run[name]["median"] for run in runs)
        cpu = median(1e3 * run[name]["cpu"] for run in runs)
        numbers["perception"][name] = {"median_ms": ms, "cpu_ms": cpu}
        table.add("perception", f"{name}: ms per step, detect + memory (CPU ms), 1 thread",
                  f"{ms:.1f} ({cpu:.1f})", len(runs), load)


def _episode_run(args, data_dir: Path, out: Path, workers: int):
    from agent.results import load_records
    from agent.run_teach import RunConfig, run
    from parallel import PoolStats

    config = RunConfig(split="valid_unseen", mode="tfd", perception="gt", data_dir=str(data_dir), limit=args.episodes,
                       out=str(out), workers=workers)
    stats = PoolStats()
    started = time.perf_counter()
    summary = run(config, log=lambda *_: None, progress=False, stats=stats)
    seconds = time.perf_counter() - started
    for key in ("median_wall_time_s", "median_cpu_time_s"):
        summary["cost"].pop(key)
    cpu = sum(record["cpu_time_s"] for record in load_records(out))
    return seconds, summary, stats, cpu


def section_episodes(args, table: Table, numbers: dict) -> None:
    from episodes.default_set import ensure_default_set

    data_dir = ensure_default_set(splits=("valid_unseen",), progress=False)
    start = load_1min()
    serial, parallel, memory, summaries, serial_cpu, parallel_cpu = [], [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench_episodes_") as scratch:
        for k in range(args.repeats):  # alternated, so a change in load falls on both
            seconds, summary, _, cpu = _episode_run(args, data_dir, Path(scratch) / f"serial{k}", 1)
            serial.append(seconds)
            serial_cpu.append(cpu)
            summaries.append(summary)
            seconds, summary, stats, cpu = _episode_run(args, data_dir, Path(scratch) / f"workers{k}", args.workers)
            parallel.append(seconds)
            parallel_cpu.append(cpu)
            summaries.append(summary)
            memory.append(max(stats.peak_rss_mb.values()))
    load = (start, load_1min())
    serial_rate = 60.0 * args.episodes / median(serial)
    parallel_rate = 60.0 * args.episodes / median(parallel)
    same = all(s == summaries[0] for s in summaries)
    numbers["episodes"] = {"episodes": args.episodes, "serial_s": serial, "parallel_s": parallel,
                           "workers": args.workers, "serial_per_min": serial_rate, "parallel_per_min": parallel_rate,
                           "speedup": parallel_rate / serial_rate, "same_summary": same,
                           "peak_rss_mb_per_worker": memory, "serial_cpu_s": serial_cpu,
                           "parallel_cpu_s": parallel_cpu,
                           "success_rate": summaries[0]["success"]["success_rate"]}
    label = f"{args.episodes} valid_unseen TfD, gt, retrieval planner"
    table.add("episodes", f"episodes/min serially ({label})", f"{serial_rate:.2f}", len(serial), load)
    table.add("episodes", f"episodes/min with {args.workers} workers", f"{parallel_rate:.2f}", len(parallel), load)
    table.add("episodes", f"speed-up with {args.workers} workers", f"{parallel_rate / serial_rate:.2f}x", len(serial),
              load)
    table.add("episodes", f"same summary serially and with {args.workers} workers (timing aside)",
              "yes" if same else "NO", len(summaries), load)
    table.add("episodes", "peak resident memory per worker (MiB)", f"{median(memory):.0f}", len(memory), load)
    # What load cannot inflate: the CPU seconds the episodes cost (processes' own time, summed over episodes).
    cpu_serial, cpu_parallel = median(serial_cpu) / args.episodes, median(parallel_cpu) / args.episodes
    table.add("episodes", f"CPU s per episode serially / with {args.workers} workers",
              f"{cpu_serial:.2f} / {cpu_parallel:.2f}", len(serial), load)
    table.add("episodes", f"speed-up the CPU cost allows on {args.workers} idle cores ({args.workers} x serial CPU / "
                          f"parallel CPU; start-up and imbalance not counted)",
              f"{args.workers * cpu_serial / cpu_parallel:.2f}x", len(serial), load)


def section_knn(args, table: Table, numbers: dict) -> None:
    import torch

    from bench.perception_speed import knn_attention_scaling

    start = load_1min()
    torch.set_num_threads(args.threads)
    runs = [knn_attention_scaling("small", repeats=1) for _ in range(args.repeats)]
    load = (start, load_1min())
    sizes = sorted(k for k in runs[0] if isinstance(k, int))
    numbers["knn"] = {size: median(run[size]["layer_s"] for run in runs) for size in sizes}
    ratio = numbers["knn"][sizes[-1]] / numbers["knn"][sizes[0]]
    numbers["knn"]["ratio"] = ratio
    cpu_ratio = median(run["ratio_layer_cpu"] for run in runs)
    numbers["knn"]["ratio_cpu"] = cpu_ratio
    layer_ms = " / ".join(f"{1e3 * numbers['knn'][size]:.0f}" for size in sizes)
    counts = " / ".join(f"{size // 1000}k" for size in sizes)
    threads = f"{args.threads} thread" + ("s" if args.threads > 1 else "")
    table.add("knn", f"k-NN attention layer at {counts} voxels (ms, {threads})", layer_ms, len(runs), load)
    table.add("knn", f"time({counts.split(' / ')[-1]}) / time({counts.split(' / ')[0]}), "
                     f"{sizes[-1] // sizes[0]}x the points (<= 24)", f"{ratio:.1f}", len(runs), load)
    table.add("knn", "the same ratio in process CPU time (what other processes' load does not inflate)",
              f"{cpu_ratio:.1f}", len(runs), load)


RUNNERS: dict[str, Callable] = {"sim": section_sim, "perception": section_perception, "episodes": section_episodes,
                                "knn": section_knn}


def machine_line() -> str:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    one, five, fifteen = os.getloadavg()
    return (f"{cores} CPU cores ({usable} usable), {platform.machine()}, Python {platform.python_version()}; "
            f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min) at the start")


def main(argv: list[str] | None = None) -> int:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS,
                        help="which sections to run, in this order")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; each figure is their median")
    parser.add_argument("--episodes", type=int, default=8, help="TfD episodes per episodes run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the parallel episodes run")
    parser.add_argument("--sim-steps", type=int, default=100, help="navigation steps per simulator run")
    parser.add_argument("--perception-steps", type=int, default=12, help="timed steps per perception run")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads of the k-NN section (1: figures that survive other processes' load; "
                             "at 2 threads under load 3 on 2 cores the layer ran 20-40x slower than idle)")
    parser.add_argument("--quick", action="store_true", help="1 run per figure and 4 episodes (a smoke run)")
    parser.add_argument("--json", help="also write every number to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.episodes, args.sim_steps = 1, min(args.episodes, 4), min(args.sim_steps, 40)
    for name in ("repeats", "episodes", "sim_steps", "perception_steps", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.workers < 2:
        parser.error(f"--workers must be >= 2 (the serial run is the other side of the ratio), got {args.workers}")
    command = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"`{command.strip()}`: {machine_line()}", flush=True)
    table, numbers = Table(), {"machine": machine_line(), "command": command.strip()}
    for section in args.sections:
        started = time.perf_counter()
        RUNNERS[section](args, table, numbers)
        print(f"  {section}: done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    print(table.markdown())
    if args.json:
        Path(args.json).write_text(json.dumps(numbers, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
