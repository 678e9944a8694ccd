"""Perception speed and memory figures, printed as one table (CPU by default).

Sections (each a function returning a dict of numbers, so more can be added beside them):
* ``knn_attention_scaling`` - one 3D k-NN attention layer of the chosen config's width (exact grid k-NN + attention)
  at 5k / 20k / 80k voxels, and the ratio time(80k) / time(5k) (target <= 24 for 16x the points: near-linear),
  in wall time and in process CPU time (the figure to trust when other jobs share the cores).
* ``model_latency`` - forward latency of the model at 300x300: one view in 2D, and 1 current + 4 context views in 3D.

Run: ``python -m bench.perception_speed [--config small] [--threads 2] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path
from typing import Callable

import torch

from perception.odin import CONFIGS, CrossViewFusion, Odin, TextEmbedder, knn, voxelize


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def best_times(function: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(minimum wall time, minimum process CPU time) over ``repeats`` calls after one warm-up.

    CPU time is what to compare on a machine shared with other jobs: wall time then also counts waiting for a core.
    """
    function()
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def room_surface_points(count: int, spacing: float = 0.04, seed: int = 0) -> torch.Tensor:
    """``count`` points on the floor and four walls of a square room sized so the point spacing stays ~``spacing``."""
    g = torch.Generator().manual_seed(seed)
    height = 2.5
    # floor side s and wall area 4 * s * height share the points: s^2 + 4 s h = count * spacing^2
    side = -2 * height + math.sqrt(4 * height * height + count * spacing * spacing)
    floor_share = side * side / (side * side + 4 * side * height)
    on_floor = int(count * floor_share)
    floor = torch.cat([torch.rand(on_floor, 2, generator=g) * side, torch.zeros(on_floor, 1)], 1)
    walls = count - on_floor
    along = torch.rand(walls, generator=g) * side
    up = torch.rand(walls, generator=g) * height
    which = torch.randint(0, 4, (walls,), generator=g)
    x = torch.where(which == 0, torch.zeros_like(along), torch.where(which == 1, torch.full_like(along, side), along))
    y = torch.where(which == 2, torch.zeros_like(along), torch.where(which == 3, torch.full_like(along, side), along))
    x = torch.where(which >= 2, along, x)
    y = torch.where(which < 2, along, y)
    points = torch.cat([floor, torch.stack([x, y, up], 1)], 0) + torch.randn(count, 3, generator=g) * 0.002
    # The model's voxels come out of voxelize() sorted by cell; give the benchmark the same memory order.
    cells = voxelize(points, torch.zeros(count, dtype=torch.long), spacing, 1).point_to_voxel
    return points[torch.sort(cells, stable=True).indices]


def knn_attention_scaling(config_name: str = "small", sizes=(5000, 20000, 80000), repeats: int = 3) -> dict:
    config = CONFIGS[config_name]
    torch.manual_seed(0)
    layer = CrossViewFusion(config.hidden_dim, 1, config.fusion_heads, config.fusion_ffn_dim).eval()
    results = {}
    for size in sizes:
        xyz = room_surface_points(size)
        batch = torch.zeros(size, dtype=torch.long)
        features = torch.randn(size, config.hidden_dim)

        def search():
            return knn(xyz, batch, xyz, batch, config.knn_k)

        def full_layer():
            with torch.no_grad():
                index, distance = search()
                return layer.fuse_voxels(features, xyz, index, distance)

        knn_wall, knn_cpu = best_times(search, repeats)
        layer_wall, layer_cpu = best_times(full_layer, repeats)
        results[size] = {"knn_s": knn_wall, "knn_cpu_s": knn_cpu, "layer_s": layer_wall, "layer_cpu_s": layer_cpu,
                         "peak_rss_mb": peak_rss_mb()}
    first, last = results[min(sizes)], results[max(sizes)]
    results["ratio_layer"] = last["layer_s"] / first["layer_s"]
    results["ratio_layer_cpu"] = last["layer_cpu_s"] / first["layer_cpu_s"]
    results["ratio_knn"] = last["knn_s"] / first["knn_s"]
    results["ratio_knn_cpu"] = last["knn_cpu_s"] / first["knn_cpu_s"]
    results["points_ratio"] = max(sizes) / min(sizes)
    return results


