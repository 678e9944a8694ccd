"""TEACh's custom object properties ("simbot" properties) and the per-step rules that maintain them.

TEACh's task checker reads these on top of AI2-THOR's own metadata. The rules follow ``SimulatorTHOR`` in TEACh
(``alexa/teach`` ``src/teach/simulators/simulator_THOR.py`` at 903191e: ``__check_per_step_custom_properties``,
``__update_sink_interaction_outcomes``, ``__update_custom_coffee_prop``, ``__update_custom_property_cooked``,
``__update_custom_property_boiled``, ``__transfer_custom_metadata_on_slicing_cracking``, ``get_parent_receptacles`` and
the Pickup/Place/Pour bookkeeping of ``add_interaction``), on top of AI2-THOR's own state changes
(ai2thor.allenai.org/ithor/documentation/object-state-changes).

Properties and their values (TEACh's own types, since saved states and EDH ``state_changes`` compare them):

* ``simbotObjectClass``: [type, Sink<->SinkBasin / Bathtub<->BathtubBasin twin, TEACh's custom classes].
* ``simbotPickedUp`` = 1 once picked up; ``simbotLastParentReceptacle`` = receptacle id of the last Place (None after
  a Pickup); ``simbotIsReceptacleOf`` = ids placed on this receptacle and not picked up since.
* ``simbotIsFilledWithWater`` = 1 after sitting in a running sink/bathtub; ``simbotIsFilledWithCoffee`` = True when it
  filled up inside a switched-on coffee machine (False after a Pour empties it).
* ``simbotIsCooked`` = True when AI2-THOR cooked it or it sat in a switched-on microwave / on a hot burner;
  ``simbotIsBoiled`` = True when it became cooked while its container held liquid.
* ``simbotIsSliced`` is deliberately **not** maintained: TEACh names it only in a comment and never writes it, so in
  TEACh a condition on it can never be met (the checker treats a missing property as False) and no shipped task or
  EDH state diff uses it. Writing it would make our checker disagree with TEACh's on the same state.
"""

from __future__ import annotations

import copy
from typing import Callable, Iterable

from .ontology import load_ontology

WATER_BASIN_WORDS = ("Sink", "Bathtub")
"""TEACh treats any type containing these (Sink, SinkBasin, Bathtub, BathtubBasin) as a running-water basin."""

_TWIN_TYPES = {"Sink": "SinkBasin", "SinkBasin": "Sink", "Bathtub": "BathtubBasin", "BathtubBasin": "Bathtub"}


def object_classes(object_type: str) -> list[str]:
    """TEACh's ``simbotObjectClass`` for a type: the type, its basin twin, then TEACh's custom classes."""
    classes = list(load_ontology().teach_classes(object_type))
    if not classes or classes[0] != object_type:
        classes.insert(0, object_type)
    twin = _TWIN_TYPES.get(object_type)
    if twin and twin not in classes:
        classes.insert(1, twin)
    return classes


def _copy_values(props: dict) -> dict:
    """A copy of simbot properties deep enough for their values (scalars, or lists of ids/class names), much cheaper
    than ``copy.deepcopy`` on the per-step hot path."""
    return {k: (list(v) if isinstance(v, list) else copy.deepcopy(v) if isinstance(v, dict) else v)
            for k, v in props.items()}


def _by_id(objects: Iterable[dict]) -> dict[str, dict]:
    return {o["objectId"]: o for o in objects}


def parent_receptacles(obj: dict, objects_by_id: dict[str, dict]) -> list[str] | None:
    """TEACh's ``get_parent_receptacles``: AI2-THOR's ``parentReceptacles`` when it is not None, else the chain of
    ``simbotLastParentReceptacle`` links (None if neither gives anything).

    TEACh stops the chain only at a self-reference; we stop at any repeat, so a cycle cannot recurse forever.
    """
    if obj.get("parentReceptacles") is not None:
        return list(obj["parentReceptacles"])
    chain: list[str] = []
    seen = {obj["objectId"]}
    current = obj
    while True:
        parent_id = current.get("simbotLastParentReceptacle")
        if parent_id is None or parent_id in seen:
            break
        chain.append(parent_id)
        seen.add(parent_id)
        parent = objects_by_id.get(parent_id)
        if parent is None:
            break
        if parent.get("parentReceptacles") is not None:
            chain.extend(parent["parentReceptacles"])
            break
        current = parent
    return chain or None


