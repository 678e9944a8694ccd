"""TEACh's simbot properties (envs.simbot) on hand-built object lists."""

import pytest

from envs.simbot import SimbotTracker, custom_metadata_from_state, object_classes, parent_receptacles

ORIGIN = {"x": 0.0, "y": 0.0, "z": 0.0}


def obj(oid, parents=None, position=None, **props):
    base = {"objectId": oid, "objectType": oid.split("|")[0], "position": position or ORIGIN,
            "parentReceptacles": parents, "isPickedUp": False, "isDirty": False, "canFillWithLiquid": False,
            "isFilledWithLiquid": False, "cookable": False, "isCooked": False, "isToggled": False}
    base.update(props)
    return base


class World:
    """A list of object dicts plus a log of follow-up actions; Fill/Clean change the objects like AI2-THOR would."""

    def __init__(self, objects):
        self.objects = objects
        self.actions = []

    def get(self, oid):
        return next(o for o in self.objects if o["objectId"] == oid)

    def get_objects(self):
        return [dict(o) for o in self.objects]

    def run_action(self, **action):
        self.actions.append(action)
        if action["action"] == "FillObjectWithLiquid":
            self.get(action["objectId"]).update(isFilledWithLiquid=True, fillLiquid=action["fillLiquid"])
        elif action["action"] == "CleanObject":
            self.get(action["objectId"])["isDirty"] = False


def step(tracker, world, action="ToggleObjectOn", success=True, target=None, held=(), change=None):
    """before_interaction, apply ``change`` to the world (the simulator's own effect), after_interaction."""
    tracker.before_interaction(world.get_objects())
    if change:
        change(world)
    tracker.after_interaction(action, success, target, list(held), world.get_objects, world.run_action)


def test_object_classes_add_basin_twin_and_teach_classes():
    assert object_classes("Sink") == ["Sink", "SinkBasin"]
    assert object_classes("BathtubBasin") == ["BathtubBasin", "Bathtub"]
    assert object_classes("Mug")[:1] == ["Mug"] and "Drinkware" in object_classes("Mug")


def test_reset_gives_classes_and_copies_given_metadata():
    given = {"Mug|1": {"simbotPickedUp": 1}}
    tracker = SimbotTracker()
    tracker.reset([obj("Mug|1"), obj("Sink|1")], given)
    assert tracker.custom["Mug|1"]["simbotPickedUp"] == 1
    assert tracker.custom["Sink|1"]["simbotObjectClass"] == ["Sink", "SinkBasin"]
    tracker.custom["Mug|1"]["simbotPickedUp"] = 0
    assert given["Mug|1"]["simbotPickedUp"] == 1  # the caller's dict is not shared
    with pytest.raises(ValueError, match="custom_object_metadata"):
        tracker.reset([], custom_object_metadata=["not", "a", "dict"])


def test_merged_adds_properties_without_sharing_state():
    tracker = SimbotTracker()
    tracker.reset([obj("Mug|1")])
    merged = tracker.merged([obj("Mug|1")])
    assert merged[0]["simbotObjectClass"][0] == "Mug"
    merged[0]["simbotObjectClass"].append("Junk")
    assert "Junk" not in tracker.custom["Mug|1"]["simbotObjectClass"]


def test_parent_receptacles_prefers_thor_then_follows_last_parent_chain_and_stops_on_cycles():
    objects = {o["objectId"]: o for o in [
        obj("Apple|1", simbotLastParentReceptacle="Plate|1"),
        obj("Plate|1", simbotLastParentReceptacle="Table|1"),
        obj("Table|1", parents=["Floor|1"]),
        obj("Egg|1", parents=["Bowl|1"], simbotLastParentReceptacle="Plate|1"),
        obj("A|1", simbotLastParentReceptacle="B|1"),
        obj("B|1", simbotLastParentReceptacle="A|1"),
    ]}
    assert parent_receptacles(objects["Apple|1"], objects) == ["Plate|1", "Table|1", "Floor|1"]
    assert parent_receptacles(objects["Egg|1"], objects) == ["Bowl|1"]
    assert parent_receptacles(objects["A|1"], objects) == ["B|1"]
    assert parent_receptacles(obj("Lone|1"), objects) is None


