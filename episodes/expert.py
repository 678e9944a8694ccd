"""A scripted expert that acts in the world only through TEACh's driver actions, recording a TEACh game as it goes.

Motions are TEACh's Forward / Backward / Turn Left / Turn Right / Look Up / Look Down / Pan Left / Pan Right (sent as
AI2-THOR MoveAhead, MoveBack, RotateLeft/Right, LookUp/Down, MoveLeft/Right); object interactions (Pickup, Place, Open,
Close, ToggleOn, ToggleOff, Slice, Pour) are clicks ``x, y`` on the current frame, never object ids, so replaying the
recorded clicks reproduces the game. The click is a pixel of the target's mask for which TEACh's click resolution
(``envs.clicks.resolve_click``, ``simulator_THOR.__get_oid_at_frame_xy_with_affordance``) returns that same object and
the reach check passes. Navigation is the shortest path on the reachable grid (``envs.nav``), as TEACh's own
navigation graph. Interactions are stored as TEACh's ``Interaction.to_dict`` writes them (``alexa/teach``
``src/teach/dataset/interaction.py`` and ``actions.py`` at 903191e): motions with ``pose`` = [z, -x, y, 0, horizon, -yaw], object interactions with ``x``, ``y`` and ``oid``.

The expert knows the ground truth (object ids and metadata) to *plan*; only the acting is restricted to clicks.

Given a seeded ``rng``, the expert also plays like the people who drove TEACh's games (:class:`Habits`): it looks
around before walking off, opens a wrong cabinet, drawer or fridge before the right one when nobody has told it where
the object is (and then may ask, through the dialogue's ``lost`` milestone), steps sideways (Pan) or back and forth on
arrival, and now and then clicks beside its target (a failed action that changes nothing) before the right click. None
of this changes the world's end state: what it opens it shuts again, and a failed click fails in the simulator too.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import ndimage

from envs import clicks
from envs.nav import interaction_poses, pose_of, shortest_path
from envs.ontology import SLICED_TYPE

from .actions import driver_action_record, load_actions
from .tasks import BreakfastParams

DRIVER, COMMANDER = 1, 0

MOTIONS = {"Forward": "MoveAhead", "Backward": "MoveBack", "Turn Left": "RotateLeft", "Turn Right": "RotateRight",
           "Look Up": "LookUp", "Look Down": "LookDown", "Pan Left": "MoveLeft", "Pan Right": "MoveRight"}
"""TEACh motion name -> AI2-THOR action (TEACh ``simulator_THOR.apply_motion``)."""

OBJECT_ACTIONS = {"Pickup": "PickupObject", "Place": "PutObject", "Open": "OpenObject", "Close": "CloseObject",
                  "ToggleOn": "ToggleObjectOn", "ToggleOff": "ToggleObjectOff", "Slice": "SliceObject",
                  "Pour": "Pour"}
"""TEACh object interaction name -> AI2-THOR action (TEACh ``simulator_THOR.apply_object_interaction``)."""

THOR_TO_TEACH = {v: k for k, v in {**MOTIONS, **OBJECT_ACTIONS}.items()}

SECONDS = {"motion": 1.0, "object": 1.5}
"""Typical durations of driver actions; a trace with an ``rng`` jitters them as people's pace varies (a log-normal
factor, now and then a pause to look at the screen). Only the ordering of ``time_start`` matters to TEACh's readers."""

MAX_CLICK_CANDIDATES = 40

SEARCHED_CONTAINERS = ("Cabinet", "Drawer", "Fridge", "Microwave")
"""Where people look for a thing they cannot see: closed containers they can open."""


@dataclass(frozen=True)
class Habits:
    """How often a seeded expert acts like a person rather than a planner (probabilities per occasion)."""

    search_wrong_container: float = 0.45
    """Per fetch of an object nobody has located for the Driver: open a wrong container first."""
    second_wrong_container: float = 0.2
    """After one wrong container: try another before giving up."""
    ask_when_lost: float = 0.75
    """After a fruitless search: ask where the object is (the dialogue's ``lost`` milestone)."""
    look_around: float = 0.3
    """Per fetch not preceded by a search: turn on the spot before walking."""
    adjust: float = 0.2
    """Per walk that ends at a viewpoint: a Pan or Backward step and back."""
    misclick: float = 0.07
    """Per object interaction: a click beside the target first (it fails and changes nothing)."""
    max_searches: int = 3
    """Wrong containers opened per game at most (long games stay within the step limit)."""


class ExpertFailure(RuntimeError):
    """The expert could not carry out a step (no viewpoint, no valid click, an action refused)."""