def _is_hot(obj: dict) -> bool:
    # AI2-THOR 3.x calls it ObjectTemperature, 5.x temperature; TEACh reads either.
    return "Hot" in str(obj.get("ObjectTemperature", "")) or "Hot" in str(obj.get("temperature", ""))


def _nearest_of_type(objects: list[dict], position: dict, object_type: str) -> dict | None:
    best, best_d = None, None
    for o in objects:
        if o["objectType"] != object_type:
            continue
        p = o["position"]
        d = (p["x"] - position["x"]) ** 2 + (p["y"] - position["y"]) ** 2 + (p["z"] - position["z"]) ** 2
        if best_d is None or d < best_d:
            best, best_d = o, d
    return best


def custom_metadata_from_state(state: dict) -> dict:
    """The simbot properties a TEACh state dict (``initial_state`` / ``final_state``) starts a tracker with.

    Per-object ``simbot*`` keys inside ``objects`` win over ``custom_object_metadata``: TEACh saves its live (final)
    custom dict into ``initial_state`` while ``objects`` carry the properties as they were when captured (teach.md
    section 9, quirk 8). Objects without any ``simbot*`` key keep their ``custom_object_metadata`` entry.
    """
    if not isinstance(state, dict):
        raise ValueError(f"a TEACh state must be a dict, got {type(state).__name__}")
    custom = state.get("custom_object_metadata") or {}
    if not isinstance(custom, dict):
        raise ValueError("state['custom_object_metadata'] must be a dict {objectId: {property: value}}")
    custom = copy.deepcopy(custom)
    for obj in state.get("objects") or []:
        props = {k: copy.deepcopy(v) for k, v in obj.items() if k.startswith("simbot")}
        if props:
            custom[obj["objectId"]] = props
    return custom


