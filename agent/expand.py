"""Expansion of a :class:`~agent.program.TaskIntent` into a :class:`~agent.program.Program` of skills.

Each of TEACh's twelve task families (``episodes/data/teach/task_definitions``) is written once as a recipe over the
skill library (``agent/program.py``), the way HELPER's example programs decompose a task into skill calls (Sarch et
al., 2023, sec. 3). The recipes follow the task definitions' goal conditions: a clean dish to serve on, slices that
are cooked on a lit burner (TEACh's ``isCooked`` rule), coffee in a clean mug, a plant watered by pouring, and, for
Breakfast, every served item on the serving spot. Recipes do not read object states: whether a mug is already clean is
decided by the executor from what perception reports (the ``gt`` provider passes states; ODIN does not, and the
executor then cleans to be safe), so the same program runs under every perception ablation.
"""

from __future__ import annotations

from envs.ontology import SLICED_TYPE

from .program import Program, ProgramError, SkillCall, TaskIntent

WATER_CARRIERS = "WateringCan|Cup|Mug|Bowl|Pot"
JUGS = "Cup|Mug|Bowl"


def _count(value: str, field: str) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ProgramError(f"TaskIntent.params: {field} must be a whole number, got {value!r}") from None
    if n < 0:
        raise ProgramError(f"TaskIntent.params: {field} must be >= 0, got {n}")
    return n


def _calls(*steps: tuple) -> list[SkillCall]:
    return [SkillCall(name, dict(args)) for name, args in steps]


def _dish(dish: str, spot: str | None = None) -> list[SkillCall]:
    """A clean ``dish`` standing free (on ``spot`` when given, else a counter)."""
    calls = _calls(("clean", {"object": dish}))
    calls += _calls(("place", {"target": spot})) if spot else _calls(("put_down", {}))
    return calls


PIECES = {piece: whole for whole, piece in SLICED_TYPE.items()}
"""Piece types (what SliceObject leaves: AI2-THOR cracks an Egg into an EggCracked) -> the whole they come from."""


def _slices(whole: str, n: int, dish: str, cooked: bool = False) -> list[SkillCall]:
    if n <= 0:
        return []
    piece = f"{whole}Sliced"
    calls = _calls(("slice", {"object": whole}))
    if cooked:
        calls += _calls(("cook_on_stove", {"object": piece, "vessel": "Pan", "count": n, "not_in": dish}))
        calls += _calls(("serve", {"object": piece, "target": dish, "count": n, "prefer": "Pan"}))
    else:
        calls += _calls(("serve", {"object": piece, "target": dish, "count": n}))
    return calls


def _toast(dish: str) -> list[SkillCall]:
    return _calls(("toast", {"object": "BreadSliced", "not_in": dish}), ("place", {"target": dish}))


def _coffee() -> list[SkillCall]:
    return _calls(("clean", {"object": "Mug"}), ("place", {"target": "CoffeeMachine"}),
                  ("toggle_on", {"object": "CoffeeMachine"}))


def recipe(intent: TaskIntent) -> list[SkillCall]:
    """The skill calls for ``intent`` (without the final ``stop``)."""
    p = intent.params
    name = intent.family
    if name == "Coffee":
        return _coffee()
    if name == "Water Plant":
        return _calls(("fill", {"object": WATER_CARRIERS}), ("pour", {"target": "HousePlant"}))
    if name == "Boil X":  # X may be a piece (TEACh's objectType condition: a PotatoSliced, an EggCracked): cut it first
        whole = PIECES.get(p[0])
        return (_calls(("slice", {"object": whole})) if whole else []) + _calls(("boil", {"object": p[0]}))
    if name == "Plate Of Toast":
        return _dish("Plate") + _calls(("slice", {"object": "Bread"})) + _toast("Plate")
    if name == "Clean All X":
        return _calls(("clean_all", {"object": p[0]}))
    if name in ("Put All X On Y", "Put All X In One Y"):
        return _calls(("put_all", {"object": p[0], "target": p[2], "single": name == "Put All X In One Y"}))
    if name in ("N Cooked Slices Of X In Y", "N Slices Of X In Y"):
        n, whole, dish = _count(p[0], "n"), p[1], p[3]
        return _dish(dish) + _slices(whole, max(1, n), dish, cooked=name.startswith("N Cooked"))
    if name == "Salad":
        lettuce, tomato, potato = (_count(v, f) for v, f in zip(p, ("lettuce", "tomato", "potato")))
        if lettuce + tomato + potato == 0:
            lettuce = tomato = 1
        return (_dish("Plate") + _slices("Lettuce", lettuce, "Plate") + _slices("Tomato", tomato, "Plate")
                + _slices("Potato", potato, "Plate", cooked=True))
    if name == "Sandwich":
        lettuce, tomato = _count(p[0], "lettuce"), _count(p[1], "tomato")
        calls = _dish("Plate") + _calls(("slice", {"object": "Bread"})) + _toast("Plate") + _toast("Plate")
        return calls + _slices("Lettuce", lettuce, "Plate") + _slices("Tomato", tomato, "Plate")
    if name == "Breakfast":
        flags = [_count(v, f"params[{i}]") if v.isdigit() else v for i, v in enumerate(p)]
        spot = p[13] or "DiningTable"
        calls: list[SkillCall] = []
        if flags[0]:
            calls += _coffee() + _calls(("pickup", {"object": "Mug"}), ("place", {"target": spot}))
        wants_plate = any(flags[i] for i in (1, 2, 4, 6, 9))
        if wants_plate:
            calls += _dish("Plate", spot)
            if flags[1]:
                calls += _calls(("slice", {"object": "Bread"})) + _toast("Plate")
            if flags[6]:
                calls += _calls(("slice", {"object": "Bread"})) + _toast("Plate") + _toast("Plate")
                calls += _slices("Lettuce", flags[7], "Plate") + _slices("Tomato", flags[8], "Plate")
            if flags[4]:
                calls += _slices("Apple", 1, "Plate")
            if flags[2]:
                calls += _slices("Potato", 2, "Plate", cooked=True)
            if flags[9]:
                calls += (_slices("Lettuce", flags[10], "Plate") + _slices("Tomato", flags[11], "Plate")
                          + _slices("Potato", flags[12], "Plate", cooked=True))
        return calls
    raise ProgramError(f"TaskIntent.family: no recipe for {name!r}")


def expand(intent: TaskIntent) -> Program:
    """The program for ``intent``: its family's recipe, then ``stop``."""
    return Program(recipe(intent) + [SkillCall("stop", {})], intent)


__all__ = ["expand", "recipe"]
