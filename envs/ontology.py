"""AI2-THOR's object ontology: the 125 iTHOR object types, their affordances and the receptacle rules.

One data file (``envs/data/ai2thor_ontology.json``), one loader. The data follows the iTHOR documentation's "Object
Types" table and Unity's ``SimObjType.cs`` ``ReceptacleRestrictions`` (see the file's ``_about``), plus TEACh's
``custom_object_classes.json`` (MIT licence beside the data file), which TEACh's checker reads as ``simbotObjectClass``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .jsonfile import read_json

DATA_FILE = Path(__file__).with_name("data") / "ai2thor_ontology.json"

AFFORDANCES = (
    "pickupable",
    "receptacle",
    "openable",
    "toggleable",
    "sliceable",
    "cookable",
    "dirtyable",
    "canFillWithLiquid",
    "breakable",
    "usedUp",
)
ROOM_KINDS = ("Kitchen", "LivingRoom", "Bedroom", "Bathroom")

SLICED_TYPE = {
    "Apple": "AppleSliced",
    "Bread": "BreadSliced",
    "Lettuce": "LettuceSliced",
    "Potato": "PotatoSliced",
    "Tomato": "TomatoSliced",
    "Egg": "EggCracked",
}
"""What slicing each sliceable type yields (AI2-THOR ``SliceObject.cs``; Egg cracks into one EggCracked)."""

WATER_BASINS = ("Sink", "SinkBasin", "Bathtub", "BathtubBasin")
"""Receptacle types TEACh treats as running-water basins (and as Pour targets that just empty the held object)."""


@dataclass(frozen=True)
class ObjectType:
    """One AI2-THOR object type. Affordances are True, False, or 'some'/'indirect' as the docs table qualifies them."""

    name: str
    affordances: dict
    scene_kinds: dict
    teach_classes: tuple = field(default=())

    def can(self, affordance: str) -> bool:
        """True if the type has ``affordance`` for at least some instances ('some' and 'indirect' count)."""
        if affordance not in AFFORDANCES:
            raise KeyError(f"unknown affordance {affordance!r}; expected one of {AFFORDANCES}")
        return self.affordances[affordance] is not False


class Ontology:
    """Loaded ontology with lookups used by the simulator, the checker and the perception vocabulary."""

    def __init__(self, data: dict):
        self._data = data
        self.types: dict[str, ObjectType] = {}
        for name, entry in data["types"].items():
            self.types[name] = ObjectType(
                name=name,
                affordances={a: entry[a] for a in AFFORDANCES},
                scene_kinds=dict(entry.get("scene_kinds", {})),
                teach_classes=tuple(entry.get("teach_classes", ())),
            )
        rec = data["receptacles"]
        self.object_specific_receptacles: dict[str, tuple] = {
            k: tuple(v) for k, v in rec["object_specific_receptacles"].items()
        }
        self.in_receptacles = frozenset(rec["in_receptacles"]) | frozenset(rec["in_receptacles_bottom_four_corners"])
        self.closed_container_receptacles = frozenset(rec["in_receptacles"])
        self.on_receptacles = frozenset(rec["on_receptacles"])
        self.must_be_open = frozenset(rec["must_be_open_to_place_in"])
        self.always_upright = frozenset(rec["always_place_upright"])
        self.placement_restrictions: dict[str, frozenset] = {
            k: frozenset(v) for k, v in data["placement_restrictions"].items()
        }

    def __contains__(self, name: str) -> bool:
        return name in self.types

    def __getitem__(self, name: str) -> ObjectType:
        try:
            return self.types[name]
        except KeyError:
            raise KeyError(f"unknown AI2-THOR object type {name!r}") from None

    @property
    def names(self) -> list[str]:
        return sorted(self.types)

    def teach_classes(self, name: str) -> list[str]:
        """TEACh's ``simbotObjectClass`` for a type: its custom classes plus the type itself."""
        extra = self._data.get("teach_classes_extra", {}).get(name, [])
        known = self.types[name].teach_classes if name in self.types else ()
        return [name, *known, *extra]

    def accepts(self, receptacle_type: str, object_type: str, force: bool = False) -> bool:
        """Whether ``receptacle_type`` may hold ``object_type``.

        Object-specific receptacles (CoffeeMachine, Toaster, StoveBurner, holders) accept only their listed types even
        with ``force``; otherwise ``force`` (TEACh's ``forceAction=True`` Place) bypasses the per-type whitelist.
        """
        if receptacle_type not in self.types or not self.types[receptacle_type].can("receptacle"):
            return False
        if receptacle_type in self.object_specific_receptacles:
            return object_type in self.object_specific_receptacles[receptacle_type]
        if force:
            return True
        allowed = self.placement_restrictions.get(object_type)
        return allowed is None or receptacle_type in allowed


@lru_cache(maxsize=1)
def load_ontology(path: str | None = None) -> Ontology:
    """Load (once) the ontology data file; a missing or malformed file raises an error naming it."""
    file = Path(path) if path else DATA_FILE
    data = read_json(file)
    for key in ("types", "receptacles", "placement_restrictions"):
        if key not in data:
            raise ValueError(f"{file}: missing field {key!r}")
    return Ontology(data)
