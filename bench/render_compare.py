"""The same views drawn at two tessellation settings, side by side, with how much the pictures differ.

    python -m bench.render_compare [--before 16 8 4] [--after 12 6 1] [--out docs/render_before_after.png]

Each setting is (slices, stacks, quads) of MuJoCo's ``<visual><quality>``; ``--after`` defaults to the simulator's
current setting (``envs.embedded.renderer.NUM_SLICES/NUM_STACKS/NUM_QUADS``). For a few fixed views of a kitchen, a
living room and a bathroom it writes one image (rows: views; columns: RGB before, RGB after, segmentation after) and
prints, over all views, the mean absolute RGB difference, the share of pixels whose instance label is the same, and
the median / 99th percentile of the depth difference where both have depth.
"""

from __future__ import annotations

import sys
from pathlib import Path

from envs.cli import ArgumentParser

VIEWS = [  # (scene, actions from the reset pose)
    ("FloorPlan1", ["LookDown"]),
    ("FloorPlan1", ["RotateRight", "RotateRight", "LookDown"]),
    ("FloorPlan201", ["RotateLeft"]),
    ("FloorPlan401", ["LookDown", "RotateRight"]),
]


def render_views(quality: tuple[int, int, int], width: int, height: int) -> list:
    """The events of ``VIEWS`` with the renderer's tessellation set to ``quality`` (restored afterwards)."""
    from envs import make_env
    from envs.embedded import renderer

    saved = (renderer.NUM_SLICES, renderer.NUM_STACKS, renderer.NUM_QUADS)
    renderer.NUM_SLICES, renderer.NUM_STACKS, renderer.NUM_QUADS = quality
    events = []
    try:
        with make_env(width=width, height=height) as env:
            for scene, actions in VIEWS:
                event = env.reset(scene=scene)
                for action in actions:
                    event = env.step(action=action)
                events.append(event)
    finally:
        renderer.NUM_SLICES, renderer.NUM_STACKS, renderer.NUM_QUADS = saved
    return events


def compare(before: list, after: list) -> dict:
    import numpy as np

    rgb = np.mean([np.abs(a.frame.astype(float) - b.frame.astype(float)).mean() for a, b in zip(after, before)])
    same = np.mean([np.all(a.instance_segmentation_frame == b.instance_segmentation_frame, axis=-1).mean()
                    for a, b in zip(after, before)])
    diffs = []
    for a, b in zip(after, before):
        both = (a.depth_frame > 0) & (b.depth_frame > 0)
        diffs.append(np.abs(a.depth_frame[both] - b.depth_frame[both]))
    d = np.concatenate(diffs)
    return {"rgb_mean_abs": float(rgb), "same_label": float(same), "depth_median_m": float(np.median(d)),
            "depth_p99_m": float(np.percentile(d, 99))}


def main(argv=None) -> int:
    from envs.embedded import renderer

    parser = ArgumentParser(prog="python -m bench.render_compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=int, nargs=3, default=[16, 8, 4], metavar=("SLICES", "STACKS", "QUADS"),
                        help="tessellation of the reference picture")
    parser.add_argument("--after", type=int, nargs=3, metavar=("SLICES", "STACKS", "QUADS"),
                        default=[renderer.NUM_SLICES, renderer.NUM_STACKS, renderer.NUM_QUADS],
                        help="tessellation compared with it")
    parser.add_argument("--size", type=int, default=300, help="frame width and height in pixels")
    parser.add_argument("--out", type=Path, default=Path("docs/render_before_after.png"), help="image to write")
    args = parser.parse_args(argv)
    for name in ("before", "after"):
        if min(getattr(args, name)) < 1:
            parser.error(f"--{name}: slices, stacks and quads must be >= 1, got {getattr(args, name)}")
    if args.size < 32:
        parser.error(f"--size must be >= 32, got {args.size}")

    import numpy as np
    from PIL import Image

    before = render_views(tuple(args.before), args.size, args.size)
    after = render_views(tuple(args.after), args.size, args.size)
    rows = [np.concatenate([b.frame, a.frame, a.instance_segmentation_frame], axis=1) for b, a in zip(before, after)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(np.concatenate(rows, axis=0)).resize(
        (3 * args.size // 2, len(rows) * args.size // 2), Image.LANCZOS)
    try:
        image.save(args.out, optimize=True)
    except OSError as exc:
        print(f"python -m bench.render_compare: error: --out {args.out}: {exc}", file=sys.stderr)
        return 2
    c = compare(before, after)
    print(f"before {tuple(args.before)} -> after {tuple(args.after)} over {len(VIEWS)} views at {args.size} px: "
          f"mean |RGB difference| {c['rgb_mean_abs']:.2f} / 255, same instance label {c['same_label']:.2%}, "
          f"depth difference median {c['depth_median_m'] * 1000:.1f} mm, 99th percentile "
          f"{c['depth_p99_m'] * 1000:.1f} mm; image {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
