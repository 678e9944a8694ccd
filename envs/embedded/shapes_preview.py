"""Contact sheets of the shape library, for a person to check that every type is recognisable.

    python -m envs.embedded.shapes_preview --out DIR [--types A,B] [--seed N] [--instances K]

Writes one PNG per type (``DIR/<Type>.png``: K instances closed, the same K open and with their states on -
filled, dirty, toggled, cooked) and ``DIR/all.png`` (one closed instance of every type)."""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from envs.embedded.mjcf import render_grid
from envs.embedded.shapes import make_shape, supported_types

STATES_ON = {"openness": 1.0, "filled": True, "dirty": True, "toggled": True, "cooked": True, "broken": True}


def _label(image: np.ndarray, labels: list[str], columns: int, cell_px: int) -> Image.Image:
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    for k, text in enumerate(labels):
        r, c = divmod(k, columns)
        draw.text((c * cell_px + 4, r * cell_px + 4), text, fill=(0, 0, 0))
    return picture


def type_sheet(object_type: str, seed: int, instances: int, cell_px: int = 220) -> Image.Image:
    """K instances in the closed/off state (top row) and the same instances open with states on (bottom row)."""
    specs = [make_shape(object_type, np.random.default_rng([seed, k])) for k in range(instances)]
    cells = [(spec, {}) for spec in specs] + [(spec, STATES_ON) for spec in specs]
    labels = [f"{object_type} #{k}" for k in range(instances)] + [f"open/on/broken #{k}" for k in range(instances)]
    return _label(render_grid(cells, columns=instances, cell_px=cell_px), labels, instances, cell_px)


def overview_sheet(types: list[str], seed: int, columns: int = 10, cell_px: int = 180) -> Image.Image:
    cells = [(make_shape(t, np.random.default_rng([seed, 0])), {}) for t in types]
    return _label(render_grid(cells, columns=columns, cell_px=cell_px), types, columns, cell_px)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output directory for the PNGs")
    parser.add_argument("--types", default="", help="comma-separated object types (default: all supported)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--instances", type=int, default=4, help="instances per type sheet")
    args = parser.parse_args(argv)
    known = supported_types()
    types = [t.strip() for t in args.types.split(",") if t.strip()] or known
    unknown = [t for t in types if t not in known]
    if unknown:
        print(f"shapes_preview: --types has unknown types {unknown}; supported: {', '.join(known)}", file=sys.stderr)
        return 2
    if args.instances < 1:
        print("shapes_preview: --instances must be >= 1", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    for object_type in tqdm(types, desc="types"):
        type_sheet(object_type, args.seed, args.instances).save(os.path.join(args.out, f"{object_type}.png"))
    overview_sheet(types, args.seed).save(os.path.join(args.out, "all.png"))
    print(f"wrote {len(types) + 1} PNGs to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