def test_sink_rule_cleans_and_fills_through_the_simulator_only_when_nearest_faucet_is_on():
    world = World([
        obj("Sink|1", position={"x": 0, "y": 1, "z": 0}),
        obj("Sink|1|SinkBasin", position={"x": 0, "y": 0.9, "z": 0}),
        obj("Faucet|near", position={"x": 0, "y": 1.2, "z": 0.2}, isToggled=True),
        obj("Faucet|far", position={"x": 5, "y": 1.2, "z": 5}, isToggled=False),
        obj("Mug|1", parents=["Sink|1|SinkBasin"], isDirty=True, canFillWithLiquid=True),
        obj("Apple|1", parents=["CounterTop|1"], isDirty=True, canFillWithLiquid=True),
    ])
    tracker = SimbotTracker()
    tracker.reset(world.objects)
    step(tracker, world)
    assert world.actions == [
        {"action": "CleanObject", "objectId": "Mug|1", "forceAction": True},
        {"action": "FillObjectWithLiquid", "objectId": "Mug|1", "fillLiquid": "water", "forceAction": True},
    ]
    assert tracker.custom["Mug|1"]["simbotIsFilledWithWater"] == 1
    assert "simbotIsFilledWithWater" not in tracker.custom["Apple|1"]

    world.get("Faucet|near")["isToggled"] = False
    world.get("Faucet|far")["isToggled"] = True  # on, but not the sink's nearest faucet
    world.actions.clear()
    step(tracker, world)
    assert world.actions == []


def test_coffee_only_when_fill_happened_this_step_in_a_running_machine():
    world = World([obj("CoffeeMachine|1", isToggled=True), obj("Mug|1", parents=["CoffeeMachine|1"],
                                                                   canFillWithLiquid=True)])
    tracker = SimbotTracker()
    tracker.reset(world.objects)
    step(tracker, world, change=lambda w: w.get("Mug|1").update(isFilledWithLiquid=True))
    assert tracker.custom["Mug|1"]["simbotIsFilledWithCoffee"] is True

    world2 = World([obj("CoffeeMachine|1", isToggled=True),
                    obj("Mug|1", parents=["CoffeeMachine|1"], canFillWithLiquid=True, isFilledWithLiquid=True)])
    tracker2 = SimbotTracker()
    tracker2.reset(world2.objects)
    step(tracker2, world2)  # already full of water before the step: not coffee
    assert "simbotIsFilledWithCoffee" not in tracker2.custom["Mug|1"]

    world3 = World([obj("CoffeeMachine|1"), obj("Mug|1", parents=["CoffeeMachine|1"], canFillWithLiquid=True)])
    tracker3 = SimbotTracker()
    tracker3.reset(world3.objects)
    step(tracker3, world3, change=lambda w: w.get("Mug|1").update(isFilledWithLiquid=True))
    assert "simbotIsFilledWithCoffee" not in tracker3.custom["Mug|1"]  # machine off


def test_cooked_by_thor_by_running_microwave_or_hot_burner():
    world = World([
        obj("Microwave|1", isToggled=True), obj("StoveBurner|hot", temperature="Hot"),
        obj("StoveBurner|cold", ObjectTemperature="RoomTemp"),
        obj("Potato|thor", cookable=True, isCooked=True),
        obj("Potato|mw", parents=["Microwave|1"], cookable=True),
        obj("Pan|1", parents=["StoveBurner|hot"]),
        obj("Egg|pan", parents=["Pan|1", "StoveBurner|hot"], cookable=True),
        obj("Egg|cold", parents=["StoveBurner|cold"], cookable=True),
    ])
    tracker = SimbotTracker()
    tracker.reset(world.objects)
    step(tracker, world)
    cooked = {oid for oid, props in tracker.custom.items() if props.get("simbotIsCooked")}
    assert cooked == {"Potato|thor", "Potato|mw", "Egg|pan"}


