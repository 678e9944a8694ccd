"""EDH state diffs as TEACh builds them: changes against the initial state, then between two diffs."""

from __future__ import annotations

from episodes import diff_between, edh_check_task, state_changes_from_initial

MUG = "Mug|1|1|1"
BREAD = "Bread|2|1|1"


def _state(mug: dict, breads: list[dict], custom: dict | None = None) -> dict:
    return {"time_start": 0, "agents": [{"position": {"x": 0.0}}],
            "objects": [{"objectId": MUG, "objectType": "Mug", **mug}, *breads],
            "custom_object_metadata": custom or {}}


def test_changes_against_the_initial_state():
    initial = _state({"isDirty": True, "mass": 0.25}, [{"objectId": BREAD, "objectType": "Bread", "isSliced": False}])
    later = _state({"isDirty": False, "mass": 0.2500000001},
                   [{"objectId": BREAD + "|BreadSliced_1", "objectType": "BreadSliced", "isSliced": False,
                     "isCooked": True}],
                   custom={MUG: {"simbotIsFilledWithCoffee": True}})
    diff = state_changes_from_initial(initial, later)
    assert diff["agents"] == {}  # as TEACh's released files (alexa/teach#12)
    assert diff["objects"][MUG] == {"isDirty": False, "simbotIsFilledWithCoffee": True}  # float noise ignored
    # the slice is compared with the whole bread it came from
    assert diff["objects"][BREAD + "|BreadSliced_1"] == {"objectId": BREAD + "|BreadSliced_1",
                                                         "objectType": "BreadSliced", "isCooked": True}
    assert initial["objects"][0]["isDirty"] is True and "simbotIsFilledWithCoffee" not in initial["objects"][0]


def test_changes_between_diffs_keep_checked_properties_only():
    at_history_end = {"agents": {}, "objects": {MUG: {"isDirty": False, "position": {"x": 1.0}}}}
    at_future_end = {"agents": {}, "objects": {
        MUG: {"isDirty": False, "simbotIsFilledWithCoffee": True, "position": {"x": 2.0}},
        BREAD + "|BreadSliced_1": {"objectType": "BreadSliced", "isCooked": True, "mass": 0.1}}}
    changes = diff_between(at_history_end, at_future_end)
    assert changes["objects"] == {MUG: {"simbotIsFilledWithCoffee": True},
                                  BREAD + "|BreadSliced_1": {"objectType": "BreadSliced", "isCooked": True}}
    task = edh_check_task(changes)
    assert set(task.components) == {"('Mug', 'simbotIsFilledWithCoffee', True)",
                                    "('BreadSliced', 'objectType', 'BreadSliced')", "('BreadSliced', 'isCooked', True)"}
    assert diff_between(at_future_end, at_future_end)["objects"] == {}


def test_per_view_properties_never_make_a_diff_entry():
    """The Driver walking about changes every object's distance and visibility; none of that is a state change."""
    initial = _state({"isDirty": True, "distance": 1.0, "visible": False, "obstructed": True},
                     [{"objectId": BREAD, "objectType": "Bread", "distance": 2.0, "visible": True}])
    later = _state({"isDirty": False, "distance": 3.5, "visible": True, "obstructed": False},
                   [{"objectId": BREAD, "objectType": "Bread", "distance": 0.4, "visible": False}])
    diff = state_changes_from_initial(initial, later)
    assert diff["objects"] == {MUG: {"isDirty": False}}  # the bread only looked different: no entry at all
