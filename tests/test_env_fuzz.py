"""Random actions against the embedded simulator, with bad arguments and malformed calls mixed in, checking after every
step the invariants a consumer relies on, and every so often that export -> reset -> export is exact.

The default run is short (one floorplan per room kind); ``pytest -m slow tests/test_env_fuzz.py -s`` runs at least
3,000 actions over two floorplans of each of the four room kinds and prints the figures.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest

from envs import make_env
from envs.base import INTERACTION_ACTIONS
from envs.validation import HORIZON_LIMITS

MOVES = ("MoveAhead", "MoveBack", "MoveLeft", "MoveRight")
TURNS = ("RotateLeft", "RotateRight", "LookUp", "LookDown")
OTHER = ("Teleport", "TeleportFull", "GetReachablePositions", "GetCoordinateFromRaycast", "Pass", "Done")

BAD_VALUES = {
    "moveMagnitude": [math.nan, math.inf, -1.0, 0.0, "far", [1]],
    "degrees": [math.nan, math.inf, -math.inf, "90", [90], True],
    "objectId": [["a"], 5, {"id": 1}],
    "x": [math.nan, -0.1, 1.5, "abc", [0.5]],
    "openness": ["half", 0.0, 1.5, math.nan],
    "fillLiquid": ["oil", 3],
    "forceAction": ["yes", 1, [True]],
    "position": ["abc", {"x": 1}, {"x": math.nan, "z": 1.0}, [1, 2, 3]],
    "rotation": [math.nan, "north", {"y": math.inf}],
    "horizon": [math.nan, 90.0, "down"],
    "randomSeed": [1.5, "seed"],
}
"""Per argument, values ``envs.validation`` must refuse (written out here, not derived from it)."""


@dataclass
class FuzzReport:
    scene: str
    actions: int = 0
    bad_inputs: int = 0
    malformed_calls: int = 0
    successes: int = 0
    round_trips: int = 0
    raw_exceptions: list = field(default_factory=list)
    violations: list = field(default_factory=list)


def _valid_call(rng, event, reachable):
    """A random, well-formed call: (action, args)."""
    roll = rng.random()
    if roll < 0.3:
        return str(rng.choice(MOVES)), {"moveMagnitude": float(rng.choice([0.25, 0.25, 0.5, 0.1, 1.0, 30.0]))}
    if roll < 0.45:
        return str(rng.choice(TURNS)), {"degrees": float(rng.choice([90, 30, 45, 15, -30, 720.5]))}
    if roll < 0.52:
        action = str(rng.choice(OTHER))
        if action in ("Teleport", "TeleportFull"):
            p = reachable[int(rng.integers(len(reachable)))]
            return action, {"position": p, "rotation": float(rng.choice([0, 90, 180, 270, 33.3])),
                            "horizon": float(rng.choice([0, 30, -30, 60]))}
        if action == "GetCoordinateFromRaycast":
            return action, {"x": float(rng.random()), "y": float(rng.random())}
        return action, {}
    if roll < 0.53:
        return "InitialRandomSpawn", {"randomSeed": int(rng.integers(1000))}
    action = str(rng.choice(INTERACTION_ACTIONS))
    args: dict = {}
    target = rng.random()
    if target < 0.45:
        objects = event.metadata["objects"]
        args["objectId"] = objects[int(rng.integers(len(objects)))]["objectId"]
        args["forceAction"] = bool(rng.random() < 0.7)
    elif target < 0.95:
        args["x"], args["y"] = float(rng.random()), float(rng.random())
    else:
        args["objectId"] = "Bogus|+01.00|+00.00|+01.00"
    if action == "OpenObject" and rng.random() < 0.5:
        args["openness"] = float(rng.uniform(0.05, 1.0))
    if action == "FillObjectWithLiquid":
        args["fillLiquid"] = str(rng.choice(["water", "coffee", "wine"]))
    return action, args


def _bad_call(rng):
    """A call with exactly one argument value that must be refused: (action, args, argument)."""
    argument = str(rng.choice(list(BAD_VALUES)))
    value = BAD_VALUES[argument][int(rng.integers(len(BAD_VALUES[argument])))]
    action, args = {
        "moveMagnitude": (str(rng.choice(MOVES)), {}),
        "degrees": (str(rng.choice(TURNS)), {}),
        "objectId": ("PickupObject", {}),
        "x": ("OpenObject", {"y": 0.5}),
        "openness": ("OpenObject", {"x": 0.5, "y": 0.5}),
        "fillLiquid": ("FillObjectWithLiquid", {"x": 0.5, "y": 0.5}),
        "forceAction": ("ToggleObjectOn", {"x": 0.5, "y": 0.5}),
        "position": ("Teleport", {}),
        "rotation": ("Teleport", {}),
        "horizon": ("Teleport", {}),
        "randomSeed": ("InitialRandomSpawn", {}),
    }[argument]
    return action, {**args, argument: value}, argument


MALFORMED = [("FlyToTheMoon", {}, "InvalidAction"), ("PickupObject", {"x": 0.5}, "MissingArguments"),
             ("SliceObject", {}, "MissingArguments"), ("GetCoordinateFromRaycast", {"y": 0.2}, "MissingArguments"),
             ("TeleportFull", {"rotation": 0.0}, "MissingArguments")]


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def invariant_violations(event, known_ids: set, size: tuple[int, int]) -> list[str]:
    """What is wrong with one event (empty when all holds)."""
    meta = event.metadata
    out = []
    objects = {o["objectId"]: o for o in meta["objects"]}
    if not isinstance(meta["lastActionSuccess"], bool):
        out.append("lastActionSuccess is not a bool")
    if bool(meta["errorMessage"]) == meta["lastActionSuccess"]:
        out.append(f"errorMessage {meta['errorMessage']!r} disagrees with success {meta['lastActionSuccess']}")
    if event.frame.shape[:2] != size or event.instance_segmentation_frame.shape[:2] != size:
        out.append("frame size changed")
    agent = meta["agent"]
    bounds = meta["sceneBounds"]["size"]
    x, z, yaw, horizon = agent["position"]["x"], agent["position"]["z"], agent["rotation"]["y"], agent["cameraHorizon"]
    if not _finite(x, z, yaw, horizon):
        out.append(f"agent pose not finite: {agent}")
    elif not (0 <= x <= bounds["x"] and 0 <= z <= bounds["z"]):
        out.append(f"agent outside the room: x={x}, z={z}")
    elif not (0.0 <= yaw < 360.0 and HORIZON_LIMITS[0] - 1e-6 <= horizon <= HORIZON_LIMITS[1] + 1e-6):
        out.append(f"agent rotation {yaw} or horizon {horizon} out of range")
    held = [oid for oid, o in objects.items() if o["isPickedUp"]]
    if len(held) > 1 or held != [i["objectId"] for i in meta["inventoryObjects"]]:
        out.append(f"held {held} vs inventory {meta['inventoryObjects']}")
    new = set(objects) - known_ids
    if not all("Sliced_" in oid or "Cracked_" in oid for oid in new):
        out.append(f"unexpected new objects {sorted(new)[:3]}")
    if known_ids - set(objects):
        out.append(f"objects vanished: {sorted(known_ids - set(objects))[:3]}")
    for oid, o in objects.items():
        p, r = o["position"], o["rotation"]["y"]
        if not (_finite(p["x"], p["y"], p["z"], r) and 0.0 <= r < 360.0):
            out.append(f"{oid}: position {p} / rotation {r} not finite or out of range")
        parents = o["parentReceptacles"] or []
        if oid in parents:
            out.append(f"{oid} is its own parent")
        if parents and o["isPickedUp"]:
            out.append(f"{oid} is held and has parents {parents}")
        if parents and oid not in (objects.get(parents[0], {}).get("receptacleObjectIds") or []):
            out.append(f"{oid} not listed by its parent {parents[0]}")
    return out


def run_fuzz(scene: str, actions: int, round_trip_every: int, size: int = 96) -> FuzzReport:
    report = FuzzReport(scene)
    rng = np.random.default_rng(zlib.crc32(scene.encode()))
    with make_env(width=size, height=size) as env:
        event = env.reset(scene=scene)
        known = {o["objectId"] for o in event.metadata["objects"]}
        reachable = env.step(action="GetReachablePositions").metadata["actionReturn"]
        for step in range(1, actions + 1):
            roll = rng.random()
            try:
                if roll < 0.12:
                    action, args, argument = _bad_call(rng)
                    before = event.metadata
                    event = env.step(action=action, **args)
                    report.bad_inputs += 1
                    if event.metadata["lastActionSuccess"] or event.metadata["errorCode"] != "InvalidArgument" \
                            or f"invalid argument {argument}=" not in event.metadata["errorMessage"]:
                        report.violations.append(f"step {step}: {action} {args} not refused: "
                                                 f"{event.metadata['errorMessage']!r}")
                    elif any(event.metadata[k] != before[k] for k in ("agent", "objects", "inventoryObjects")):
                        report.violations.append(f"step {step}: refused {action} {args} changed the world")
                elif roll < 0.14:
                    action, args, code = MALFORMED[int(rng.integers(len(MALFORMED)))]
                    report.malformed_calls += 1
                    with pytest.raises(ValueError, match=code):
                        env.step(action=action, **args)
                else:
                    action, args = _valid_call(rng, event, reachable)
                    event = env.step(action=action, **args)
                    report.successes += bool(event.metadata["lastActionSuccess"])
            except Exception as exc:  # noqa: BLE001 - counted: the fuzz must meet none
                report.raw_exceptions.append(f"step {step}: {action} {args}: {type(exc).__name__}: {exc}")
                event = env.last_event
                continue
            finally:
                report.actions += 1
            report.violations += [f"step {step} ({action}): {v}" for v in invariant_violations(event, known,
                                                                                               (size, size))]
            known |= {o["objectId"] for o in event.metadata["objects"]}
            if step % round_trip_every == 0:
                state = env.export_state()
                event = env.reset(scene=scene, initial_state=state)
                again = env.export_state()
                report.round_trips += 1
                if again != state:
                    report.violations.append(f"step {step}: export -> reset -> export differs")
    return report


def _check(report: FuzzReport) -> None:
    print(f"\n{report.scene}: {report.actions} actions ({report.bad_inputs} with a bad argument value, "
          f"{report.malformed_calls} malformed calls, {report.successes} succeeded), {report.round_trips} exact "
          f"round trips, {len(report.raw_exceptions)} raw exceptions, {len(report.violations)} invariant violations")
    assert not report.raw_exceptions, report.raw_exceptions[:5]
    assert not report.violations, report.violations[:5]


@pytest.mark.parametrize("scene", ["FloorPlan2", "FloorPlan207", "FloorPlan305", "FloorPlan402"])
def test_fuzz_short(scene):
    report = run_fuzz(scene, actions=80, round_trip_every=80)
    _check(report)
    assert report.round_trips == 1 and report.bad_inputs > 0 and report.successes > 10


SLOW_SCENES = ["FloorPlan3", "FloorPlan11", "FloorPlan205", "FloorPlan224", "FloorPlan303", "FloorPlan318",
               "FloorPlan406", "FloorPlan421"]


@pytest.mark.slow
@pytest.mark.parametrize("scene", SLOW_SCENES)
def test_fuzz_long(scene):
    """8 floorplans x 400 actions = 3,200 actions over all four room kinds, a round trip every 40 actions."""
    _check(run_fuzz(scene, actions=400, round_trip_every=40))