def test_boiled_needs_cooking_this_step_inside_a_liquid_filled_container():
    def make():
        return World([obj("Pot|1", canFillWithLiquid=True, isFilledWithLiquid=True),
                      obj("Potato|1", parents=["Pot|1"], cookable=True)])

    world = make()
    tracker = SimbotTracker()
    tracker.reset(world.objects)
    step(tracker, world, change=lambda w: w.get("Potato|1").update(isCooked=True))
    assert tracker.custom["Potato|1"]["simbotIsBoiled"] is True

    dry = make()
    dry.get("Pot|1")["isFilledWithLiquid"] = False
    tracker_dry = SimbotTracker()
    tracker_dry.reset(dry.objects)
    step(tracker_dry, dry, change=lambda w: w.get("Potato|1").update(isCooked=True))
    assert "simbotIsBoiled" not in tracker_dry.custom["Potato|1"]

    # The simbot water flag counts as liquid too; an object cooked before the step is not "just" boiled.
    dry.get("Potato|1")["isCooked"] = False
    tracker_dry.custom["Pot|1"]["simbotIsFilledWithWater"] = 1
    step(tracker_dry, dry, change=lambda w: w.get("Potato|1").update(isCooked=True))
    assert tracker_dry.custom["Potato|1"]["simbotIsBoiled"] is True
    already = make()
    already.get("Potato|1")["isCooked"] = True
    tracker_already = SimbotTracker()
    tracker_already.reset(already.objects)
    step(tracker_already, already)
    assert "simbotIsBoiled" not in tracker_already.custom["Potato|1"]


def test_place_then_pickup_bookkeeping():
    world = World([obj("Plate|1"), obj("Apple|1", isPickedUp=True)])
    tracker = SimbotTracker()
    tracker.reset(world.objects)

    def put_down(w):
        w.get("Apple|1").update(isPickedUp=False, parentReceptacles=["Plate|1"])

    step(tracker, world, "PutObject", True, "Plate|1", ["Apple|1"], change=put_down)
    assert tracker.custom["Apple|1"]["simbotLastParentReceptacle"] == "Plate|1"
    assert tracker.custom["Plate|1"]["simbotIsReceptacleOf"] == ["Apple|1"]

    step(tracker, world, "PickupObject", True, "Apple|1",
         change=lambda w: w.get("Apple|1").update(isPickedUp=True, parentReceptacles=None))
    assert tracker.custom["Apple|1"]["simbotPickedUp"] == 1
    assert tracker.custom["Apple|1"]["simbotLastParentReceptacle"] is None
    assert tracker.custom["Plate|1"]["simbotIsReceptacleOf"] == []


def test_failed_actions_skip_bookkeeping_but_still_run_the_rules():
    world = World([obj("Plate|1"), obj("Apple|1", isPickedUp=True), obj("Potato|1", cookable=True, isCooked=True)])
    tracker = SimbotTracker()
    tracker.reset(world.objects)
    step(tracker, world, "PutObject", False, "Plate|1", ["Apple|1"])
    assert "simbotLastParentReceptacle" not in tracker.custom["Apple|1"]
    assert tracker.custom["Potato|1"]["simbotIsCooked"] is True