def teach_pose(metadata: dict) -> list[float]:
    """TEACh ``get_current_pose``: [z, -x, y, 0, horizon, -yaw] of the driver."""
    agent = metadata["agent"]
    p = agent["position"]
    return [float(p["z"]), -float(p["x"]), float(p["y"]), 0.0, float(agent["cameraHorizon"]),
            -float(agent["rotation"]["y"])]


def find_click(event, object_id: str, thor_action: str) -> tuple[float, float] | None:
    """A click (x = column fraction, y = row fraction) on ``object_id``'s mask that TEACh's click resolution maps back
    to ``object_id`` for ``thor_action`` and that passes the 1.5 m reach check; interior pixels are tried first."""
    if object_id not in event.instance_masks:
        return None
    mask = event.instance_masks[object_id]
    if not mask.any():
        return None
    height, width = mask.shape
    depth_to_edge = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    rows, cols = np.nonzero(mask)
    order = np.argsort(-depth_to_edge[rows, cols], kind="stable")
    step = max(1, len(order) // MAX_CLICK_CANDIDATES)
    for i in order[::step][:MAX_CLICK_CANDIDATES]:
        x, y = cols[i] / width, rows[i] / height
        if clicks.resolve_click(event, x, y, thor_action) == object_id and clicks.within_reach(event, x, y):
            return float(x), float(y)
    return None


@dataclass
class Cut:
    """A point in the game where the Commander speaks: a candidate EDH cut, with the world state there."""

    interaction_index: int
    driver_action_index: int
    state: dict


@dataclass
class Trace:
    """What the expert and the dialogue record: TEACh interactions, EDH/TfD driver action records, image names."""

    interactions: list[dict] = field(default_factory=list)
    driver_actions: list[dict] = field(default_factory=list)
    driver_images: list[str] = field(default_factory=list)
    frames: list[tuple[str, np.ndarray]] = field(default_factory=list)
    dialogue: list[list[str]] = field(default_factory=list)
    turns: list = field(default_factory=list)  # episodes.dialogue.Turn per utterance
    cuts: list[Cut] = field(default_factory=list)
    time: float = 0.0
    rng: np.random.Generator | None = None

    def tick(self, seconds: float) -> float:
        start = round(self.time, 3)
        self.time += seconds
        return start

    def action_seconds(self, kind: str) -> float:
        """How long a driver action of ``kind`` ("motion" / "object") takes: fixed without an ``rng``, else
        jittered (log-normal, sigma 0.3) with an occasional pause of a few seconds."""
        if self.rng is None:
            return SECONDS[kind]
        pause = float(self.rng.gamma(2.0, 1.5)) if self.rng.random() < 0.06 else 0.0
        return round(SECONDS[kind] * float(self.rng.lognormal(0.0, 0.3)) + pause, 3)


class Expert:
    """Drives ``env`` with TEACh driver actions and records them into ``trace``.

    High-level steps (``fetch``, ``put_into``, ``rinse`` ...) plan from ground truth and act through :meth:`motion` and
    :meth:`interact`; every step raises :class:`ExpertFailure` when it cannot proceed, so a task is either solved or
    reported unsolved. ``keep_frames`` stores each pre-action frame for ``images/``.
    """

    def __init__(self, env, trace: Trace | None = None, keep_frames: bool = False, max_steps: int = 600,
                 rng: np.random.Generator | None = None, habits: Habits | None = None):
        self.env = env
        self.trace = trace or Trace()
        self.keep_frames = keep_frames
        self.max_steps = max_steps
        self.rng = rng  # None: the plain planner, no human habits
        self.habits = habits or Habits()
        self.searches = 0
        self.told_where: set[str] = set()  # objects the dialogue has located for the Driver
        self.table = load_actions()
        # A query, not a TEACh action: it changes nothing in the world and re-renders the same frame.
        self.reachable = env.step(action="GetReachablePositions").metadata["actionReturn"]
        self.opened_by_me: set[str] = set()
        self.on_milestone: Callable[[str, dict], None] | None = None

    # --- low level: one TEACh action --------------------------------------------------------------------------------
    @property
    def event(self):
        return self.env.last_event

    def obj(self, object_id: str) -> dict:
        found = self.event.get_object(object_id)
        if found is None:
            raise ExpertFailure(f"object {object_id} is not in the scene")
        return found

    def objects(self, object_type: str | None = None) -> list[dict]:
        return [o for o in self.event.metadata["objects"] if object_type is None or o["objectType"] == object_type]

    def held(self) -> str | None:
        inventory = self.event.metadata["inventoryObjects"]
        return inventory[0]["objectId"] if inventory else None

    def _before_action(self) -> None:
        if len(self.trace.driver_actions) >= self.max_steps:
            raise ExpertFailure(f"more than {self.max_steps} driver actions")

    def _image(self, time_start: float) -> None:
        name = f"driver.frame.{time_start}.jpeg"
        self.trace.driver_images.append(name)
        if self.keep_frames:
            self.trace.frames.append((name, self.event.frame.copy()))

    def motion(self, teach_name: str) -> bool:
        """One TEACh motion; returns whether it succeeded (recorded either way, as TEACh logs failures)."""
        self._before_action()
        action = self.table.by_name(teach_name)
        time_start = self.trace.tick(self.trace.action_seconds("motion"))
        self._image(time_start)
        event = self.env.step(action=MOTIONS[teach_name])
        success = bool(event.metadata["lastActionSuccess"])
        self.trace.interactions.append({"agent_id": DRIVER, "action_id": action.action_id, "time_start": time_start,
                                        "duration": 1, "success": int(success), "pose": teach_pose(event.metadata)})
        self.trace.driver_actions.append(driver_action_record(action.action_id, time_start))
        return success

    def interact(self, teach_name: str, object_id: str) -> None:
        """Click on ``object_id`` with a TEACh object interaction; raises if no valid click exists or it fails."""
        thor_action = OBJECT_ACTIONS[teach_name]
        click = find_click(self.event, object_id, thor_action)
        if click is None:
            raise ExpertFailure(f"{teach_name}: no click on {object_id} resolves to it from here")
        if self._habit(self.habits.misclick):
            self._miss(teach_name, object_id, click)
        self._before_action()
        action = self.table.by_name(teach_name)
        time_start = self.trace.tick(self.trace.action_seconds("object"))
        self._image(time_start)
        x, y = click
        event = self.env.step(action=thor_action, x=x, y=y)
        success = bool(event.metadata["lastActionSuccess"])
        self.trace.interactions.append({"agent_id": DRIVER, "action_id": action.action_id, "time_start": time_start,
                                        "duration": 1, "success": int(success), "x": x, "y": y, "oid": object_id})
        self.trace.driver_actions.append(driver_action_record(action.action_id, time_start, object_id, x, y))
        if not success:
            raise ExpertFailure(f"{teach_name} on {object_id} failed: {event.metadata['errorMessage']}")

    def _habit(self, p: float) -> bool:
        return self.rng is not None and self.rng.random() < p

    def _miss(self, teach_name: str, object_id: str, aimed: tuple[float, float]) -> None:
        """A click a few dozen pixels beside ``aimed`` where nothing that ``teach_name`` acts on lies: recorded as a
        failed action with no ``oid``, as TEACh logs a click on nothing. Skipped when no such pixel is found."""
        thor_action = OBJECT_ACTIONS[teach_name]
        height, width = self.event.frame.shape[:2]
        for _ in range(12):
            angle = float(self.rng.uniform(0, 2 * np.pi))
            reach = float(self.rng.uniform(20, 60))
            col = aimed[0] * width + reach * np.cos(angle)
            row = aimed[1] * height + reach * np.sin(angle)
            if not (0 <= col < width - 1 and 0 <= row < height - 1):
                continue
            x, y = round(col / width, 4), round(row / height, 4)
            if clicks.resolve_click(self.event, x, y, thor_action) is not None:
                continue
            self._before_action()
            action = self.table.by_name(teach_name)
            time_start = self.trace.tick(self.trace.action_seconds("object"))
            self._image(time_start)
            event = self.env.step(action=thor_action, x=x, y=y)
            if event.metadata["lastActionSuccess"]:  # cannot happen: the click resolves to nothing
                raise ExpertFailure(f"a click beside {object_id} at ({x}, {y}) succeeded")
            self.trace.interactions.append({"agent_id": DRIVER, "action_id": action.action_id,
                                            "time_start": time_start, "duration": 1, "success": 0, "x": x, "y": y,
                                            "oid": None})
            self.trace.driver_actions.append(driver_action_record(action.action_id, time_start, None, x, y))
            self.milestone("missed", object_id=object_id)
            return

    def milestone(self, kind: str, **info) -> None:
        """Tell the dialogue what the expert is about to do (it may insert utterances here)."""
        if self.on_milestone is not None:
            self.on_milestone(kind, info)

    # --- navigation -------------------------------------------------------------------------------------------------
    def goto(self, object_id: str, thor_action: str, max_tries: int = 10) -> None:
        """Walk the shortest path to a viewpoint from which ``object_id`` can be clicked for ``thor_action``."""
        tried: set = set()
        for _ in range(max_tries):
            if find_click(self.event, object_id, thor_action) is not None:
                return
            here = pose_of(self.event.metadata)
            tried.add(here.key())
            obj = self.obj(object_id)
            goals = [p for p in interaction_poses(obj, self.reachable, self.env.width, self.env.height, self.env.fov)
                     if p.key() not in tried]
            if not goals:
                break
            goals = goals[:12]  # nearest viewpoints first; a shorter goal list keeps BFS targets tight
            path = shortest_path(self.reachable, here, goals)
            if path is None:
                break
            for thor_name in path:
                if not self.motion(THOR_TO_TEACH[thor_name]):
                    break
            if path and self._habit(self.habits.adjust):
                self._adjust()
            if find_click(self.event, object_id, thor_action) is not None:
                return
            tried.add(pose_of(self.event.metadata).key())
            # Look around in place before moving on: the target may sit just above or below the view.
            for look in ("Look Down", "Look Up", "Look Up"):
                horizon = self.event.metadata["agent"]["cameraHorizon"]
                if (look == "Look Down" and horizon >= 60) or (look == "Look Up" and horizon <= -30):
                    continue
                self.motion(look)
                if find_click(self.event, object_id, thor_action) is not None:
                    return
        raise ExpertFailure(f"cannot reach a viewpoint to {thor_action} {object_id}")

    def _adjust(self) -> None:
        """A step sideways or back and the step that undoes it, as people shuffle in front of a counter."""
        out, back = [("Pan Left", "Pan Right"), ("Pan Right", "Pan Left"),
                     ("Backward", "Forward")][int(self.rng.integers(3))]
        if self.motion(out):
            self.motion(back)

    def look_around(self) -> None:
        """Turn on the spot (one way, sometimes all the way round), as a Driver scanning the room."""
        turn = "Turn Left" if self.rng.random() < 0.5 else "Turn Right"
        for _ in range(int(self.rng.choice([1, 2, 4], p=[0.5, 0.3, 0.2]))):
            self.motion(turn)

    def search(self, object_id: str) -> None:
        """Before fetching ``object_id`` that nobody has located: look in a wrong closed container or two (same kind
        as the right one when it is inside one) and shut it again, then maybe ask; or just look around."""
        if self.rng is None or object_id in self.told_where:
            return
        target = self.obj(object_id)
        right = self.closed_container_of(object_id)
        wrong = [o for o in self.objects() if o["objectType"] in SEARCHED_CONTAINERS and o["openable"]
                 and not o["isOpen"] and o["objectId"] != right
                 and o["objectId"] not in (target.get("parentReceptacles") or [])]
        if right is not None:
            same_kind = [o for o in wrong if o["objectType"] == self.obj(right)["objectType"]]
            wrong = same_kind or wrong
        if wrong and self.searches < self.habits.max_searches and self._habit(self.habits.search_wrong_container):
            wrong.sort(key=lambda o: o["distance"])
            pool = wrong[:4]
            looked = []
            for _ in range(2):
                if not pool:
                    break
                candidate = pool.pop(int(self.rng.integers(len(pool))))["objectId"]
                if self._look_inside(candidate):
                    looked.append(candidate)
                if not self._habit(self.habits.second_wrong_container):
                    break
            self.searches += 1
            if looked and self._habit(self.habits.ask_when_lost):
                self.milestone("lost", object_id=object_id, searched_id=looked[-1])
        elif self._habit(self.habits.look_around):
            self.look_around()

    def _look_inside(self, container_id: str) -> bool:
        """Open ``container_id``, look, shut it; False when it could not be opened (a failed try changes nothing)."""
        try:
            self.open(container_id)
        except ExpertFailure:
            return False
        if self.rng.random() < 0.3:
            horizon = self.event.metadata["agent"]["cameraHorizon"]
            look, undo = ("Look Down", "Look Up") if horizon < 60 else ("Look Up", "Look Down")
            if self.motion(look):
                self.motion(undo)
        self.close(container_id)  # raises if it cannot: an open door left behind would change the end state
        return True

    def act_on(self, teach_name: str, object_id: str) -> None:
        self.goto(object_id, OBJECT_ACTIONS[teach_name])
        self.interact(teach_name, object_id)

    # --- containers ---------------------------------------------------------------------------------------------------
    def closed_container_of(self, object_id: str) -> str | None:
        """The closed openable receptacle holding ``object_id``, if any (a mug inside a shut cabinet)."""
        for parent_id in self.obj(object_id).get("parentReceptacles") or []:
            parent = self.event.get_object(parent_id)
            if parent is not None and parent["openable"] and not parent["isOpen"]:
                return parent_id
        return None

    def open(self, object_id: str) -> None:
        if not self.obj(object_id)["isOpen"]:
            self.act_on("Open", object_id)
            self.opened_by_me.add(object_id)

    def close(self, object_id: str) -> None:
        if self.obj(object_id)["isOpen"]:
            self.act_on("Close", object_id)
        self.opened_by_me.discard(object_id)

    # --- high level ---------------------------------------------------------------------------------------------------
    def fetch(self, object_id: str, announce: bool = True) -> None:
        """Have ``object_id`` in hand: put down whatever else is held, open its container if shut, pick it up.
        ``announce`` tells the dialogue (moving things out of the way is not worth a question)."""
        if self.held() == object_id:
            return
        if self.held() is not None:
            self.put_down()
        if announce:
            self.milestone("fetch", object_id=object_id)
            self.search(object_id)
        container = self.closed_container_of(object_id)
        if container is not None:
            self.open(container)
        self.act_on("Pickup", object_id)
        if container is not None:
            self.close(container)

    def put_into(self, receptacle_id: str, close_after: bool = True) -> None:
        """Place the held object in/on ``receptacle_id``, opening it first when it is shut."""
        if self.held() is None:
            raise ExpertFailure("put_into with empty hands")
        self.milestone("place", object_id=self.held(), receptacle_id=receptacle_id)
        receptacle = self.obj(receptacle_id)
        opened = False
        if receptacle["openable"] and not receptacle["isOpen"]:
            self.open(receptacle_id)
            opened = True
        self.act_on("Place", receptacle_id)
        if opened and close_after:
            self.close(receptacle_id)

    def put_down(self) -> None:
        """Set the held object on the nearest free counter, table or similar surface."""
        held = self.held()
        if held is None:
            return
        surfaces = [o for o in self.objects() if o["objectType"] in ("CounterTop", "DiningTable", "SideTable",
                                                                      "CoffeeTable", "Desk", "Dresser", "Shelf")]
        surfaces.sort(key=lambda o: o["distance"])
        for surface in surfaces[:4]:
            try:
                self.act_on("Place", surface["objectId"])
                return
            except ExpertFailure:
                if self.held() is None:
                    return
        raise ExpertFailure(f"nowhere to put down {held}")

    def toggle(self, object_id: str, on: bool) -> None:
        if bool(self.obj(object_id)["isToggled"]) != on:
            self.act_on("ToggleOn" if on else "ToggleOff", object_id)

    def nearest(self, object_type: str, condition: Callable[[dict], bool] = lambda o: True) -> dict:
        candidates = [o for o in self.objects(object_type) if condition(o)]
        if not candidates:
            raise ExpertFailure(f"no {object_type} in the scene")
        return min(candidates, key=lambda o: o["distance"])

    def sink(self) -> tuple[str, str]:
        basin = self.nearest("SinkBasin")
        faucets = self.objects("Faucet")
        if not faucets:
            raise ExpertFailure("no faucet")
        p = basin["position"]
        faucet = min(faucets, key=lambda f: (f["position"]["x"] - p["x"]) ** 2 + (f["position"]["z"] - p["z"]) ** 2)
        return basin["objectId"], faucet["objectId"]

    def rinse(self, object_id: str, keep_water: bool = False) -> None:
        """Clean (and fill) ``object_id`` under the tap: into the basin, tap on and off, back in hand; poured out
        unless the water is wanted (TEACh's sink rule cleans and fills what sits in a basin under a running tap)."""
        basin, faucet = self.sink()
        self.clear(basin, keep=object_id)  # basins are small: a bounding-box estimate of free room misjudged it
        self.fetch(object_id)
        self.toggle(faucet, False)
        self.put_into(basin)
        self.milestone("tap", object_id=object_id)
        self.toggle(faucet, True)
        self.toggle(faucet, False)
        self.fetch(object_id)
        if not keep_water and self.obj(object_id)["isFilledWithLiquid"]:
            self.act_on("Pour", basin)

    def clear(self, receptacle_id: str, keep: str | None = None, room_for: str | None = None) -> None:
        """Take things but ``keep`` off ``receptacle_id``, biggest first, until its free floor area (from the
        bounding boxes) leaves room for ``room_for`` (everything, when None): a sink full of dishes takes no more."""
        def area(object_id: str) -> float:
            size = self.obj(object_id)["axisAlignedBoundingBox"]["size"]
            return float(size["x"] * size["z"])

        items = [i for i in self.obj(receptacle_id).get("receptacleObjectIds") or []
                 if i != keep and self.event.get_object(i) is not None and self.obj(i)["pickupable"]]
        items.sort(key=lambda i: -area(i))
        for item in items:
            if room_for is not None:
                used = sum(area(i) for i in self.obj(receptacle_id).get("receptacleObjectIds") or [] if i != keep)
                if area(receptacle_id) - used > 2.0 * area(room_for):
                    return
            self.fetch(item, announce=False)
            self.put_down()

    def empty(self, object_id: str) -> None:
        """Pour out whatever ``object_id`` holds, into the sink."""
        if self.obj(object_id)["isFilledWithLiquid"]:
            basin, _ = self.sink()
            self.fetch(object_id)
            self.act_on("Pour", basin)

    def knob_for(self, burner_id: str) -> str:
        for knob in self.objects("StoveKnob"):
            if burner_id in knob.get("controlledObjects", []):
                return knob["objectId"]
        raise ExpertFailure(f"no knob controls {burner_id}")

    def vessel_on_stove(self, vessel_type: str) -> tuple[str, str]:
        """A ``vessel_type`` (Pot/Pan) standing on a burner (moved onto a free one if needed): (vessel, burner)."""
        vessels = self.objects(vessel_type)
        if not vessels:
            raise ExpertFailure(f"no {vessel_type}")
        burners = {b["objectId"] for b in self.objects("StoveBurner")}
        for v in vessels:
            on = [p for p in v.get("parentReceptacles") or [] if p in burners]
            if on:
                return v["objectId"], on[0]
        vessel = min(vessels, key=lambda o: o["distance"])["objectId"]
        self.clear(vessel)
        free = [b for b in self.objects("StoveBurner") if not b.get("receptacleObjectIds")]
        if not free:
            raise ExpertFailure("no free burner")
        self.fetch(vessel)
        burner = min(free, key=lambda o: o["distance"])["objectId"]
        self.put_into(burner)
        return vessel, burner

    def slices(self, whole_type: str, n: int) -> list[str]:
        """Ids of at least ``n`` slices of ``whole_type`` (slicing a whole one with a knife if there are too few)."""
        sliced_type = SLICED_TYPE.get(whole_type, f"{whole_type}Sliced")  # an Egg cracks into EggCracked
        existing = [o["objectId"] for o in self.objects(sliced_type)]
        if len(existing) >= n:
            return existing
        wholes = [o for o in self.objects(whole_type) if not o["isSliced"]]
        if not wholes:
            raise ExpertFailure(f"no whole {whole_type} to slice")
        whole = min(wholes, key=lambda o: o["distance"])["objectId"]
        knives = [o for o in self.objects() if o["objectType"] in ("Knife", "ButterKnife")]
        if not knives:
            raise ExpertFailure("no knife")
        knife = min(knives, key=lambda o: (o["objectType"] != "Knife", o["distance"]))["objectId"]
        container = self.closed_container_of(whole)
        self.fetch(knife)
        if container is not None:
            self.open(container)
        self.milestone("slice", object_id=whole)
        self.act_on("Slice", whole)
        self.put_down()
        if container is not None:
            self.close(container)
        return [o["objectId"] for o in self.objects(sliced_type)]

    def finish(self) -> None:
        """Close what the expert opened and left open, hands stay as they are."""
        for object_id in sorted(self.opened_by_me):
            if self.event.get_object(object_id) is not None and self.obj(object_id)["isOpen"]:
                self.close(object_id)


# ---------------------------------------------------------------- the twelve task families


def _status(expert: Expert, task):
    from .checker import goal_conditions

    return goal_conditions(task, task.task_params, expert.event.metadata["objects"])


def _accessible(expert: Expert, object_id: str) -> None:
    """Take ``object_id`` out of a shut container onto a counter, so things can be put on it."""
    if expert.closed_container_of(object_id) is not None:
        expert.fetch(object_id)
        expert.put_down()


def _clean_receptacle(expert: Expert, object_type: str) -> str:
    """A clean, reachable ``object_type`` (Plate, Bowl) to serve on; rinsed first if every one is dirty."""
    candidates = expert.objects(object_type)
    if not candidates:
        raise ExpertFailure(f"no {object_type}")
    # The widest dish first: a served dish has to hold every piece side by side.
    candidates.sort(key=lambda o: (-round(o["axisAlignedBoundingBox"]["size"]["x"] *
                                          o["axisAlignedBoundingBox"]["size"]["z"], 3), o["isDirty"], o["distance"]))
    chosen = candidates[0]["objectId"]
    if expert.obj(chosen)["isDirty"]:
        expert.rinse(chosen)
        expert.put_down()
    expert.clear(chosen)
    _accessible(expert, chosen)
    return chosen


def make_coffee(expert: Expert) -> str:
    mugs = sorted(expert.objects("Mug"), key=lambda o: (o["isDirty"], o["isFilledWithLiquid"], o["distance"]))
    if not mugs:
        raise ExpertFailure("no mug")
    mug = mugs[0]["objectId"]
    machine = expert.nearest("CoffeeMachine")["objectId"]
    expert.milestone("coffee", object_id=mug)
    if expert.obj(mug)["isDirty"]:
        expert.rinse(mug)
    else:
        expert.empty(mug)
    expert.clear(machine, keep=mug)
    expert.toggle(machine, False)
    if mug not in (expert.obj(machine).get("receptacleObjectIds") or []):
        expert.fetch(mug)
        expert.put_into(machine)
    expert.toggle(machine, True)
    return mug


def toast_slice(expert: Expert, exclude: tuple = ()) -> str:
    slices = [s for s in expert.slices("Bread", 1 + len(exclude)) if s not in exclude
              and not expert.obj(s)["isCooked"]]
    if not slices:
        raise ExpertFailure("no bread slice left to toast")
    piece = slices[0]
    toaster = expert.nearest("Toaster")["objectId"]
    expert.clear(toaster)
    expert.fetch(piece)
    expert.put_into(toaster)
    expert.milestone("toast", object_id=piece)
    expert.toggle(toaster, True)
    expert.toggle(toaster, False)
    return piece


def serve(expert: Expert, pieces: list[str], receptacle: str) -> None:
    for piece in pieces:
        if receptacle not in (expert.obj(piece).get("parentReceptacles") or []):
            expert.fetch(piece)
            expert.put_into(receptacle)


def cook_slices(expert: Expert, whole_type: str, n: int) -> list[str]:
    """``n`` slices of ``whole_type`` cooked in a pan on a lit burner (TEACh's cooked rule: on a hot burner)."""
    pieces = expert.slices(whole_type, n)
    pan, burner = expert.vessel_on_stove("Pan")
    knob = expert.knob_for(burner)
    expert.toggle(knob, True)
    cooked = []
    for piece in pieces:
        if len(cooked) == n:
            break
        if not expert.obj(piece)["isCooked"]:
            expert.fetch(piece)
            expert.put_into(pan)
        cooked.append(piece)
    expert.toggle(knob, False)
    return cooked


def water_plant(expert: Expert) -> None:
    plant = expert.nearest("HousePlant")["objectId"]
    vessels = [o for o in expert.objects() if o["pickupable"] and o["canFillWithLiquid"]]
    full = [o for o in vessels if o["isFilledWithLiquid"] and o.get("fillLiquid") == "water"]
    if full:
        can = min(full, key=lambda o: o["distance"])["objectId"]
    else:
        if not vessels or not expert.objects("SinkBasin"):
            raise ExpertFailure("no water to carry")
        preferred = [o for o in vessels if o["objectType"] in ("WateringCan", "Cup", "Mug", "Bowl")] or vessels
        can = min(preferred, key=lambda o: (o["objectType"] != "WateringCan", o["distance"]))["objectId"]
        expert.empty(can)
        expert.rinse(can, keep_water=True)
    expert.fetch(can)
    expert.milestone("pour", object_id=plant)
    expert.act_on("Pour", plant)


def boil(expert: Expert, object_type: str) -> None:
    """Boil X: water in a pot on a burner, X in it, the burner on. X may be a piece (PotatoSliced, EggCracked): the
    whole one is cut first."""
    whole = next((w for w, piece in SLICED_TYPE.items() if piece == object_type), None)
    if whole is not None and not [o for o in expert.objects(object_type) if not o["isCooked"]]:
        expert.slices(whole, 1)
    food = [o for o in expert.objects(object_type) if not o["isCooked"]]
    if not food:
        raise ExpertFailure(f"no raw {object_type}")
    pot, burner = expert.vessel_on_stove("Pot")
    knob = expert.knob_for(burner)
    expert.toggle(knob, False)
    if not expert.obj(pot)["isFilledWithLiquid"]:
        jugs = [o for o in expert.objects() if o["objectType"] in ("Cup", "Mug", "Bowl") and o["pickupable"]]
        if not jugs:
            raise ExpertFailure("nothing to carry water in")
        jug = min(jugs, key=lambda o: o["distance"])["objectId"]
        expert.empty(jug)
        expert.rinse(jug, keep_water=True)
        expert.milestone("pour", object_id=pot)
        expert.act_on("Pour", pot)
    target = min(food, key=lambda o: o["distance"])["objectId"]
    expert.fetch(target)
    expert.put_into(pot)
    expert.milestone("stove", object_id=knob)
    expert.toggle(knob, True)


def clean_all(expert: Expert, task) -> None:
    for _ in range(12):
        status = _status(expert, task)
        if status.success:
            break
        dirty = [oid for sub in status.subgoals for oid in sub.problems]
        if not dirty:
            break
        expert.rinse(dirty[0])
        expert.put_down()


def put_all(expert: Expert, task, single: bool) -> None:
    """Put All X On Y (any Y) or Put All X In One Y (a single Y): move every X not yet where it must be."""
    from .checker import _Scene, prepare_objects

    wanted_class, target_class = task.task_params[0], task.task_params[2]

    def of_class(o: dict, cls: str) -> bool:
        return o["objectType"] == cls or cls in o.get("simbotObjectClass", ())

    objects = prepare_objects(expert.event.metadata["objects"])
    items = [o for o in objects if of_class(o, wanted_class)]
    targets = [o for o in objects if of_class(o, target_class) and o["receptacle"]]
    if not items or not targets:
        raise ExpertFailure("nothing to move or nowhere to put it")
    scene = _Scene(objects, None)
    if single:
        def holds(t):
            return sum(t["objectId"] in (scene.parent_receptacles(i) or []) for i in items)
        targets.sort(key=lambda t: (-holds(t), t["distance"]))
        targets = targets[:1]
    target_ids = {t["objectId"] for t in targets}
    for item in items:
        current = expert.obj(item["objectId"])
        if target_ids & set(current.get("parentReceptacles") or []):
            continue
        expert.fetch(item["objectId"])
        expert.milestone("carry", object_id=item["objectId"], receptacle_id=targets[0]["objectId"])
        for target in sorted(targets, key=lambda t: expert.obj(t["objectId"])["distance"]):
            try:
                expert.put_into(target["objectId"])
                break
            except ExpertFailure:
                if expert.held() is None:
                    raise
        else:
            raise ExpertFailure(f"could not place {item['objectId']}")
    expert.put_down()


def salad_parts(expert: Expert, plate: str, lettuce: int, tomato: int, potato: int) -> None:
    if potato:
        serve(expert, cook_slices(expert, "Potato", potato), plate)
    for whole, n in (("Lettuce", lettuce), ("Tomato", tomato)):
        if n:
            serve(expert, expert.slices(whole, n)[:n], plate)


def serve_on_spot(expert: Expert, task) -> None:
    """Breakfast: move each served item (a mug, a plate) that is not on the serving spot onto one."""
    for _ in range(4):
        status = _status(expert, task)
        movers = [oid for sub in status.subgoals if sub.kind == "relation" for oid in sub.problems]
        if status.success or not movers:
            return
        spot = expert.nearest(BreakfastParams.from_params(task.task_params).serving_spot)["objectId"]
        expert.fetch(movers[0])
        expert.put_into(spot)


def solve(expert: Expert, task) -> None:
    """Solve a TEACh task (an instantiated :class:`episodes.tasks.Task`) of one of the 12 dataset families from
    ground truth; raises :class:`ExpertFailure` when it cannot. Success is judged afterwards by the checker."""
    params = task.task_params
    name = task.task_name
    if name == "Coffee":
        make_coffee(expert)
    elif name == "Water Plant":
        water_plant(expert)
    elif name == "Boil X":
        boil(expert, params[0])
    elif name == "Plate Of Toast":
        plate = _clean_receptacle(expert, "Plate")
        serve(expert, [toast_slice(expert)], plate)
    elif name == "Clean All X":
        clean_all(expert, task)
    elif name == "Put All X On Y":
        put_all(expert, task, single=False)
    elif name == "Put All X In One Y":
        put_all(expert, task, single=True)
    elif name == "N Cooked Slices Of X In Y":
        dish = _clean_receptacle(expert, params[3])
        serve(expert, cook_slices(expert, params[1], int(params[0])), dish)
    elif name == "N Slices Of X In Y":
        dish = _clean_receptacle(expert, params[3])
        serve(expert, expert.slices(params[1], int(params[0]))[: int(params[0])], dish)
    elif name == "Salad":
        plate = _clean_receptacle(expert, "Plate")
        salad_parts(expert, plate, int(params[0]), int(params[1]), int(params[2]))
    elif name == "Sandwich":
        plate = _clean_receptacle(expert, "Plate")
        first = toast_slice(expert)
        serve(expert, [first], plate)
        serve(expert, [toast_slice(expert, exclude=(first,))], plate)
        salad_parts(expert, plate, int(params[0]), int(params[1]), 0)
    elif name == "Breakfast":
        wanted = BreakfastParams.from_params(params)
        if wanted.coffee:
            make_coffee(expert)
        if wanted.toast or wanted.apple or wanted.salad:
            plate = _clean_receptacle(expert, "Plate")
            if wanted.toast:
                serve(expert, [toast_slice(expert)], plate)
            if wanted.apple:
                serve(expert, expert.slices("Apple", 1)[:1], plate)
            if wanted.salad:
                salad_parts(expert, plate, wanted.salad_lettuce, wanted.salad_tomato, wanted.salad_potato)
        serve_on_spot(expert, task)
    else:
        raise ExpertFailure(f"no expert for task {name!r}")
    if expert.held() is not None and name not in ("Water Plant",):
        expert.put_down()
    expert.finish()


def snapshot(env) -> dict:
    """The TEACh state of ``env`` now (a deep copy). Object ``name`` fields are the env's own (the embedded env
    derives them from a CRC-32 of the object id, the same in every process), so a recorded state names objects as the
    live events do."""
    return copy.deepcopy(env.export_state())


__all__ = ["Cut", "Expert", "ExpertFailure", "Habits", "MOTIONS", "OBJECT_ACTIONS", "Trace", "find_click", "snapshot",
           "solve", "teach_pose"]
