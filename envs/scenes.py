"""Scene names and splits, in AI2-THOR's numbering.

iTHOR has 120 single-room floorplans: kitchens ``FloorPlan1-30``, living rooms ``201-230``, bedrooms ``301-330`` and
bathrooms ``401-430``; Unity scene names carry a ``_physics`` suffix, which is accepted and dropped here. The embedded
world also accepts *layout variants* ``FloorPlan<N>_v<k>`` (k >= 1): further seeded layouts of the same room kind, for
training data; variant 0 is the plain name. Splits follow ALFRED's floorplan split as TEACh ships it
(``envs/data/floorplan_splits.json``): ``valid_unseen`` and ``test_unseen`` floorplans never appear in ``train``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .jsonfile import read_json

SPLITS = ("train", "valid_seen", "valid_unseen", "test_seen", "test_unseen")
ROOM_KIND_RANGES = {"Kitchen": (1, 30), "LivingRoom": (201, 230), "Bedroom": (301, 330), "Bathroom": (401, 430)}
_NAME = re.compile(r"^FloorPlan(\d+)(?:_physics)?(?:_v(\d+))?$")


@dataclass(frozen=True)
class SceneName:
    number: int
    variant: int = 0

    @property
    def kind(self) -> str:
        for kind, (lo, hi) in ROOM_KIND_RANGES.items():
            if lo <= self.number <= hi:
                return kind
        raise AssertionError("unreachable: parse_scene validated the number")

    @property
    def floorplan(self) -> str:
        return f"FloorPlan{self.number}"

    def __str__(self) -> str:
        return self.floorplan if self.variant == 0 else f"{self.floorplan}_v{self.variant}"


def parse_scene(name: str) -> SceneName:
    """Parse ``FloorPlan12``, ``FloorPlan12_physics`` or ``FloorPlan12_v3``; a bad name raises ``ValueError``."""
    match = _NAME.match(name or "")
    if not match:
        raise ValueError(f"scene {name!r} is not an iTHOR floorplan name like 'FloorPlan1' or 'FloorPlan1_v2'")
    number, variant = int(match.group(1)), int(match.group(2) or 0)
    if not any(lo <= number <= hi for lo, hi in ROOM_KIND_RANGES.values()):
        raise ValueError(f"scene {name!r}: floorplan number {number} is outside 1-30, 201-230, 301-330, 401-430")
    return SceneName(number, variant)


@lru_cache(maxsize=1)
def _splits() -> dict[str, list[str]]:
    data = read_json(Path(__file__).with_name("data") / "floorplan_splits.json")
    return {s: list(data[s]) for s in SPLITS}


def floorplans(split: str) -> list[str]:
    """Floorplans of a split (ALFRED/TEACh): train 108, valid_seen 88, valid_unseen 4, test_seen 107, test_unseen 8."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return list(_splits()[split])
