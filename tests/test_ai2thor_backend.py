"""The ai2thor adapter against the REAL ``ai2thor`` package: ``Controller`` construction/step/reset and
``ai2thor.server.Event`` decoding run unchanged; only the Unity process is replaced by an in-process fake server
(AI2-THOR's own ``tests/test_controller.py`` pattern; no Unity, no network)."""

import copy

import numpy as np
import pytest

ai2thor_controller = pytest.importorskip("ai2thor.controller")
ai2thor_server = pytest.importorskip("ai2thor.server")
ai2thor_build = pytest.importorskip("ai2thor.build")

from envs.ai2thor_backend import AI2ThorEnv  # noqa: E402
from envs.simbot import SimbotTracker, custom_metadata_from_state  # noqa: E402

W = H = 40
NEAR, FAR = 0.8, 3.0
# objectId -> (row slice, col slice, depth): the fixed image the fake server renders
LAYOUT = {
    "Apple|+00.50|+00.90|+01.00": (slice(10, 20), slice(10, 20), NEAR),
    "Mug|+00.20|+00.90|+01.00": (slice(5, 15), slice(25, 35), NEAR),
    "HousePlant|-00.20|+00.90|+01.00": (slice(16, 24), slice(28, 36), NEAR),
    "Cabinet|+01.00|+01.50|+03.00": (slice(0, 5), slice(36, 40), FAR),
    "CounterTop|+00.00|+00.90|+01.00": (slice(25, 40), slice(0, 40), NEAR),
    "Bread|+00.40|+00.90|+01.00": (slice(20, 25), slice(0, 10), NEAR),
}


def make_object(oid, **props):
    kind = oid.split("|")[0]
    pos = [float(v) for v in oid.split("|")[1:4]]
    obj = {"objectId": oid, "objectType": kind, "name": f"{kind}_abc(Clone)",
           "position": {"x": pos[0], "y": pos[1], "z": pos[2]}, "rotation": {"x": 0.0, "y": 0.0, "z": 0.0},
           "visible": True, "pickupable": False, "moveable": False, "receptacle": False, "openable": False,
           "isOpen": False, "toggleable": False, "isToggled": False, "sliceable": False, "isSliced": False,
           "cookable": False, "isCooked": False, "dirtyable": False, "isDirty": False, "canFillWithLiquid": False,
           "isFilledWithLiquid": False, "breakable": False, "isBroken": False, "canBeUsedUp": False,
           "isUsedUp": False, "isPickedUp": False, "parentReceptacles": None, "receptacleObjectIds": None}
    obj.update(props)
    return obj


