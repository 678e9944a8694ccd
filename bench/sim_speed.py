"""Embedded simulator speed at 300x300 with RGB, depth and instance segmentation.

    python -m bench.sim_speed [--scenes FloorPlan1 FloorPlan201 FloorPlan401] [--steps 200] [--repeats 3]

For each scene: steps per second for navigation (MoveAhead/Rotate/Look cycles) and for interaction (open/close and
toggle of visible objects), and the time of a *bare* MuJoCo render of the same scene from the same camera:
``mujoco.Renderer`` drawing one RGB, one depth and one segmentation image, what any MuJoCo user would call to get the
three, at MuJoCo's default visual quality (28 slices, 16 stacks, 4 quads per box face) and without our view-frustum
culling, i.e. the whole scene. The step / bare ratio is the figure that travels between machines. Every figure is the
median over ``--repeats`` runs; the load average is printed beside it because a loaded machine slows everything.
Targets (issue #16, 2-core CI machine, FloorPlan1): >= 40 steps/s for both kinds, step <= 0.5 x bare render.
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import time

from envs.cli import ArgumentParser

import envs.embedded  # noqa: F401  (sets MUJOCO_GL before MuJoCo loads)
import mujoco

# MuJoCo's own defaults for <visual><quality>, the reference a bare render is drawn at.
DEFAULT_QUALITY = {"numslices": 28, "numstacks": 16, "numquads": 4}
NAV_CYCLE = ["MoveAhead", "RotateRight", "MoveAhead", "RotateLeft", "LookDown", "LookUp", "MoveBack", "RotateLeft",
             "RotateRight"]


def _time(fn, n: int) -> float:
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def bare_render_seconds(env, n: int, quality: dict | None = None) -> tuple[float, float]:
    """(RGB + depth + segmentation, RGB only) seconds of a plain ``mujoco.Renderer`` of the env's scene, drawn at
    ``quality`` (MuJoCo's defaults when None; the model's own settings with ``{}``) from the agent's camera."""
    model = copy.deepcopy(env.renderer.model)
    for key, value in (DEFAULT_QUALITY if quality is None else quality).items():
        setattr(model.vis.quality, key, value)
    renderer = mujoco.Renderer(model, env.height, env.width)
    data = env.renderer.data

    def render_three():
        renderer.update_scene(data, camera=0)
        renderer.render()
        renderer.enable_depth_rendering()
        renderer.render()
        renderer.disable_depth_rendering()
        renderer.enable_segmentation_rendering()
        renderer.render()
        renderer.disable_segmentation_rendering()

    def render_rgb():
        renderer.update_scene(data, camera=0)
        renderer.render()

    try:
        return _time(render_three, n), _time(render_rgb, n)
    finally:
        renderer.close()


def measure_scene(env, scene: str, steps: int) -> dict:
    """One run on one scene: seconds per navigation step, per interaction step and per bare render."""
    env.reset(scene=scene)
    env.step(action="LookDown")
    counter = iter(range(10**9))
    nav = _time(lambda: env.step(action=NAV_CYCLE[next(counter) % len(NAV_CYCLE)]), steps)

    def interact():
        visible = [o for o in env.last_event.metadata["objects"] if o["visible"]]
        openable = [o for o in visible if o["openable"]]
        toggleable = [o for o in visible if o["toggleable"]]
        if openable:
            o = openable[0]
            env.step(action="CloseObject" if o["isOpen"] else "OpenObject", objectId=o["objectId"])
        elif toggleable:
            o = toggleable[0]
            env.step(action="ToggleObjectOff" if o["isToggled"] else "ToggleObjectOn", objectId=o["objectId"])
        else:
            env.step(action="RotateRight")

    interaction = _time(interact, max(steps // 2, 1))
    env.renderer.culling = False  # the bare render draws the whole scene, as MuJoCo would
    try:
        env.renderer.sync(env.world)
        bare, bare_rgb = bare_render_seconds(env, 30)
        own, _ = bare_render_seconds(env, 30, quality={})
    finally:
        env.renderer.culling = True
    return {"nav": nav, "interaction": interaction, "bare": bare, "bare_rgb": bare_rgb, "bare_own_quality": own}


def median_runs(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m bench.sim_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", nargs="+", default=["FloorPlan1", "FloorPlan201", "FloorPlan401"],
                        help="embedded floorplans to measure (a kitchen, a living room and a bathroom by default)")
    parser.add_argument("--scene", dest="scenes", nargs=1, help="measure one scene only (same as --scenes NAME)")
    parser.add_argument("--steps", type=int, default=200, help="navigation steps per run (interaction: half)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per scene; every figure is their median")
    parser.add_argument("--width", type=int, default=300, help="frame width in pixels")
    parser.add_argument("--height", type=int, default=300, help="frame height in pixels")
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    for name in ("steps", "repeats", "width", "height"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")

    from envs import make_env
    from envs.scenes import parse_scene

    for scene in args.scenes:
        try:
            parse_scene(scene)
        except ValueError as exc:
            print(f"python -m bench.sim_speed: error: --scenes: {exc}", file=sys.stderr)
            return 2

    print(f"RGB + depth + instance segmentation at {args.width}x{args.height}; {os.cpu_count()} CPU cores; "
          f"MuJoCo {mujoco.__version__}; median of {args.repeats} runs of {args.steps} steps")
    print("| scene | nav steps/s | interaction steps/s | bare render ms (default quality) | nav / bare | "
          "interaction / bare | bare ms at our quality | load avg (1 min) |")
    print("|---|---|---|---|---|---|---|---|")
    with make_env(width=args.width, height=args.height) as env:
        for scene in args.scenes:
            loads = []
            runs = []
            for _ in range(args.repeats):
                runs.append(measure_scene(env, scene, args.steps))
                loads.append(os.getloadavg()[0])
            m = median_runs(runs)
            print(f"| {scene} | {1.0 / m['nav']:.1f} | {1.0 / m['interaction']:.1f} | {m['bare'] * 1e3:.1f} | "
                  f"{m['nav'] / m['bare']:.2f} | {m['interaction'] / m['bare']:.2f} | "
                  f"{m['bare_own_quality'] * 1e3:.1f} | {statistics.median(loads):.2f} |", flush=True)
    print("targets (FloorPlan1, 2-core machine): >= 40 steps/s each, step / bare render <= 0.5")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