def synthetic_views(views: int, size: int, seed: int = 0):
    """Images and zup xyz maps of ``views`` cameras looking at a floor and a wall from slightly different places."""
    from envs.camera import camera_to_world_zup, unproject_depth

    g = torch.Generator().manual_seed(seed)
    images = torch.rand(1, views, 3, size, size, generator=g)
    maps = []
    for view in range(views):
        depth = torch.full((size, size), 2.0) + torch.rand(size, size, generator=g) * 0.5
        pose = camera_to_world_zup({"x": 0.25 * view, "y": 1.5, "z": 0.0}, yaw=15.0 * view, horizon=30.0)
        maps.append(torch.from_numpy(unproject_depth(depth.numpy(), 90.0, pose)).float())
    return images, torch.stack(maps)[None]


def model_latency(config_name: str = "small", size: int = 300, context_views: int = 4, repeats: int = 3) -> dict:
    torch.manual_seed(0)
    model = Odin(CONFIGS[config_name], TextEmbedder()).eval()
    names = ["Mug", "Apple", "CounterTop", "Fridge", "Sink", "Floor"]
    single, _ = synthetic_views(1, size)
    many, xyz = synthetic_views(1 + context_views, size)
    with torch.no_grad():
        wall_2d, cpu_2d = best_times(lambda: model(single, names), repeats)
        wall_3d, cpu_3d = best_times(lambda: model(many, names, xyz), repeats)
    views = 1 + context_views
    return {"forward_2d_1view_s": wall_2d, "forward_2d_1view_cpu_s": cpu_2d,
            f"forward_3d_{views}views_s": wall_3d, f"forward_3d_{views}views_cpu_s": cpu_3d,
            "peak_rss_mb": peak_rss_mb(), "parameters_M": sum(p.numel() for p in model.parameters()) / 1e6}


def provider_latency(steps: int = 20, size: int = 300, context_views: int = 3) -> dict:
    """Per agent step on the embedded world at ``size``: detect + memory update for gt, odin-2d and odin (shipped
    ``small`` checkpoint), recorded by ``bench.perception_provider`` (which prints the fuller table)."""
    import perception.odin_provider  # noqa: F401  (registers odin / odin-2d)
    from bench.perception_provider import TARGET_SECONDS, record_events, time_providers
    from perception.odin import load_checkpoint
    from perception.odin_provider import DEFAULT_CHECKPOINT
    from perception.providers import make_provider

    if not DEFAULT_CHECKPOINT.exists():
        return {"skipped": f"no checkpoint at {DEFAULT_CHECKPOINT}"}
    model = load_checkpoint(DEFAULT_CHECKPOINT)
    events = record_events("FloorPlan1", steps, size)
    providers = {"gt": make_provider("gt"),
                 "odin-2d": make_provider("odin-2d", checkpoint=DEFAULT_CHECKPOINT, model=model),
                 "odin": make_provider("odin", checkpoint=DEFAULT_CHECKPOINT, model=model, context_views=context_views)}
    report = {}
    for name, timing in time_providers(providers, events).items():
        report[name] = {"median_s": timing["median"], "memory_s": timing["memory"],
                        "ratio_to_250ms": timing["median"] / TARGET_SECONDS}
    return report


SECTIONS: dict[str, Callable[[argparse.Namespace], dict]] = {
    "knn_attention": lambda args: knn_attention_scaling(args.config, repeats=args.repeats),
    "model_latency": lambda args: model_latency(args.config, repeats=args.repeats),
    "provider": lambda args: provider_latency(),
}


def print_section(name: str, numbers: dict) -> None:
    print(f"== {name}")
    for key, value in numbers.items():
        if isinstance(value, dict):
            print(f"  {key:>8}: " + ", ".join(f"{k}={v:.4f}" for k, v in value.items()))
        else:
            print(f"  {key}: {value:.4f}" if isinstance(value, float) else f"  {key}: {value}")


def main(argv: list[str] | None = None) -> int:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m bench.perception_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="small", choices=sorted(CONFIGS),
                        help="ODIN model width for the knn_attention and model_latency sections")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing; the minimum is reported")
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=list(SECTIONS),
                        help="knn_attention: one k-NN attention layer at 5k / 20k / 80k voxels; model_latency: "
                             "ODIN forward at 300x300; provider: gt / odin-2d / odin per agent step")
    parser.add_argument("--json", help="also write the numbers to this file (default: print only)")
    args = parser.parse_args(argv)
    if args.threads <= 0 or args.repeats <= 0:
        parser.error(f"--threads and --repeats must be positive, got {args.threads} and {args.repeats}")
    if args.json and not Path(args.json).resolve().parent.is_dir():
        parser.error(f"--json {args.json}: directory {Path(args.json).resolve().parent} does not exist")
    torch.set_num_threads(args.threads)
    report = {"config": args.config, "threads": args.threads}
    for name in args.sections:
        report[name] = SECTIONS[name](args)
        print_section(name, report[name])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
