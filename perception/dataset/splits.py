"""Which scenes go into which dataset split, with floorplans kept disjoint across splits.

Split names are ALFRED/TEACh's (``envs.scenes.SPLITS``); a bare floorplan (or layout variant) name goes to the one of
``train``, ``valid_unseen`` and ``test_unseen`` whose floorplans include it (these three partition the 120 iTHOR
floorplans). Seen splits share floorplans with ``train`` by design, so asking for both in one dataset is refused: a
model must never be evaluated on a room it was trained in.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from envs.scenes import SPLITS, floorplans, parse_scene

PARTITION_SPLITS = ("train", "valid_unseen", "test_unseen")
"""Splits whose floorplans partition iTHOR's 120 rooms; a bare scene name is filed under one of them."""


def split_of_floorplan(scene: str) -> str:
    """The split of ``PARTITION_SPLITS`` containing ``scene``'s floorplan."""
    floorplan = parse_scene(scene).floorplan
    for split in PARTITION_SPLITS:
        if floorplan in floorplans(split):
            return split
    raise ValueError(f"scene {scene!r}: floorplan {floorplan} is in none of {PARTITION_SPLITS}")


def resolve_scenes(tokens: Sequence[str], variants: int = 0, max_per_split: int | None = None) -> dict[str, list[str]]:
    """Map ``--scenes`` tokens (split names or scene names) to {dataset split: [scene, ...]} in a stable order.

    ``variants`` adds ``FloorPlan<N>_v1`` .. ``_v<variants>`` after each ``train`` floorplan; ``max_per_split`` keeps
    the first scenes of each split. Overlapping floorplans across the resulting splits raise ``ValueError``.
    """
    if not tokens:
        raise ValueError("--scenes: give at least one split name or scene name")
    if variants < 0:
        raise ValueError(f"--variants must be >= 0, got {variants}")
    chosen: dict[str, list[str]] = {}
    for token in tokens:
        if token in SPLITS:
            split, scenes = token, floorplans(token)
        else:
            try:
                parse_scene(token)
            except ValueError as exc:
                raise ValueError(f"--scenes: {token!r} is neither a split {SPLITS} nor a scene ({exc})") from None
            split, scenes = split_of_floorplan(token), [token]
        bucket = chosen.setdefault(split, [])
        for scene in scenes:
            names = [scene]
            if split == "train" and parse_scene(scene).variant == 0:
                names += [f"{scene}_v{k}" for k in range(1, variants + 1)]
            bucket.extend(n for n in names if n not in bucket)
    if max_per_split is not None:
        if max_per_split < 1:
            raise ValueError(f"--max-scenes-per-split must be >= 1, got {max_per_split}")
        chosen = {split: scenes[:max_per_split] for split, scenes in chosen.items()}
    check_disjoint(chosen)
    return chosen


def check_disjoint(*assignments: Mapping[str, Iterable[str]]) -> None:
    """Raise ``ValueError`` if one floorplan appears in two dataset splits across all ``assignments`` merged."""
    owner: dict[str, set[str]] = {}
    for assignment in assignments:
        for split, scenes in assignment.items():
            for scene in scenes:
                owner.setdefault(parse_scene(scene).floorplan, set()).add(split)
    clashes = {fp: sorted(s) for fp, s in owner.items() if len(s) > 1}
    if clashes:
        shown = ", ".join(f"{fp} in {'+'.join(s)}" for fp, s in sorted(clashes.items())[:6])
        more = f" (and {len(clashes) - 6} more)" if len(clashes) > 6 else ""
        raise ValueError(f"dataset splits must not share floorplans: {shown}{more}; choose disjoint --scenes")