class FakeWorld:
    """A tiny scene that answers AI2-THOR actions the way Unity would (only what these tests need)."""

    def __init__(self):
        table = "CounterTop|+00.00|+00.90|+01.00"
        self.objects = [
            make_object("Apple|+00.50|+00.90|+01.00", pickupable=True, parentReceptacles=[table]),
            make_object("Mug|+00.20|+00.90|+01.00", pickupable=True, canFillWithLiquid=True, dirtyable=True,
                        breakable=True, parentReceptacles=[table]),
            make_object("HousePlant|-00.20|+00.90|+01.00", canFillWithLiquid=True),
            make_object("Cabinet|+01.00|+01.50|+03.00", openable=True, receptacle=True),
            make_object(table, receptacle=True),
            make_object("Bread|+00.40|+00.90|+01.00", sliceable=True, pickupable=True),
            make_object("Knife|+00.90|+00.90|+01.00", pickupable=True),
        ]
        self.agent = {"position": {"x": 0.0, "y": 0.9, "z": 0.0}, "rotation": {"x": 0.0, "y": 0.0, "z": 0.0},
                      "cameraHorizon": 0.0, "isStanding": True}
        self.inventory: list[str] = []

    def get(self, oid):
        return next(o for o in self.objects if o["objectId"] == oid)

    def hold(self, oid, **props):
        self.get(oid).update(isPickedUp=True, parentReceptacles=None, **props)
        self.inventory = [oid]

    def handle(self, action):
        """Apply ``action``; return (success, errorMessage, actionReturn, errorCode)."""
        name = action["action"]
        oid = action.get("objectId")
        if name == "GetScenesInBuild":
            return True, "", ["FloorPlan1_physics"], ""
        if name == "Initialize":
            return True, "", {"cameraNearPlane": 0.1, "cameraFarPlane": 20.0}, ""
        if name in ("Reset", "Pass", "SetObjectPoses", "MakeObjectsOfTypeUnbreakable"):
            return True, "", None, ""
        if name == "MoveAhead":
            self.agent["position"]["z"] += action.get("moveMagnitude", 0.25)
            return True, "", None, ""
        if name == "TeleportFull":
            self.agent.update(position={k: action[k] for k in "xyz"}, rotation=dict(action["rotation"]),
                              cameraHorizon=action["horizon"])
            return True, "", None, ""
        if name == "PickupObject":
            self.hold(oid)
            return True, "", None, ""
        if name == "PutObject":
            held = self.get(self.inventory.pop())
            held.update(isPickedUp=False, parentReceptacles=["CounterTop|+00.00|+00.90|+01.00"])
            return True, "", None, ""
        if name == "FillObjectWithLiquid":
            if not self.get(oid)["canFillWithLiquid"]:
                return False, f"{oid} cannot be filled", None, ""
            self.get(oid).update(isFilledWithLiquid=True, fillLiquid=action["fillLiquid"])
            return True, "", None, ""
        if name == "EmptyLiquidFromObject":
            self.get(oid).update(isFilledWithLiquid=False, fillLiquid=None)
            return True, "", None, ""
        if name == "ToggleObjectOn":
            self.get(oid)["isToggled"] = True
            return True, "", None, ""
        if name == "OpenObject":
            return False, "Object failed to open/close successfully.", None, ""
        if name in ("DirtyObject", "CleanObject"):
            self.get(oid)["isDirty"] = name == "DirtyObject"
            return True, "", None, ""
        if name == "SliceObject":
            self.get(oid)["isSliced"] = True
            self.objects.append(make_object(f"{oid}|BreadSliced_0", objectType="BreadSliced", pickupable=True))
            return True, "", None, ""
        return False, f"Invalid action: {name}", None, "InvalidAction"

    def payload(self, action, outcome):
        success, error, action_return, code = outcome
        frame = np.zeros((H, W, 3), np.uint8)
        frame[..., 0] = np.arange(H)[:, None]  # red = row: checks the vertical flip of Unity's buffer
        frame[..., 1] = np.arange(W)[None, :]
        depth = np.full((H, W), 5.0, np.float32)
        ids = np.zeros((H, W, 3), np.uint8)
        colors = []
        for i, (oid, (rows, cols, d)) in enumerate(LAYOUT.items()):
            colour = [30 * (i + 1), 255 - 30 * i, 11 * i]
            ids[rows, cols] = colour
            depth[rows, cols] = d
            colors.append({"name": oid, "color": colour})
        agent_meta = {
            "screenWidth": W, "screenHeight": H, "thirdPartyCameras": None, "colors": colors,
            "objects": copy.deepcopy(self.objects), "agent": copy.deepcopy(self.agent),
            "inventoryObjects": [{"objectId": i, "objectType": self.get(i)["objectType"]} for i in self.inventory],
            "lastAction": action["action"], "lastActionSuccess": success, "errorMessage": error,
            "errorCode": code, "actionReturn": action_return, "fov": 90.0, "sceneName": "FloorPlan1_physics",
            "depthFormat": "Meters",
        }
        # Unity sends rows bottom-up; ai2thor.server.read_buffer_image flips them back.
        files = {"image": [np.flipud(frame).tobytes()], "image_ids": [np.flipud(ids).tobytes()],
                 "image_depth": [np.flipud(depth).tobytes()]}
        return {"agents": [agent_meta], "sequenceId": 0, "activeAgentId": 0}, files


class FakeUnityServer(ai2thor_server.Server):
    """Stands in for the FIFO server + Unity: records what the client sent and answers with real Events."""

    server_type = "FIFO"

    def __init__(self, world, width, height):
        super().__init__(width=width, height=height, timeout=None)
        self.world = world
        self.received: list[dict] = []
        self._reply = world.payload({"action": "Initialize"}, (True, "", None, ""))
        self.stops = 0

    def start(self):
        self.started = True

    def stop(self):
        self.stops += 1

    def unity_params(self):
        return {}

    def send(self, action):
        self.received.append(copy.deepcopy(action))
        self._reply = self.world.payload(action, self.world.handle(action))

    def receive(self, timeout=None):
        return self.create_event(*self._reply)


def fake_controller_class(world):
    class FakeLaunchController(ai2thor_controller.Controller):
        """The real Controller with only the Unity launch replaced."""

        def _build_server(self, host, port, width, height):
            if self.server is None:
                self.server = FakeUnityServer(world, width, height)

        def _start_unity_thread(self, env, width, height, unity_params, image_name):
            pass

        def prune_releases(self):
            pass

    return FakeLaunchController


