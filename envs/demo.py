"""A look at the world: a short seeded random walk, saved frame by frame, and a contact sheet a person can look at.

    python -m envs.demo --scene FloorPlan1 --steps 20 --out runs/demo

writes ``DIR/step_XXX_rgb.png``, ``_depth.png`` (colour-mapped metres), ``_seg.png`` (segmentation over RGB),
``_meta.json`` (the Event metadata) and ``DIR/contact_sheet.png`` (RGB | depth | segmentation, one row per step).
The walk now and then opens something openable in view, so doors and drawers are seen open.
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
        for step in tqdm(range(steps + 1), desc=f"demo {scene}"):
            if step > 0:
                openable = [o for o in event.metadata["objects"] if o["visible"] and o["openable"] and not o["isOpen"]]
                if openable and rng.random() < 0.3:
                    target = openable[int(rng.integers(len(openable)))]["objectId"]
                    event = env.step(action="OpenObject", objectId=target)
                else:
                    event = env.step(action=str(rng.choice(WALK)))
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
    parser = argparse.ArgumentParser(prog="python -m envs.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", default="FloorPlan1", help="iTHOR floorplan name, e.g. FloorPlan1, FloorPlan201")
    parser.add_argument("--steps", type=int, default=20, help="number of random-walk steps")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=300)
    parser.add_argument("--height", type=int, default=300)
    parser.add_argument("--backend", default="embedded", choices=["embedded", "ai2thor"])
    args = parser.parse_args(argv)
    if args.steps < 0:
        print("envs.demo: --steps must be >= 0", file=sys.stderr)
        return 2
    try:
        sheet = run(args.scene, args.steps, args.out, args.seed, args.width, args.height, args.backend)
    except (ValueError, RuntimeError) as exc:
        print(f"envs.demo: {exc}", file=sys.stderr)
        return 2
    print(f"contact sheet: {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
