"""Embedded simulator speed at 300x300 with RGB, depth and instance segmentation.

    python -m bench.sim_speed [--scene FloorPlan1] [--steps 200] [--width 300] [--height 300]

Prints steps per second for navigation (MoveAhead/Rotate/Look cycles) and for interaction (open/close and toggle of
visible objects, pick up / put), the time of one bare MuJoCo render of the same scene (``mujoco.Renderer``: one RGB,
one depth and one segmentation image, what any user of MuJoCo would call to get the three), and the ratio of a step to
that bare render (drawn without our view-frustum culling, i.e. the whole scene). Targets on the 2-core CI machine: >= 25 steps/s, step <= 1.5 x bare render.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402


def _time(fn, n: int) -> float:
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def bare_render_seconds(env, n: int) -> float:
    renderer = mujoco.Renderer(env.renderer.model, env.height, env.width)
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

    three = _time(render_three, n)
    rgb_only = _time(render_rgb, n)
    renderer.close()
    return three, rgb_only


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sim_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", default="FloorPlan1")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--width", type=int, default=300)
    parser.add_argument("--height", type=int, default=300)
    args = parser.parse_args(argv)

    from envs import make_env

    with make_env(width=args.width, height=args.height) as env:
        env.reset(scene=args.scene)
        env.step(action="LookDown")
        cycle = ["MoveAhead", "RotateRight", "MoveAhead", "RotateLeft", "LookDown", "LookUp", "MoveBack", "RotateLeft",
                 "RotateRight"]
        i = iter(range(10**9))
        nav = _time(lambda: env.step(action=cycle[next(i) % len(cycle)]), args.steps)

        def interact():
            event = env.last_event
            visible = [o for o in event.metadata["objects"] if o["visible"]]
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

        interaction = _time(interact, args.steps // 2)
        # The bare render draws the whole scene as MuJoCo would, without our view culling.
        env.renderer.culling = False
        env.renderer.sync(env.world)
        bare, bare_rgb = bare_render_seconds(env, 50)

    print(f"scene {args.scene} at {args.width}x{args.height}, RGB + depth + instance segmentation, "
          f"{os.cpu_count()} CPU cores, MuJoCo {mujoco.__version__}")
    print(f"navigation step : {nav * 1e3:7.1f} ms  -> {1.0 / nav:6.1f} steps/s   (target >= 25)")
    print(f"interaction step: {interaction * 1e3:7.1f} ms  -> {1.0 / interaction:6.1f} steps/s   (target >= 25)")
    print(f"bare MuJoCo render (RGB + depth + segmentation): {bare * 1e3:7.1f} ms")
    print(f"bare MuJoCo render (RGB only)                  : {bare_rgb * 1e3:7.1f} ms")
    print(f"ratio navigation step / bare render : {nav / bare:5.2f}   (target <= 1.5)")
    print(f"ratio interaction step / bare render: {interaction / bare:5.2f}   (target <= 1.5)")
    print(f"ratio navigation step / bare RGB-only render: {nav / bare_rgb:5.2f}   (for reference: a step draws twice)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
