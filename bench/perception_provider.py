"""Perception provider latency per agent step, memory update included, on the embedded world at 300x300.

    python -m bench.perception_provider [--checkpoint perception/checkpoints/small.safetensors] [--steps 30]

A scripted walk (MoveAhead / RotateRight / LookDown / LookUp) through FloorPlan1 records Events once; every provider
then observes the same Events (``observe`` = detect + the base class's memory update), after two warm-up steps.
Printed per provider: median and 90th-percentile wall time per step, the detect / memory split, the ratio to the
250 ms target (``odin`` with ``small`` on the 2-core CPU), and the ratio to ``odin-2d`` (what the context views cost).
Rows marked "uncached" recompute every window view's backbone each step (``cache_features=False``): the difference is
what caching per-view backbone features saves.
Wall times on a shared machine include other processes' load; the CPU-seconds column is this process's own.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

TARGET_SECONDS = 0.250
WALK = ("MoveAhead", "MoveAhead", "RotateRight", "LookDown", "MoveAhead", "RotateRight", "LookUp", "MoveAhead")


def record_events(scene: str, steps: int, size: int) -> list:
    from envs import make_env

    events = []
    with make_env(width=size, height=size) as env:
        events.append(env.reset(scene=scene))
        for k in range(steps - 1):
            events.append(env.step(action=WALK[k % len(WALK)]))
    return events


def time_provider(provider, events, warmup: int = 2) -> dict:
    detect, memory, cpu = [], [], []
    provider.reset()
    for k, event in enumerate(events):
        tic_cpu, tic = time.process_time(), time.perf_counter()
        detections = provider.detect(event)
        middle = time.perf_counter()
        provider.memory.update(event, detections)
        end = time.perf_counter()
        if k >= warmup:
            detect.append(middle - tic)
            memory.append(end - middle)
            cpu.append(time.process_time() - tic_cpu)
    total = np.array(detect) + np.array(memory)
    return {"median": float(np.median(total)), "p90": float(np.percentile(total, 90)),
            "detect": float(np.median(detect)), "memory": float(np.median(memory)), "cpu": float(np.median(cpu)),
            "objects": len(provider.memory)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perception_provider", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="ODIN .safetensors (default: the shipped small)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--scene", default="FloorPlan1")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: the CPU column is then the step's own cost)")
    parser.add_argument("--context-views", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--uncached-views", type=int, nargs="*", default=[3, 4],
                        help="also time these windows without the per-view feature cache")
    args = parser.parse_args(argv)

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
    results = {name: time_provider(provider, events) for name, provider in runs}
    baseline = results["odin-2d"]["median"]
    print(f"{'provider':<18} {'median ms':>9} {'p90 ms':>7} {'detect ms':>9} {'memory ms':>9} {'cpu ms':>7} "
          f"{'vs 250 ms':>9} {'vs odin-2d':>10} {'objects':>7}")
    for name, r in results.items():
        print(f"{name:<18} {1e3 * r['median']:9.1f} {1e3 * r['p90']:7.1f} {1e3 * r['detect']:9.1f} "
              f"{1e3 * r['memory']:9.1f} {1e3 * r['cpu']:7.1f} {r['median'] / TARGET_SECONDS:9.2f} "
              f"{r['median'] / baseline:10.2f} {r['objects']:7d}")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (wall times grow with other processes' load)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