@pytest.fixture
def world():
    return FakeWorld()


@pytest.fixture
def env(world, monkeypatch):
    monkeypatch.setattr(ai2thor_controller, "Controller", fake_controller_class(world))
    environment = AI2ThorEnv(width=W, height=H, fov=90, local_executable_path="/nonexistent/thor",
                             scene="FloorPlan1")
    environment.reset("FloorPlan1")
    yield environment
    environment.close()


def received(env):
    return env.controller.server.received


def click(oid):
    """(x, y) at the centre of an object's region in LAYOUT."""
    rows, cols, _ = LAYOUT[oid]
    return (cols.start + cols.stop) / 2 / W, (rows.start + rows.stop) / 2 / H


APPLE, MUG, PLANT, CABINET, COUNTER, BREAD = LAYOUT


def test_controller_gets_teach_settings_and_scene(env):
    init = [a for a in received(env) if a["action"] == "Initialize"][-1]
    for key, value in {"gridSize": 0.25, "snapToGrid": True, "visibilityDistance": 1.5, "renderDepthImage": True,
                       "renderInstanceSegmentation": True, "fieldOfView": 90.0}.items():
        assert init[key] == value, key
    assert [a["sceneName"] for a in received(env) if a["action"] == "Reset"][-1] == "FloorPlan1_physics"


def test_event_conversion_frames_colours_metadata(env):
    event = env.last_event
    assert event.frame.shape == (H, W, 3) and event.frame[0, 5, 0] == 0 and event.frame[39, 5, 0] == 39
    assert event.depth_frame.dtype == np.float32
    assert event.depth_frame[15, 15] == pytest.approx(NEAR) and event.depth_frame[2, 38] == pytest.approx(FAR)
    assert event.object_id_at(15, 15) == APPLE and event.object_id_at(30, 3) == COUNTER
    assert int(event.instance_masks[MUG].sum()) == 100
    apple = event.get_object(APPLE)
    assert apple["simbotObjectClass"][0] == "Apple"
    assert type(event.metadata) is dict and event.metadata["lastActionSuccess"] is True


def test_navigation_arguments_pass_through(env):
    event = env.step("MoveAhead", moveMagnitude=0.25)
    assert received(env)[-1] == {"action": "MoveAhead", "moveMagnitude": 0.25}
    assert event.metadata["agent"]["position"]["z"] == pytest.approx(0.25)
    env.step(action="TeleportFull", x=1.0, y=0.9, z=2.0, rotation=90.0, horizon=30.0, standing=True)
    sent = received(env)[-1]
    assert sent["rotation"] == {"x": 0.0, "y": 90.0, "z": 0.0} and sent["horizon"] == 30.0
    assert env.last_event.metadata["agent"]["rotation"]["y"] == 90.0


def test_click_pickup_is_resolved_to_an_object_id(env):
    event = env.step("PickupObject", x=click(APPLE)[0], y=click(APPLE)[1])
    assert received(env)[-1] == {"action": "PickupObject", "objectId": APPLE}
    assert event.metadata["lastActionSuccess"]
    assert event.get_object(APPLE)["simbotPickedUp"] == 1


def test_click_put_goes_out_as_teach_sends_it_and_records_the_receptacle(env, world):
    world.hold(APPLE)
    env.step("Pass")
    x, y = 0.5, 0.8
    event = env.step("PutObject", x=x, y=y)
    assert received(env)[-1] == {"action": "PutObject", "x": x, "y": y, "putNearXY": True, "forceAction": True,
                                 "placeStationary": True}
    assert event.get_object(APPLE)["simbotLastParentReceptacle"] == COUNTER
    assert APPLE in event.get_object(COUNTER)["simbotIsReceptacleOf"]


def test_pour_is_fill_target_then_empty_held(env, world):
    world.hold(MUG, isFilledWithLiquid=True, fillLiquid="water")
    env.step("Pass")
    n = len(received(env))
    event = env.step("Pour", x=click(PLANT)[0], y=click(PLANT)[1])
    assert received(env)[n:] == [
        {"action": "FillObjectWithLiquid", "objectId": PLANT, "fillLiquid": "water"},
        {"action": "EmptyLiquidFromObject", "objectId": MUG},
    ]
    assert event.metadata["lastAction"] == "Pour" and event.metadata["lastActionSuccess"]
    assert event.get_object(PLANT)["isFilledWithLiquid"] and not event.get_object(MUG)["isFilledWithLiquid"]


