"""Perception provider latency per agent step, memory update included, on the embedded world at 300x300.

    python -m bench.perception_provider [--checkpoint perception/checkpoints/small.safetensors] [--steps 30]

A scripted walk (MoveAhead / RotateRight / LookDown / LookUp) through FloorPlan1 records Events once; every provider
then observes the same Events (``observe`` = detect + the base class's memory update), the providers taking turns on
each Event so that the machine's load falls on all alike (:func:`time_providers`), after two warm-up steps.
Printed per provider: median and 90th-percentile wall time per step, the detect / memory split, the ratio to the
250 ms target (``odin`` with ``small`` on the 2-core CPU), and the ratio to ``odin-2d`` (what the context views cost).
Rows marked "uncached" recompute every window view's backbone each step (``cache_features=False``): the difference is
what caching per-view backbone features saves.
Wall times on a shared machine include other processes' load; the CPU-seconds column is this process's own.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

TARGET_SECONDS = 0.250
WARMUP = 2  # first steps per provider not timed (first-call allocations, caches filling)
STABLE_STEPS = 10  # timed steps from which identical providers agree within ~5 % (time_providers), even under load
WALK = ("MoveAhead", "MoveAhead", "RotateRight", "LookDown", "MoveAhead", "RotateRight", "LookUp", "MoveAhead")


def record_events(scene: str, steps: int, size: int) -> list:
    from envs import make_env

    events = []
    with make_env(width=size, height=size) as env:
        events.append(env.reset(scene=scene))
        for k in range(steps - 1):
            events.append(env.step(action=WALK[k % len(WALK)]))
    return events


def time_providers(providers: dict, events, warmup: int = 2) -> dict[str, dict]:
    """Per provider: median / p90 wall time of ``observe`` (detect + memory update) per step, its detect / memory
    split and CPU time, over ``events`` after ``warmup`` steps.

    The providers take turns on every event (the order rotates per step), so a change in the machine's load during
    the run falls on all of them alike; timed one after another, two identical providers differed by 17-25 % at load
    average 6 on 2 cores, interleaved by 2-4 % over 10-20 steps (up to 12 % over 4-6)."""
    samples = {name: {"detect": [], "memory": [], "cpu": []} for name in providers}
    for provider in providers.values():
        provider.reset()
    names = list(providers)
    for k, event in enumerate(events):
        for name in names[k % len(names):] + names[:k % len(names)]:
            provider = providers[name]
            tic_cpu, tic = time.process_time(), time.perf_counter()
            detections = provider.detect(event)
            middle = time.perf_counter()
            provider.memory.update(event, detections)
            end = time.perf_counter()
            if k >= warmup:
                samples[name]["detect"].append(middle - tic)
                samples[name]["memory"].append(end - middle)
                samples[name]["cpu"].append(time.process_time() - tic_cpu)
    results = {}
    for name, sample in samples.items():
        total = np.array(sample["detect"]) + np.array(sample["memory"])
        results[name] = {"median": float(np.median(total)), "p90": float(np.percentile(total, 90)),
                         "detect": float(np.median(sample["detect"])), "memory": float(np.median(sample["memory"])),
                         "cpu": float(np.median(sample["cpu"])), "objects": len(providers[name].memory)}
    return results


def time_provider(provider, events, warmup: int = 2) -> dict:
    """:func:`time_providers` for one provider."""
    return time_providers({"provider": provider}, events, warmup)["provider"]


def main(argv=None) -> int:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m bench.perception_provider", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="ODIN .safetensors (default: the shipped small)")
    parser.add_argument("--steps", type=int, default=30,
                        help=f"steps of the walk, each observed by every provider in turn; the first {WARMUP} are "
                             f"warm-up, not timed. From {STABLE_STEPS} timed steps on, identical providers agree "
                             f"within ~5%% (measured at load 6 on 2 cores); with 4-6 they may differ by 12%%, so "
                             f"closer figures are not an order")
    parser.add_argument("--size", type=int, default=300, help="frame width and height in pixels")
    parser.add_argument("--scene", default="FloorPlan1", help="floorplan to walk in (e.g. FloorPlan201)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: the CPU column is then the step's own cost)")
    parser.add_argument("--context-views", type=int, nargs="+", default=[2, 3, 4],
                        help="odin windows to time (views per step: the current one + recent posed views)")
    parser.add_argument("--uncached-views", type=int, nargs="*", default=[3, 4],
                        help="also time these windows without the per-view feature cache")
    parser.add_argument("--zoom-tiles", type=int, nargs="*", default=[],
                        help="also time odin (3 views) with an n x n zoom grid for each n given (the provider's "
                             "zoom_tiles; e.g. 2)")
    args = parser.parse_args(argv)
    if args.steps <= WARMUP:
        parser.error(f"--steps must be > {WARMUP} (the first {WARMUP} are warm-up), got {args.steps}")
    if args.size < 32 or args.threads < 1 or min(args.context_views + args.uncached_views, default=1) < 1:
        parser.error("--size must be >= 32, --threads and every window >= 1")
    if any(n < 2 for n in args.zoom_tiles):
        parser.error(f"--zoom-tiles must each be >= 2, got {args.zoom_tiles}")
    try:
        return run(args)
    except (ValueError, FileNotFoundError, RuntimeError, ImportError) as error:  # CheckpointError is a ValueError
        print(f"bench.perception_provider: {error}", file=sys.stderr)
        return 2


def run(args) -> int:
    import torch

    import perception.odin_provider  # noqa: F401  (registers odin / odin-2d)
    from perception.odin import load_checkpoint
    from perception.odin_provider import DEFAULT_CHECKPOINT
    from perception.providers import make_provider

    torch.set_num_threads(args.threads)
    checkpoint = args.checkpoint or DEFAULT_CHECKPOINT
    model = load_checkpoint(checkpoint)
    print(f"checkpoint {checkpoint} ({model.config.name}), {args.steps} steps of {args.scene} at "
          f"{args.size}x{args.size}, {torch.get_num_threads()} torch threads")
    events = record_events(args.scene, args.steps, args.size)
    runs = [("gt", make_provider("gt")),
            ("odin-2d", make_provider("odin-2d", checkpoint=checkpoint, model=model))]
    runs += [(f"odin, {n} views", make_provider("odin", checkpoint=checkpoint, model=model, context_views=n))
             for n in args.context_views]
    runs += [(f"odin, {n} uncached", make_provider("odin", checkpoint=checkpoint, model=model, context_views=n,
                                                   cache_features=False)) for n in args.uncached_views]
    runs += [(f"odin, 3 views, zoom {n}x{n}", make_provider("odin", checkpoint=checkpoint, model=model,
                                                             context_views=3, zoom_tiles=n)) for n in args.zoom_tiles]
    results = time_providers(dict(runs), events, WARMUP)
    baseline = results["odin-2d"]["median"]
    print(f"{'provider':<18} {'median ms':>9} {'p90 ms':>7} {'detect ms':>9} {'memory ms':>9} {'cpu ms':>7} "
          f"{'vs 250 ms':>9} {'vs odin-2d':>10} {'objects':>7}")
    for name, r in results.items():
        print(f"{name:<18} {1e3 * r['median']:9.1f} {1e3 * r['p90']:7.1f} {1e3 * r['detect']:9.1f} "
              f"{1e3 * r['memory']:9.1f} {1e3 * r['cpu']:7.1f} {r['median'] / TARGET_SECONDS:9.2f} "
              f"{r['median'] / baseline:10.2f} {r['objects']:7d}")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (wall times grow with other processes' load)")
    if args.steps - WARMUP < STABLE_STEPS:
        print(f"only {args.steps - WARMUP} timed steps: medians within ~12% of each other are not an order "
              f"(use --steps {STABLE_STEPS + WARMUP} or more for ~5%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
