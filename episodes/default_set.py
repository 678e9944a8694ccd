"""The default embedded episode set: generated on first use into a cache directory, then reused.

    python -m episodes.default_set            # make sure it exists, print where
    >>> from episodes.default_set import ensure_default_set
    >>> root = ensure_default_set()           # DATA root in TEACh's layout, every split

It is not shipped with the package (a game carries two full simulator states, about 0.5 MB of JSON); the generator
is deterministic, so every machine gets the same files for the same ``DEFAULT_SEED``/``DEFAULT_GAMES_PER_SPLIT``.
The location is ``$TEACH_EMBEDDED_DATA`` if set, else ``~/.cache/odin_teach/teach_embedded_v<version>_s<seed>_n<n>``,
where ``DATA_VERSION`` names what the generator writes: a set made by an older generator is not reused.
Generation is resumable: an interrupted first use continues where it stopped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from envs.scenes import SPLITS

from .dataset import game_path
from .generate import game_id_for, generate

DEFAULT_SEED = 0
DEFAULT_GAMES_PER_SPLIT = 12
"""One game per task family per split (game ``i`` starts with family ``i mod 12``)."""
DATA_VERSION = 3
"""Bumped whenever the generator's files change for the same seed (2: the renderer, slices and dialogue writer of
2026-11-30; 3: the expert's human habits, object sets varied per game, seeded family order, Boil X beyond potatoes, train layout variants, state
diffs without per-view properties), so a cached default set from an older generator is made anew rather than
reused."""


def default_root(seed: int = DEFAULT_SEED, n: int = DEFAULT_GAMES_PER_SPLIT) -> Path:
    configured = os.environ.get("TEACH_EMBEDDED_DATA")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "odin_teach" / f"teach_embedded_v{DATA_VERSION}_s{seed}_n{n}"


def missing_games(root: Path, splits: tuple[str, ...] = SPLITS, seed: int = DEFAULT_SEED,
                  n: int = DEFAULT_GAMES_PER_SPLIT) -> int:
    return sum(not game_path(root, split, game_id_for(split, seed, i)).exists() for split in splits for i in range(n))


def ensure_default_set(root: str | Path | None = None, splits: tuple[str, ...] = SPLITS, seed: int = DEFAULT_SEED,
                       n: int = DEFAULT_GAMES_PER_SPLIT, workers: int | None = None, progress: bool = True) -> Path:
    """The default set's root, generating whatever is missing first (a game the expert cannot solve after every
    retry is left out, so a split may hold fewer than ``n`` games; the generator's report says which)."""
    root = Path(root) if root is not None else default_root(seed, n)
    if missing_games(root, splits, seed, n):
        workers = workers or max(1, min(4, os.cpu_count() or 1))
        generate(list(splits), n, seed, root, workers=workers, progress=progress)
    return root


def main(argv: list[str] | None = None) -> int:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m episodes.default_set", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="where the set lives (default: $TEACH_EMBEDDED_DATA or ~/.cache/odin_teach/)")
    parser.add_argument("--workers", type=int, default=None, help="parallel processes (default: up to 4 cores)")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        print(f"error: --workers must be >= 1, got {args.workers}", file=sys.stderr)
        return 2
    if args.root and Path(args.root).exists() and not Path(args.root).is_dir():
        parser.error(f"--root {args.root} exists and is not a directory")
    print(ensure_default_set(args.root, workers=args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