class SimbotTracker:
    """Keeps TEACh's custom properties for one episode: ``custom`` = {objectId: {prop: value}}.

    Call :meth:`reset` when a scene (or initial state) is loaded, :meth:`before_interaction` before every object
    interaction, and :meth:`after_interaction` after it; :meth:`merged` gives object dicts with the properties in.
    """

    def __init__(self) -> None:
        self.custom: dict[str, dict] = {}
        self._snapshot: dict[str, dict] | None = None

    # --- episode start / state capture --------------------------------------------------------------------------------
    def reset(self, objects: list[dict], custom_object_metadata: dict | None = None) -> None:
        """Start from ``custom_object_metadata`` (a TEACh state's dict; default empty) and give every object its
        ``simbotObjectClass``, as TEACh's ``__init_custom_object_metadata`` does."""
        if custom_object_metadata is not None and not isinstance(custom_object_metadata, dict):
            raise ValueError("custom_object_metadata must be a dict {objectId: {property: value}}, "
                             f"got {type(custom_object_metadata).__name__}")
        self.custom = copy.deepcopy(custom_object_metadata or {})
        self._snapshot = None
        self.add_classes(objects)

    def add_classes(self, objects: list[dict]) -> None:
        """(Re)write ``simbotObjectClass`` of every object from its own type (TEACh does this at episode start and
        whenever it captures a state, which also corrects the classes slices inherited from their parent)."""
        for obj in objects:
            self._set(obj["objectId"], "simbotObjectClass", object_classes(obj["objectType"]))

    def merged(self, objects: list[dict]) -> list[dict]:
        """Copies of ``objects`` with each one's custom properties merged in (TEACh's ``get_objects``)."""
        out = []
        for obj in objects:
            extra = self.custom.get(obj["objectId"])
            out.append({**obj, **_copy_values(extra)} if extra else dict(obj))
        return out

    # --- per interaction ----------------------------------------------------------------------------------------------
    def before_interaction(self, objects: list[dict]) -> None:
        """Remember the objects (with custom properties) as they were before the action: the coffee and boiled rules
        compare against it."""
        # merged() builds new dicts and deep-copies the custom properties (the only values mutated later), so the
        # snapshot needs no deep copy of the backend's metadata: both backends hand over fresh object dicts.
        self._snapshot = _by_id(self.merged(objects))

    def after_interaction(self, action: str, success: bool, target_id: str | None, held_before: list[str],
                          get_objects: Callable[[], list[dict]], run_action: Callable[..., object]) -> None:
        """Apply TEACh's bookkeeping for ``action`` (an AI2-THOR action name) and then its per-step rules.

        Order as in TEACh's ``add_interaction``: on success, Pour's coffee reset, Pickup / Place bookkeeping and the
        slice transfer; then, whatever the outcome, the Sink, Coffee, Cooked and Boiled rules against the snapshot
        taken by :meth:`before_interaction`. ``get_objects()`` returns the simulator's current object dicts (without
        custom properties); ``run_action(action=..., objectId=..., ...)`` sends a follow-up action to the simulator.
        """
        if success:
            objects = get_objects()
            if action == "Pour":
                self._after_pour(held_before, objects)
            elif action == "PickupObject":
                self._after_pickup(objects)
            elif action == "PutObject" and target_id is not None:
                self._after_place(target_id, held_before)
            elif action == "SliceObject":
                self._transfer_on_slicing(objects)
        self.apply_step_rules(get_objects, run_action)

    def apply_step_rules(self, get_objects: Callable[[], list[dict]], run_action: Callable[..., object]) -> None:
        """TEACh's ``__check_per_step_custom_properties``: Sink, then Coffee, Cooked and Boiled (the last three on the
        objects as they are after the Sink rule's follow-up actions). Without a snapshot (episode start) nothing can
        have "just" filled or cooked, as in TEACh."""
        self._sink_rule(get_objects(), run_action)
        objects = self.merged(get_objects())
        self._coffee_rule(objects)
        objects = self.merged(objects)
        self._cooked_rule(objects)
        objects = self.merged(objects)
        self._boiled_rule(objects)
        self._snapshot = None

    # --- bookkeeping ------------------------------------------------------------------------------------------------
    def _after_pour(self, held_before: list[str], objects: list[dict]) -> None:
        # TEACh empties the held object after a Pour and then clears its coffee flag (but not the water flag).
        current = _by_id(objects)
        for oid in held_before[:1]:
            if oid in current and not current[oid].get("isFilledWithLiquid", False):
                self._set(oid, "simbotIsFilledWithCoffee", False)

    def _after_pickup(self, objects: list[dict]) -> None:
        for obj in objects:
            if not obj.get("isPickedUp"):
                continue
            oid = obj["objectId"]
            self._set(oid, "simbotPickedUp", 1)
            old_parent = self.custom[oid].get("simbotLastParentReceptacle")
            if old_parent is not None:
                self._remove_from_list(old_parent, "simbotIsReceptacleOf", oid)
            self._set(oid, "simbotLastParentReceptacle", None)

    def _after_place(self, receptacle_id: str, held_before: list[str]) -> None:
        for oid in held_before:
            self._set(oid, "simbotLastParentReceptacle", receptacle_id)
            self._append_to_list(receptacle_id, "simbotIsReceptacleOf", oid)

    def _transfer_on_slicing(self, objects: list[dict]) -> None:
        """Pieces ``<sourceId>|<Type>Sliced_k`` / ``...Cracked_k`` inherit the source's whole custom dict (including
        its classes, TEACh quirk 7) and join its last receptacle; the source's entry and references go.

        Unlike TEACh, only pieces that appeared in this step inherit: TEACh rescans every piece in the scene, so after a
        state capture has re-added classes for the (disabled) source, a later slice would overwrite older pieces'
        properties with the source's bare classes."""
        sources = set()
        for obj in objects:
            oid = obj["objectId"]
            if "Sliced" not in oid and "Cracked" not in oid:
                continue
            if self._snapshot is not None and oid in self._snapshot:
                continue
            source = "|".join(oid.split("|")[:-1])
            if source not in self.custom:
                continue
            self.custom[oid] = copy.deepcopy(self.custom[source])
            parent = self.custom[oid].get("simbotLastParentReceptacle")
            if parent is not None:
                self._append_to_list(parent, "simbotIsReceptacleOf", oid)
            sources.add(source)
        for source in sources:
            self._forget(source)

    # --- per-step rules -----------------------------------------------------------------------------------------------
    def _sink_rule(self, raw_objects: list[dict], run_action: Callable[..., object]) -> None:
        """Objects in a basin whose nearest faucet is on get cleaned and filled with water through the simulator."""
        objects = self.merged(raw_objects)
        running = set()
        for obj in objects:
            if any(word in obj["objectType"] for word in WATER_BASIN_WORDS):
                faucet = _nearest_of_type(objects, obj["position"], "Faucet")
                if faucet is not None and faucet.get("isToggled"):
                    running.add(obj["objectId"])
        if not running:
            return
        by_id = _by_id(objects)
        for obj in objects:
            parents = parent_receptacles(obj, by_id)
            if not parents or not running.intersection(parents):
                continue
            if obj.get("isDirty"):
                run_action(action="CleanObject", objectId=obj["objectId"], forceAction=True)
            if obj.get("canFillWithLiquid"):
                run_action(action="FillObjectWithLiquid", objectId=obj["objectId"], fillLiquid="water",
                           forceAction=True)
                self._set(obj["objectId"], "simbotIsFilledWithWater", 1)

    def _coffee_rule(self, objects: list[dict]) -> None:
        machines = {o["objectId"] for o in objects if "CoffeeMachine" in o["objectType"] and o.get("isToggled")}
        if not machines:
            return
        by_id = _by_id(objects)
        for obj in objects:
            before = (self._snapshot or {}).get(obj["objectId"])
            was_filled = bool(before and before.get("isFilledWithLiquid"))
            parents = parent_receptacles(obj, by_id)
            if (parents and machines.intersection(parents) and obj.get("canFillWithLiquid")
                    and obj.get("isFilledWithLiquid") and not was_filled):
                self._set(obj["objectId"], "simbotIsFilledWithCoffee", True)

    def _cooked_rule(self, objects: list[dict]) -> None:
        by_id = _by_id(objects)
        for obj in objects:
            if obj.get("isCooked"):
                self._set(obj["objectId"], "simbotIsCooked", True)
        for obj in objects:
            if not obj.get("cookable") or obj.get("isCooked") or obj.get("simbotIsCooked"):
                continue
            parents = [by_id[p] for p in parent_receptacles(obj, by_id) or () if p in by_id]
            in_hot_microwave = any(p["objectType"] == "Microwave" and p.get("isToggled") for p in parents)
            on_hot_burner = any(p["objectType"] == "StoveBurner" and _is_hot(p) for p in parents)
            if in_hot_microwave or on_hot_burner:
                self._set(obj["objectId"], "simbotIsCooked", True)

    def _boiled_rule(self, objects: list[dict]) -> None:
        if self._snapshot is None:
            return  # TEACh needs the previous step to call anything "just cooked"
        by_id = _by_id(objects)
        for obj in objects:
            before = self._snapshot.get(obj["objectId"])
            if not obj.get("isCooked") or (before is not None and before.get("isCooked")):
                continue
            for parent_id in parent_receptacles(obj, by_id) or ():
                parent = by_id.get(parent_id)
                if parent and (parent.get("isFilledWithLiquid") or parent.get("simbotIsFilledWithWater")):
                    self._set(obj["objectId"], "simbotIsBoiled", True)
                    break

    # --- custom dict helpers ------------------------------------------------------------------------------------------
    def _set(self, oid: str, prop: str, value) -> None:
        self.custom.setdefault(oid, {})[prop] = value

    def _append_to_list(self, oid: str, prop: str, value: str) -> None:
        values = self.custom.setdefault(oid, {}).setdefault(prop, [])
        if value not in values:
            values.append(value)

    def _remove_from_list(self, oid: str, prop: str, value: str) -> None:
        values = self.custom.get(oid, {}).get(prop)
        if isinstance(values, list) and value in values:
            values.remove(value)

    def _forget(self, oid: str) -> None:
        """Delete an object's entry and every reference to it (lists lose it, scalar links become None)."""
        self.custom.pop(oid, None)
        for props in self.custom.values():
            for prop, value in props.items():
                if isinstance(value, list) and oid in value:
                    value.remove(oid)
                elif value == oid:
                    props[prop] = None