def test_slicing_copies_the_source_properties_to_pieces_and_forgets_the_source():
    world = World([obj("CounterTop|1"), obj("Apple|1", sliceable=True)])
    tracker = SimbotTracker()
    tracker.reset(world.objects)
    tracker.custom["Apple|1"].update(simbotLastParentReceptacle="CounterTop|1", simbotIsCooked=True)
    tracker.custom["CounterTop|1"]["simbotIsReceptacleOf"] = ["Apple|1"]

    def slice_apple(w):
        w.get("Apple|1")["isSliced"] = True
        w.objects += [obj(f"Apple|1|AppleSliced_{k}", objectType="AppleSliced") for k in range(2)]

    step(tracker, world, "SliceObject", True, "Apple|1", ["Knife|1"], change=slice_apple)
    assert "Apple|1" not in tracker.custom
    for piece in ("Apple|1|AppleSliced_0", "Apple|1|AppleSliced_1"):
        assert tracker.custom[piece]["simbotIsCooked"] is True
        assert tracker.custom[piece]["simbotObjectClass"][0] == "Apple"  # TEACh quirk 7: the parent's classes
    assert tracker.custom["CounterTop|1"]["simbotIsReceptacleOf"] == ["Apple|1|AppleSliced_0", "Apple|1|AppleSliced_1"]
    tracker.add_classes(world.objects)  # a state capture re-derives classes from each object's own type
    assert tracker.custom["Apple|1|AppleSliced_0"]["simbotObjectClass"][0] == "AppleSliced"

    # A later slice of something else must not hand the (re-classed) source's entry to the old pieces again.
    world.objects.append(obj("Bread|1", sliceable=True))
    tracker.add_classes(world.objects)
    step(tracker, world, "SliceObject", True, "Bread|1", ["Knife|1"],
         change=lambda w: w.objects.append(obj("Bread|1|BreadSliced_0", objectType="BreadSliced")))
    assert tracker.custom["Apple|1|AppleSliced_0"]["simbotIsCooked"] is True
    assert tracker.custom["Bread|1|BreadSliced_0"]["simbotObjectClass"][0] == "Bread"


def test_pour_clears_coffee_flag_of_the_emptied_held_object_only():
    world = World([obj("Mug|1", isPickedUp=True, canFillWithLiquid=True, isFilledWithLiquid=True),
                   obj("HousePlant|1", canFillWithLiquid=True)])
    tracker = SimbotTracker()
    tracker.reset(world.objects)
    tracker.custom["Mug|1"].update(simbotIsFilledWithCoffee=True, simbotIsFilledWithWater=1)

    def pour(w):
        w.get("HousePlant|1")["isFilledWithLiquid"] = True
        w.get("Mug|1")["isFilledWithLiquid"] = False

    step(tracker, world, "Pour", True, "HousePlant|1", ["Mug|1"], change=pour)
    assert tracker.custom["Mug|1"]["simbotIsFilledWithCoffee"] is False
    assert tracker.custom["Mug|1"]["simbotIsFilledWithWater"] == 1  # TEACh never clears the water flag


def test_simbot_is_sliced_is_never_written():
    world = World([obj("Apple|1", sliceable=True)])
    tracker = SimbotTracker()
    tracker.reset(world.objects)

    def cut(w):
        w.get("Apple|1").update(isSliced=True)
        w.objects.append(obj("Apple|1|AppleSliced_0"))

    step(tracker, world, "SliceObject", True, "Apple|1", change=cut)
    assert tracker.custom["Apple|1|AppleSliced_0"]["simbotObjectClass"][0] == "Apple"  # the piece took the source's
    merged = {o["objectId"]: o for o in tracker.merged(world.get_objects())}
    assert merged["Apple|1"]["isSliced"] is True  # AI2-THOR's own flag, untouched
    assert all("simbotIsSliced" not in o for o in merged.values())
    assert all("simbotIsSliced" not in props for props in tracker.custom.values())


def test_state_custom_metadata_prefers_each_objects_captured_properties():
    state = {"objects": [obj("Mug|1", simbotIsFilledWithCoffee=False), obj("Plate|1")],
             "custom_object_metadata": {"Mug|1": {"simbotIsFilledWithCoffee": True}, "Plate|1": {"simbotPickedUp": 1}}}
    custom = custom_metadata_from_state(state)
    assert custom["Mug|1"] == {"simbotIsFilledWithCoffee": False}  # TEACh quirk 8: the saved dict is the final one
    assert custom["Plate|1"] == {"simbotPickedUp": 1}
    custom["Plate|1"]["simbotPickedUp"] = 0
    assert state["custom_object_metadata"]["Plate|1"]["simbotPickedUp"] == 1
    with pytest.raises(ValueError, match="custom_object_metadata"):
        custom_metadata_from_state({"objects": [], "custom_object_metadata": [1]})