def test_pour_of_coffee_fills_with_coffee(env, world):
    world.hold(MUG, isFilledWithLiquid=True, fillLiquid="coffee")
    env.step("Pass")
    env.tracker.custom[MUG]["simbotIsFilledWithCoffee"] = True
    env.step("Pour", objectId=PLANT)
    assert [a for a in received(env) if a["action"] == "FillObjectWithLiquid"][-1]["fillLiquid"] == "coffee"
    assert env.last_event.get_object(MUG)["simbotIsFilledWithCoffee"] is False


def test_click_failures_are_reported_not_raised_and_nothing_is_sent(env, world):
    n = len(received(env))
    far = env.step("OpenObject", x=click(CABINET)[0], y=click(CABINET)[1])
    assert not far.metadata["lastActionSuccess"]
    assert far.metadata["errorMessage"] == f"{CABINET} is too far away to be interacted with"
    nothing = env.step("PickupObject", x=click(COUNTER)[0], y=0.95)  # only the counter there: not pickupable
    assert not nothing.metadata["lastActionSuccess"] and "Could not find a target" in nothing.metadata["errorMessage"]
    no_knife = env.step("SliceObject", x=click(BREAD)[0], y=click(BREAD)[1])
    assert not no_knife.metadata["lastActionSuccess"] and "Knife" in no_knife.metadata["errorMessage"]
    assert len(received(env)) == n


def test_unity_failure_message_is_kept_and_invalid_actions_raise(env):
    event = env.step("OpenObject", objectId=CABINET)
    assert received(env)[-1] == {"action": "OpenObject", "objectId": CABINET}
    assert not event.metadata["lastActionSuccess"]
    assert event.metadata["errorMessage"] == "Object failed to open/close successfully."
    with pytest.raises(ValueError, match="Invalid action"):
        env.step("Levitate")
    with pytest.raises(ValueError, match="x and y"):
        env.step("PickupObject", x=0.5)


def test_slice_with_knife_sends_object_id_and_click_and_transfers_properties(env, world):
    world.hold("Knife|+00.90|+00.90|+01.00")
    env.step("Pass")
    env.tracker.custom[BREAD]["simbotLastParentReceptacle"] = COUNTER
    x, y = click(BREAD)
    event = env.step("SliceObject", x=x, y=y)
    assert received(env)[-1] == {"action": "SliceObject", "objectId": BREAD, "x": x, "y": y}
    piece = event.get_object(f"{BREAD}|BreadSliced_0")
    assert piece["simbotLastParentReceptacle"] == COUNTER and "simbotObjectClass" in piece


def test_sink_rule_follow_ups_go_through_the_controller(env, world):
    basin = "Sink|+01.50|+00.90|+01.00|SinkBasin"
    faucet = "Faucet|+01.50|+01.10|+01.20"
    world.objects += [make_object(basin, objectType="SinkBasin", receptacle=True),
                      make_object(faucet, toggleable=True)]
    world.get(MUG).update(parentReceptacles=[basin], isDirty=True)
    env.step("Pass")
    n = len(received(env))
    event = env.step("ToggleObjectOn", objectId=faucet)
    assert received(env)[n:] == [
        {"action": "ToggleObjectOn", "objectId": faucet},
        {"action": "CleanObject", "objectId": MUG, "forceAction": True},
        {"action": "FillObjectWithLiquid", "objectId": MUG, "fillLiquid": "water", "forceAction": True},
    ]
    assert event.metadata["lastAction"] == "ToggleObjectOn" and event.metadata["lastActionSuccess"]
    mug = event.get_object(MUG)
    assert mug["simbotIsFilledWithWater"] == 1 and mug["isFilledWithLiquid"] and not mug["isDirty"]


