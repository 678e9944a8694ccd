"""A look at the world: a short seeded tour of the room, saved frame by frame, and a contact sheet a person can look at.

    python -m envs.demo --scene FloorPlan1 --steps 20 --out runs/demo

writes ``DIR/step_XXX_rgb.png``, ``_depth.png`` (colour-mapped metres), ``_seg.png`` (segmentation over RGB),
``_meta.json`` (the Event metadata) and ``DIR/contact_sheet.png`` (RGB | depth | segmentation, one row per step).
The tour walks (``envs.nav``, the scripted experts' grid navigation) to a viewpoint of one object after another, in
seeded order, and opens what it arrives at when it can be opened, so most frames show furniture and things rather
than a bare wall, and doors and drawers are seen open. With no reachable viewpoint left it falls back to random moves.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

WALK = ["MoveAhead", "MoveAhead", "MoveAhead", "RotateLeft", "RotateRight", "LookDown", "LookUp", "MoveLeft",
        "MoveRight", "MoveBack"]
STRUCTURE = ("Wall", "Floor", "Ceiling")
"""Object types (and their ``Wall_east``-style variants) not worth walking to."""


def tour_targets(event, rng: np.random.Generator) -> list[dict]:
    """The scene's objects worth walking to, in seeded order: not structure, not inside a closed container; the
    openable ones first (half of the time), so doors and drawers get opened early in a short demo."""
    objects = [o for o in event.metadata["objects"] if not o["objectType"].startswith(STRUCTURE)
               and o.get("axisAlignedBoundingBox", {}).get("cornerPoints")]
    order = [objects[int(k)] for k in rng.permutation(len(objects))]
    if rng.random() < 0.5:
        order.sort(key=lambda o: not o["openable"])
    return order


def tour(env, steps: int, rng: np.random.Generator):
    """Yield (action, arguments) for ``steps`` steps: walk to a viewpoint of the next target, open it if it opens,
    move on; a random move when no target is reachable or a planned step fails."""
    from collections import deque

    from .nav import interaction_poses, pose_of, shortest_path

    reachable = env.step(action="GetReachablePositions").metadata["actionReturn"] or []
    targets = deque(tour_targets(env.last_event, rng))
    plan: deque = deque()
    for _ in range(steps):
        while not plan and targets:
            target = targets.popleft()
            poses = interaction_poses(target, reachable, env.width, env.height, env.fov)
            path = shortest_path(reachable, pose_of(env.last_event.metadata), poses[:6]) if poses else None
            if path is None:
                continue
            plan.extend(("step", action) for action in path)  # empty when already there: then the next target
            if target["openable"] and not target["isOpen"]:
                plan.append(("open", target["objectId"]))
        if plan:
            kind, value = plan.popleft()
            yield ("OpenObject", {"objectId": value}) if kind == "open" else (value, {})
        else:
            yield str(rng.choice(WALK)), {}
        if not env.last_event.metadata["lastActionSuccess"]:
            plan.clear()  # blocked (or the object cannot open now): on to the next target


def depth_image(depth: np.ndarray, max_depth: float = 5.0) -> np.ndarray:
    """Planar depth (m) -> RGB, near = bright yellow, far = dark blue (a viridis-like ramp, no matplotlib needed)."""
    t = np.clip(depth / max_depth, 0.0, 1.0)
    stops = np.array([[253, 231, 37], [94, 201, 98], [33, 145, 140], [59, 82, 139], [68, 1, 84]], dtype=float)
    pos = t * (len(stops) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(stops) - 2)
    frac = (pos - lo)[..., None]
    return (stops[lo] * (1 - frac) + stops[lo + 1] * frac).astype(np.uint8)


def overlay(rgb: np.ndarray, seg: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    return (rgb.astype(float) * (1 - alpha) + seg.astype(float) * alpha).astype(np.uint8)


def contact_sheet(rows: list[tuple[np.ndarray, ...]], labels: list[str], tile: int = 200) -> Image.Image:
    columns = len(rows[0])
    sheet = Image.new("RGB", (columns * tile, len(rows) * (tile + 16)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for r, (images, label) in enumerate(zip(rows, labels)):
        y = r * (tile + 16)
        draw.text((4, y + 2), label, fill=(0, 0, 0))
        for c, image in enumerate(images):
            sheet.paste(Image.fromarray(image).resize((tile, tile)), (c * tile, y + 16))
    return sheet


def run(scene: str, steps: int, out: Path, seed: int, width: int, height: int, backend: str) -> Path:
    from envs import make_env

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    with make_env(backend=backend, width=width, height=height, seed=seed) as env:
        event = env.reset(scene=scene)
        actions = tour(env, steps, rng)
        for step in tqdm(range(steps + 1), desc=f"demo {scene}"):
            if step > 0:
                action, arguments = next(actions)
                event = env.step(action=action, **arguments)
            stem = out / f"step_{step:03d}"
            seg = overlay(event.frame, event.instance_segmentation_frame)
            depth = depth_image(event.depth_frame)
            Image.fromarray(event.frame).save(f"{stem}_rgb.png")
            Image.fromarray(depth).save(f"{stem}_depth.png")
            Image.fromarray(seg).save(f"{stem}_seg.png")
            (stem.parent / f"{stem.name}_meta.json").write_text(json.dumps(event.metadata, default=str))
            rows.append((event.frame, depth, seg))
            m = event.metadata
            labels.append(f"{step}: {m['lastAction']} {'ok' if m['lastActionSuccess'] else 'failed'}"
                          f"  visible={sum(o['visible'] for o in m['objects'])}")
    sheet_path = out / "contact_sheet.png"
    contact_sheet(rows, labels).save(sheet_path)
    return sheet_path


def main(argv: list[str] | None = None) -> int:
    from .cli import ArgumentParser

    parser = ArgumentParser(prog="python -m envs.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", default="FloorPlan1",
                        help="floorplan name, e.g. FloorPlan1, FloorPlan201, FloorPlan1_v2 (a layout variant)")
    parser.add_argument("--steps", type=int, default=20, help="number of actions after the first frame")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output directory (created)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scene's randomisation and of the tour")
    parser.add_argument("--width", type=int, default=300, help="frame width in pixels")
    parser.add_argument("--height", type=int, default=300, help="frame height in pixels")
    parser.add_argument("--backend", default="embedded", choices=["embedded", "ai2thor"],
                        help="embedded = our MuJoCo-rendered world; ai2thor = the real Unity simulator (needs it "
                             "installed and a display)")
    args = parser.parse_args(argv)
    if args.steps < 0:
        parser.error(f"--steps must be >= 0, got {args.steps}")
    if args.width < 16 or args.height < 16:
        parser.error(f"--width and --height must be >= 16, got {args.width}x{args.height}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} exists and is not a directory")
    try:
        sheet = run(args.scene, args.steps, args.out, args.seed, args.width, args.height, args.backend)
    except (ValueError, RuntimeError, KeyError, OSError, ImportError) as exc:
        print(f"envs.demo: {exc}", file=sys.stderr)
        return 2
    print(f"contact sheet: {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