def test_initial_state_restore_calls(env, world):
    saved = copy.deepcopy(world.objects)
    saved_by_id = {o["objectId"]: o for o in saved}
    saved_by_id[APPLE]["position"] = {"x": 0.7, "y": 0.9, "z": 1.1}
    saved_by_id[APPLE]["simbotPickedUp"] = 1
    saved_by_id[MUG]["isDirty"] = True
    saved_by_id[MUG]["isFilledWithLiquid"] = True
    saved_by_id[CABINET]["isOpen"] = True  # the fake world refuses to open it: reported, not raised
    world.get(BREAD)["isSliced"] = True  # the scene is sliced but the state is not: no action can undo it
    state = {"agents": [{"position": {"x": 9, "y": 9, "z": 9}, "rotation": {"x": 0, "y": 0, "z": 0},
                         "cameraHorizon": 0},
                        {"position": {"x": 1.25, "y": 0.9, "z": -0.5}, "rotation": {"x": 0, "y": 180, "z": 0},
                         "cameraHorizon": 30}],
             "objects": saved, "custom_object_metadata": {APPLE: {"simbotPickedUp": 0}, MUG: {"simbotIsCooked": 1}}}
    n = len(received(env))
    event = env.reset("FloorPlan1", initial_state=state)
    calls = received(env)[n:]
    poses = next(c for c in calls if c["action"] == "SetObjectPoses")
    assert poses["placeStationary"] is True
    names = [p["objectName"] for p in poses["objectPoses"]]
    assert names == ["Apple_abc", "Mug_abc", "Bread_abc", "Knife_abc"]  # pickupables, "(Clone)" cut off
    assert poses["objectPoses"][0]["position"] == {"x": 0.7, "y": 0.9, "z": 1.1}
    assert {"action": "DirtyObject", "objectId": MUG, "forceAction": True} in calls
    assert {"action": "FillObjectWithLiquid", "objectId": MUG, "forceAction": True, "fillLiquid": "water"} in calls
    assert {"action": "OpenObject", "objectId": CABINET, "forceAction": True} in calls
    teleport = next(c for c in calls if c["action"] == "TeleportFull")
    assert (teleport["x"], teleport["z"], teleport["rotation"]["y"], teleport["horizon"]) == (1.25, -0.5, 180, 30)
    assert {"action": "MakeObjectsOfTypeUnbreakable", "objectType": "Mug"} in calls
    assert not event.metadata["lastActionSuccess"]
    assert "OpenObject" in event.metadata["errorMessage"] and "isSliced" in event.metadata["errorMessage"]
    assert event.get_object(APPLE)["simbotPickedUp"] == 1  # the object's own captured value wins (quirk 8)
    assert event.get_object(MUG)["simbotIsCooked"] == 1  # no per-object value: taken from custom_object_metadata
    with pytest.raises(ValueError, match="objects"):
        env.reset("FloorPlan1", initial_state={"agents": []})


def test_export_state_round_trips_custom_properties(env, world):
    env.step("PickupObject", objectId=APPLE)
    state = env.export_state()
    assert set(state) == {"agents", "objects", "custom_object_metadata"} and len(state["agents"]) == 2
    apple = next(o for o in state["objects"] if o["objectId"] == APPLE)
    assert apple["simbotPickedUp"] == 1 and state["custom_object_metadata"][APPLE]["simbotPickedUp"] == 1
    tracker = SimbotTracker()
    tracker.reset(world.objects, custom_metadata_from_state(state))
    assert tracker.custom[APPLE]["simbotPickedUp"] == 1


def test_close_stops_the_controller_once(env):
    env.close()
    env.close()
    assert env.controller.server.stops == 1


def test_bad_argument_values_fail_before_reaching_unity(env):
    """envs.validation's rule, as on the embedded backend: a failed action naming the argument, nothing sent."""
    n = len(received(env))
    for action, args, argument in (("RotateRight", {"degrees": float("nan")}, "degrees"),
                                   ("PickupObject", {"objectId": ["a"]}, "objectId"),
                                   ("TeleportFull", {"x": 1.0, "y": 0.9, "z": 1.0, "rotation": 0.0, "horizon": "up"},
                                    "horizon")):
        event = env.step(action, **args)
        assert not event.metadata["lastActionSuccess"] and event.metadata["errorCode"] == "InvalidArgument"
        assert f"invalid argument {argument}=" in event.metadata["errorMessage"]
    assert len(received(env)) == n
    with pytest.raises(ValueError, match="initial_state: field 'agents\\[1\\].position'"):
        commander = {"position": {"x": 0.0, "y": 0.9, "z": 0.0}, "rotation": {"y": 0.0}}
        driver = {"position": {"x": float("nan"), "y": 0.9, "z": 0.0}, "rotation": {"y": 0.0}}
        env.reset("FloorPlan1", initial_state={"agents": [commander, driver], "objects": []})


def test_missing_build_gives_one_clear_error_without_network(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # no cached build under ~/.ai2thor
    monkeypatch.setattr(ai2thor_build.Build, "exists", lambda self: False)  # the only network call: HEAD to S3
    with pytest.raises(RuntimeError) as info:
        AI2ThorEnv(width=W, height=H)
    message = str(info.value)
    assert "Invalid commit_id" in message and 'make_env(backend="embedded")' in message


def test_missing_package_gives_one_clear_error(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "ai2thor.controller", None)
    with pytest.raises(RuntimeError, match="not importable.*embedded"):
        AI2ThorEnv()
