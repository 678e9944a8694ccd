"""The executor: runs a :class:`~agent.program.Program` as TEACh actions, from the agent's own observations.

Skills are Python generators that ``yield`` an :class:`~agent.observation.AgentAction` and receive the next
:class:`~agent.observation.Observation`; :meth:`Executor.run` chains them, so the agent can be driven one step at a
time by any runner (ours, or TEACh's ``get_next_action`` loop). What the executor knows comes only from the
observation: the depth-built occupancy map (``agent.mapping``), the provider's detections and 3D semantic memory
(``perception.memory``), what is in the hand, and the outcome of the last action.

The skill library follows HELPER's executor (Sarch et al., 2023): go to an object found in the memory (searching for it
when unknown: places the dialogue named first, doubtful sightings of it walked up to, two frontiers of the map, open
surfaces that accept it swept from close up, open places and vessels such as the sink basin or a pot, then likely
containers, opened, then the rest of the frontiers), click on its detected mask, check the effect (the hand's content,
the action's success), and recover (another pixel, another viewpoint, a re-search) before giving up on a skill and
moving on to the next one. The close looks are for learned perception: a detector that names a knife from a metre
rarely names it from across the room.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Generator, Iterable

import numpy as np
from scipy import ndimage

from envs.camera import CAMERA_HEIGHT_ABOVE_AGENT, project_points, unproject_depth
from envs.ontology import SLICED_TYPE, load_ontology
from episodes.metrics import MAX_API_FAILS, MAX_TRAJ_STEPS

from .expand import PIECES
from .mapping import OccupancyMap
from .navigation import HEADINGS, Navigator, heading_between, snap_yaw, turn_actions
from .observation import AgentAction, Observation
from .program import Program, SkillCall

Steps = Generator[AgentAction, Observation, None]

HORIZONS = (-30.0, 0.0, 30.0, 60.0)
SURFACES = ("CounterTop", "DiningTable", "SideTable", "CoffeeTable", "Desk", "Dresser", "Shelf", "TVStand")
"""Where the agent puts things down, in order of preference."""
CONTAINERS = ("Fridge", "Cabinet", "Drawer", "Microwave")
"""Closed receptacles searched when an object is nowhere in view."""
MEMORY_CLICK_ACTIONS = ("PutObject", "ToggleObjectOn", "ToggleObjectOff")
"""Actions on big fixed things (counters, sinks, burners, appliances) that may click the mapped points of their target
when no detection shows it. Not pickups, opens or closes: a learned map's false mugs and cabinets made those clicks
fail 19 times in one episode (TEACh ends an episode at 30 failed actions)."""
SINGLE_PER_ROOM = ("Fridge", "Microwave")
"""Containers a kitchen has one of (iTHOR's kitchens): among several mapped, only the most confident is searched."""
CONTAINER_PRIORS = {
    "Fridge": ("Apple", "Tomato", "Lettuce", "Potato", "Egg", "Bread", "Cup", "Mug", "Bowl", "Plate", "Pan", "Pot",
               "WineBottle", "AppleSliced", "TomatoSliced", "LettuceSliced", "PotatoSliced", "BreadSliced"),
    "Drawer": ("Knife", "ButterKnife", "Fork", "Spoon", "Spatula", "DishSponge", "PepperShaker", "SaltShaker",
               "KeyChain", "CreditCard", "Pen", "Pencil", "CellPhone", "RemoteControl", "Watch"),
    "Microwave": ("Mug", "Cup", "Bowl", "Plate", "Potato", "Egg", "Bread"),
    "Cabinet": ("Mug", "Cup", "Bowl", "Plate", "Pot", "Pan", "Kettle", "SoapBottle", "DishSponge", "WineBottle",
                "Vase", "Glassbottle", "Ladle", "Spatula", "SaltShaker", "PepperShaker", "Toaster", "Bread",
                "ToiletPaper", "SprayBottle", "Candle", "Cloth", "TissueBox", "Book", "Statue"),
}
OPEN_PLACE_PRIORS = {
    "SinkBasin": ("Knife", "ButterKnife", "Fork", "Spoon", "Spatula", "Ladle", "Mug", "Cup", "Bowl", "Plate", "Pan",
                  "Pot", "DishSponge", "Apple", "Tomato", "Potato", "Lettuce", "Egg", "SoapBar", "Kettle"),
    "Bathtub": ("SoapBar", "Cloth", "SoapBottle", "DishSponge"),
}
"""Open receptacles looked at up close when an object is nowhere in view (low inside, hidden from afar)."""
OPEN_VESSELS = ("Pot", "Pan", "Bowl")
"""Open vessels whose walls hide what lies in them from the side (a tomato in a pot on the stove): looked into from
above when they accept the object and it is nowhere in view."""
SWEPT_SURFACES = SURFACES + ("StoveBurner", "ArmChair", "Sofa", "Ottoman", "Bed", "Chair", "Stool", "Cart")
"""Open surfaces a small object lies on in plain view, swept from close up (in pieces of ``sweep_piece`` metres) when
a search has not found it from afar: a learned detector names a knife seen from a metre, rarely one seen across the
room (perception/README: small objects in the look-around memory)."""
STOVE_KNOBS_MAX = 4
REACH = 1.45
"""Metres from the agent's body to a click point (TEACh allows 1.5)."""


class SkillFailure(RuntimeError):
    """A skill could not be carried out; the executor logs it and goes on with the next skill."""


class OutOfBudget(RuntimeError):
    """The step or failed-action budget is spent."""


@dataclass
class ExecutorConfig:
    max_steps: int = MAX_TRAJ_STEPS
    max_failures: int = MAX_API_FAILS
    failure_margin: int = 3
    """Stop trying when this close to TEACh's failed-action limit."""
    min_confidence: float = 0.3
    """Memory instances below this confidence are not acted on."""
    viewpoint_tries: int = 4
    search_viewpoint_tries: int = 2
    """Viewpoints tried to open a container while searching (acting on a task object keeps ``viewpoint_tries``)."""
    frontier_visits: int = 6
    container_opens: int = 16
    surface_sweeps: int = 6
    """Pieces of open surfaces (counters, tables, shelves that accept the object) looked at from close up per search,
    nearest first, skipping what was already seen from within the map's ``near_depth``."""
    sweep_piece: float = 1.0
    doubtful_looks: int = 3
    """Instances of the wanted type below ``min_confidence`` (at least ``doubtful_confidence``) walked up to and looked
    at from close up per search, before frontiers and sweeps: one uncertain sighting from afar becomes a confident one
    (or is voted out) when seen at a metre."""
    doubtful_confidence: float = 0.05
    search_failure_reserve: int = 10
    """Searching (opening containers to look inside) stops spending failed actions when fewer than this many
    remain before the stop margin: the task's own interactions keep them. With imperfect perception a map's
    "cabinets" may be walls, and 16 refused opens would otherwise end the episode at TEACh's limit."""
    look_around_at_start: bool = True
    hidden_elevation: float = 8.0
    hidden_azimuth: float = 45.0
    """Degrees: after a viewpoint from which the target's mapped points fall in the frame but all behind something
    nearer (a shelf above a cup on the shelf below, a basin's rim, a fridge's side wall), viewpoints that look down
    on the target within ``hidden_elevation`` of that view's angle from within ``hidden_azimuth`` of its side cost
    ``hidden_view_cost`` more: the next try looks from nearer, farther or another side, not from a step beside the
    failed one at the same angle."""
    hidden_view_cost: float = 8.0
    refute_views: int = 2
    """Close views after which a mapped instance the detector does not show is taken for a mistake of the map: from
    this many viewpoints within ``refute_distance`` metres of it, each with at least ``refute_min_points`` of its
    points in the frame and unoccluded, no detection showed it. Its place (``refute_radius``) is then skipped for
    its types by every later choice (:meth:`Executor.refuted_at`), so a learned map's false mug on a counter is not
    walked back to by the next skill. Ground truth shows every unoccluded object, so it never applies there."""
    refute_distance: float = 2.0
    refute_min_points: int = 15
    refute_radius: float = 0.3
    runner_up_share: float = 0.15
    """Last resort of :meth:`Executor.locate`: when a whole search finds no instance whose top class is wanted, a
    confident instance that gives a wanted type at least this share of its class votes is acted on (a learned
    detector's dining table voted 'SideTable' 68 / 'DiningTable' 21 is still the best evidence of one; acting on it
    costs a few steps where failing costs the task). Ground truth votes one class, so it never applies there; above
    1 turns it off."""


@dataclass
class SkillRecord:
    skill: str
    ok: bool
    steps: int
    message: str = ""


@dataclass
class _Target:
    """What a skill wants to act on: candidate types and an optional memory instance."""

    types: tuple[str, ...]
    instance: object = None
    tried_nodes: set = field(default_factory=set)
    empty_views: int = 0
    """Close viewpoints from which the target's mapped points were in plain view but no detection showed it."""
    hidden_sights: list = field(default_factory=list)
    """(elevation, azimuth) in degrees (:meth:`Executor.sight`) of viewpoints from which the target was hidden
    behind something nearer."""


def pixel_click(row: int, col: int, height: int, width: int) -> tuple[float, float]:
    """The click (x, y fractions) that TEACh's rule resolves to pixel (row, col): it indexes round(y*H), round(x*W)
    (``envs.clicks.click_pixel``), so the pixel's centre, (col + 0.5) / W, lands on the next pixel whenever
    round-half-to-even or float error rounds up - on a 2 px rim of a plate holding toast, that is the counter.
    A quarter pixel in stays inside the pixel at the frame's size and at TEACh's 900 px window alike."""
    return (col + 0.25) / width, (row + 0.25) / height


class Executor:
    def __init__(self, program: Program, config: ExecutorConfig | None = None):
        self.program = program
        self.config = config or ExecutorConfig()
        self.hints = dict(program.intent.hints) if program.intent else {}
        self.mapped_before_put: set = set()
        self.landmarks = dict(program.intent.landmarks) if program.intent else {}
        self.ontology = load_ontology()
        self.obs: Observation | None = None
        self.map: OccupancyMap | None = None
        self.nav: Navigator | None = None
        self.steps = 0
        self.failures = 0
        self.records: list[SkillRecord] = []
        self.focus: dict[str, np.ndarray] = {}
        """Type -> where the agent last left an object of that type (thor), to find the same one again."""
        self.stand_ins: dict[tuple[str, ...], int] = {}
        """Wanted types -> the memory instance :meth:`runner_up` chose for them after a failed search (found again
        at once, not searched for twice)."""
        self.opened: set[tuple] = set()
        self.searched_containers: set[tuple] = set()
        self.explored_frontiers: set[tuple[int, int]] = set()
        self.swept: set[tuple] = set()
        self.knobs_on: list[np.ndarray] = []
        self.failed_actions: dict[str, int] = {}
        self.last_put_point: np.ndarray | None = None
        self.last_pickup: tuple | None = None
        """(x, y, camera pose) of the last successful pickup click: where to put a wrong pick back."""
        self.current = ""
        """The skill running now (for videos and logs)."""
        self.refuted: list[tuple[tuple[str, ...], np.ndarray]] = []
        """(types, thor point): places where a mapped instance of those types was looked at from close up and not
        seen (``ExecutorConfig.refute_views``)."""
        self.to_close: list[int] = []
        """Containers opened while searching, to shut once the object found inside is taken out."""
        self.trace: list[str] = []
        """Notes on what the executor decided and why (step-stamped), for debugging and reports."""

    def note(self, message: str) -> None:
        self.trace.append(f"{self.steps}: {message}")

    def failures_left(self) -> int:
        """Failed actions the executor may still spend before it stops (TEACh's limit less the margin)."""
        return self.config.max_failures - self.config.failure_margin - self.failures

    # ------------------------------------------------------------------ observation plumbing
    def observe(self, obs: Observation) -> None:
        if self.map is None:
            self.map = OccupancyMap(origin=obs.agent_position)
            self.nav = Navigator(self.map)
        self.obs = obs
        self.map.update(obs.depth, obs.fov, obs.camera_to_world, holding=bool(obs.held))
        self.map.mark_visited(float(obs.agent_position[0]), float(obs.agent_position[2]))

    def do(self, action: AgentAction) -> Generator[AgentAction, Observation, bool]:
        """Send one action; returns whether it succeeded."""
        if self.steps >= self.config.max_steps - 1:
            raise OutOfBudget("step limit")
        if self.failures_left() <= 0:
            raise OutOfBudget("failed-action limit")
        if action.name == "PutObject" and self.memory is not None:
            # what the map held before the put: the thing put down is not among it (remember_left)
            self.mapped_before_put = {i.instance_id for i in self.memory.instances()}
        obs = yield action
        self.steps += 1
        previous = self.obs
        self.observe(obs)
        ok = obs.last_action_success
        if not ok:
            self.failures += 1
            self.failed_actions[action.name] = self.failed_actions.get(action.name, 0) + 1
            self.note(f"{action.name} failed ({self.current}): {obs.last_error[:80]}")
            if action.name == "MoveAhead" and previous is not None:
                node = self.here(previous)
                di, dj = HEADINGS[snap_yaw(previous.yaw)]
                self.note(f"blocked move {node} -> state {self.nav.state_of((node[0] + di, node[1] + dj))}"
                          f"{' (soft)' if self.nav.trapped(node) else ''}")
                self.nav.block_edge(node, previous.yaw)
        return ok

    @property
    def memory(self):
        return self.obs.memory

    def here(self, obs: Observation | None = None) -> tuple[int, int]:
        obs = obs or self.obs
        return self.map.node_of(float(obs.agent_position[0]), float(obs.agent_position[2]))

    # ------------------------------------------------------------------ the program
    def run(self) -> Steps:
        """Run every skill of the program in order; a skill that fails is recorded and the next one runs."""
        try:
            if self.config.look_around_at_start:
                yield from self.look_around()
            for call in self.program.steps:
                if call.skill == "stop":
                    break
                start = self.steps
                self.current = str(call)
                try:
                    yield from self.run_skill(call)
                    self.records.append(SkillRecord(str(call), True, self.steps - start))
                except SkillFailure as error:
                    self.records.append(SkillRecord(str(call), False, self.steps - start, str(error)))
            yield from self.knobs_off()
        except OutOfBudget as error:
            self.records.append(SkillRecord("budget", False, 0, str(error)))

    def run_skill(self, call: SkillCall) -> Steps:
        handler = getattr(self, f"skill_{call.skill}")
        yield from handler(**call.args)

    # ------------------------------------------------------------------ types and memory queries
    def types_of(self, name: str) -> tuple[str, ...]:
        """``"A|B"`` alternatives and TEACh custom classes (``Drinkware``) as AI2-THOR types, in order."""
        out: list[str] = []
        for part in str(name).split("|"):
            part = part.strip()
            if part in self.ontology:
                out.append(part)
            else:
                members = [t for t in self.ontology.names if part in self.ontology.teach_classes(t)]
                out.extend(m for m in members if m not in out)
                if not members:
                    out.append(part)
        return tuple(dict.fromkeys(out))

    def instances(self, types: Iterable[str], not_in: str | None = None) -> list:
        memory = self.memory
        if memory is None:
            return []
        found = []
        for t in types:
            found.extend(i for i in memory.find(t) if i.confidence >= self.config.min_confidence
                         and not self.refuted_at(i))
        if not_in:
            excluded = self.ids_inside(not_in)
            found = [i for i in found if i.instance_id not in excluded]
        return found

    def refuted_at(self, instance) -> bool:
        """Whether ``instance`` lies where one of its type was looked at from close up and not seen
        (``ExecutorConfig.refute_views``)."""
        if not self.refuted:
            return False
        centre = np.asarray(instance.centroid, dtype=float)
        return any(instance.class_name in types and np.linalg.norm(centre - point) <= self.config.refute_radius
                   for types, point in self.refuted)

    def refute(self, target: _Target, visible: int) -> bool:
        """Count a view from which ``visible`` of the target's mapped points were in plain view and no detection
        showed it; True (and its place remembered as refuted) once ``refute_views`` such views were close enough."""
        centre = np.asarray(target.instance.centroid, dtype=float)
        if visible < self.config.refute_min_points \
                or np.linalg.norm(self.obs.camera_to_world[:3, 3] - centre) > self.config.refute_distance:
            return False
        target.empty_views += 1
        if target.empty_views < self.config.refute_views:
            return False
        # a stand-in (runner_up) is refuted as its own class too: it was not seen as that either
        self.refuted.append((tuple(dict.fromkeys(tuple(target.types) + (target.instance.class_name,))), centre))
        self.note(f"{target.types[0]} at {np.round(centre, 2)} refuted: {target.empty_views} close views without it")
        return True

    def ids_inside(self, holder_name: str) -> set:
        """Ids of the memory instances in/on any mapped instance of ``holder_name``'s types."""
        inside = set()
        for holder_type in self.types_of(holder_name):
            for holder in self.memory.find(holder_type):
                inside |= {i.instance_id for i in self.memory.contents(holder)}
        return inside

    def state_hint(self, instance, key: str):
        state = getattr(instance, "state", None) or {}
        return state.get(key)

    def body_xz(self) -> np.ndarray:
        return np.array([self.obs.agent_position[0], self.obs.agent_position[2]])

    def flat_distance(self, point) -> float:
        """Metres from the agent's body to thor ``point`` on the floor plane."""
        return float(np.hypot(point[0] - self.obs.agent_position[0], point[2] - self.obs.agent_position[2]))

    def choose(self, candidates: list, types: tuple[str, ...], prefer_near: np.ndarray | None = None):
        """The candidate to act on: near where we left one of these types (same object), else by type order and
        distance."""
        if not candidates:
            return None
        anchor = prefer_near
        if anchor is None:
            for t in types:
                if t in self.focus:
                    anchor = self.focus[t]
                    break
        body = self.body_xz()

        def key(inst):
            c = np.asarray(inst.centroid)
            order = types.index(inst.class_name) if inst.class_name in types else len(types)
            if anchor is not None and np.linalg.norm(c - anchor) < 0.5:
                return (-1, float(np.linalg.norm(c - anchor)))  # two bowls side by side: the one left there
            return (order, float(np.hypot(c[0] - body[0], c[2] - body[1])))

        return min(candidates, key=key)

    # ------------------------------------------------------------------ motion
    def look_around(self) -> Steps:
        for _ in range(4):
            yield from self.do(AgentAction("RotateRight"))

    def set_horizon(self, target: float) -> Steps:
        while self.obs.horizon > target + 1:
            if not (yield from self.do(AgentAction("LookUp"))):
                return
        while self.obs.horizon < target - 1:
            if not (yield from self.do(AgentAction("LookDown"))):
                return

    def face(self, yaw: int) -> Steps:
        for action in turn_actions(self.obs.yaw, yaw):
            yield from self.do(AgentAction(action))

    def walk_to(self, goal: tuple[int, int], final_yaw: int | None = None, max_replans: int = 8) -> Generator:
        """Walk the lattice to ``goal``, re-planning when a step fails or the map shows the path blocked; returns
        whether the agent got there."""
        for _ in range(max_replans):
            start = self.here()
            if start == goal:
                break
            path = self.nav.path(start, goal)
            if path is None:
                return False
            moved = True
            soft = any(self.nav.state_of(n) == 2 for n in path[1:])
            for a, b in zip(path, path[1:]):
                if not self.nav.path_is_clear([a, b], allow_blocked=soft):
                    moved = False
                    break
                yield from self.face(heading_between(a, b))
                if not (yield from self.do(AgentAction("MoveAhead"))):
                    moved = False
                    break
                if self.here() != b:
                    moved = False
                    break
            if moved and self.here() == goal:
                break
        if self.here() != goal:
            return False
        if final_yaw is not None:
            yield from self.face(final_yaw)
        return True

    # ------------------------------------------------------------------ seeing a target in the frame
    @staticmethod
    def projected(instance, obs: Observation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, depths) of ``instance``'s points (up to 400) that project into the frame."""
        points = np.asarray(instance.points)
        if len(points) > 400:
            points = points[np.linspace(0, len(points) - 1, 400).astype(int)]
        uv, z = project_points(points, obs.width, obs.height, obs.fov, obs.camera_to_world)
        ok = (z > 0.05) & np.isfinite(uv).all(axis=1)
        cols = np.floor(uv[ok, 0]).astype(int)
        rows = np.floor(uv[ok, 1]).astype(int)
        z = z[ok]
        inside = (cols >= 0) & (cols < obs.width) & (rows >= 0) & (rows < obs.height)
        return rows[inside], cols[inside], z[inside]

    def visible_points(self, instance, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (rows, cols) where ``instance``'s points project into the frame unoccluded."""
        rows, cols, z = self.projected(instance, obs)
        unoccluded = obs.depth[rows, cols] > z - 0.12
        return rows[unoccluded], cols[unoccluded]

    def target_mask(self, target: _Target, obs: Observation) -> np.ndarray | None:
        """The detection mask in ``obs`` that shows the target: of one of its types (or holding one among its class
        candidates, when the instance is in view), overlapping the instance's projected points most (or, without an
        instance, the nearest detection of those types)."""
        dets = obs.detections
        if dets is None or len(dets) == 0:
            return None
        chosen, best = None, 0.0
        rows = cols = None
        stand_in = None  # a runner-up instance acted on as the wanted type: masks of its own top class count
        if target.instance is not None:
            rows, cols = self.visible_points(target.instance, obs)
            if target.instance.instance_id in self.stand_ins.values():
                stand_in = target.instance.class_name
        for k, name in enumerate(dets.class_names):
            stand_in_mask = name == stand_in and rows is not None and len(rows) > 0
            if name not in target.types and not stand_in_mask:
                # a mask that names the target among its runner-up classes counts where the mapped instance
                # (whose fused votes chose the target's type) projects onto it
                if dets.class_scores is None or rows is None or not len(rows) \
                        or not any(t in dets.class_scores[k] for t in target.types):
                    continue
            mask = dets.masks[k]
            if rows is not None and len(rows):
                score = float(mask[rows, cols].sum()) / max(1, len(rows))
                if score < 0.05:
                    continue
            else:
                if target.instance is not None:
                    centre = self.mask_centroid(mask, obs)
                    if centre is None or np.linalg.norm(centre - np.asarray(target.instance.centroid)) > 0.5:
                        continue
                depth = float(np.median(obs.depth[mask])) if mask.any() else 99.0
                score = 1.0 / (1.0 + depth)
            score += 0.01 * float(dets.scores[k])
            if score > best:
                chosen, best = mask, score
        return chosen

    def memory_mask(self, instance, obs: Observation, min_points: int = 12) -> np.ndarray | None:
        """A mask of the pixels where ``instance``'s mapped points project unoccluded (grown by 2 px), or None when
        fewer than ``min_points`` do."""
        rows, cols = self.visible_points(instance, obs)
        if len(rows) < min_points:
            return None
        mask = np.zeros((obs.height, obs.width), dtype=bool)
        mask[rows, cols] = True
        return ndimage.binary_dilation(mask, iterations=2)

    def mask_centroid(self, mask: np.ndarray, obs: Observation) -> np.ndarray | None:
        if mask.sum() < 3:
            return None
        world = unproject_depth(obs.depth, obs.fov, obs.camera_to_world)
        return np.median(world[mask], axis=0)

    def click_pixels(self, mask: np.ndarray, obs: Observation, limit: int = 3) -> list[tuple[float, float]]:
        """Up to ``limit`` clicks (x, y fractions) on ``mask``: interior pixels within reach, spread apart."""
        world = unproject_depth(obs.depth, obs.fov, obs.camera_to_world)
        body = obs.agent_position
        reach = np.linalg.norm(world - body, axis=-1) <= REACH
        usable = mask & reach & (obs.depth > 0)
        if not usable.any():
            return []
        interior = ndimage.distance_transform_edt(np.pad(usable, 1))[1:-1, 1:-1]
        out: list[tuple[float, float]] = []
        taken = np.zeros_like(usable)
        for _ in range(limit):
            score = np.where(usable & ~taken, interior, 0)
            k = int(np.argmax(score))
            if score.flat[k] <= 0:
                break
            r, c = divmod(k, usable.shape[1])
            out.append(pixel_click(r, c, obs.height, obs.width))
            rr, cc = np.ogrid[:usable.shape[0], :usable.shape[1]]
            taken |= (rr - r) ** 2 + (cc - c) ** 2 <= max(9.0, float(score.flat[k]) ** 2)
        return out

    # ------------------------------------------------------------------ viewpoints
    def viewpoints(self, instance, tried: set, frontal: float = 1.0,
                   hidden_sights: Iterable[tuple[float, float]] = ()) -> list[tuple[tuple[int, int], int, float]]:
        """(node, yaw, horizon) from which ``instance`` should be clickable: within reach, facing it, best first
        (``hidden_sights``: see ``ExecutorConfig.hidden_elevation``)."""
        hidden_sights = list(hidden_sights)
        points = np.asarray(instance.points)
        if len(points) > 300:
            points = points[np.linspace(0, len(points) - 1, 300).astype(int)]
        centre = np.asarray(instance.centroid)
        lo, hi = points.min(axis=0), points.max(axis=0)
        aim = centre.copy()
        aim[1] = min(hi[1], centre[1] + 0.25 * (hi[1] - lo[1]))
        here = self.here()
        c_node = self.map.node_of(centre[0], centre[2])
        body_y = float(self.obs.agent_position[1])
        front = self.front_direction(centre)
        options = []
        rejected = {"blocked": 0, "reach": 0, "angle": 0, "horizon": 0, "sight": 0, "path": 0}
        for di in range(-7, 8):
            for dj in range(-7, 8):
                node = (c_node[0] + di, c_node[1] + dj)
                if node in tried or self.nav.state_of(node) == 2:
                    rejected["blocked"] += 1
                    continue
                x, z = self.map.node_xz(*node)
                flat = np.hypot(points[:, 0] - x, points[:, 2] - z)
                nearest = int(np.argmin(flat))
                reach3d = math.sqrt(flat[nearest] ** 2 + (points[nearest, 1] - body_y) ** 2)
                if reach3d > REACH - 0.05 or flat.min() < 0.15:
                    rejected["reach"] += 1
                    continue
                bearing = math.degrees(math.atan2(centre[0] - x, centre[2] - z)) % 360.0
                yaw = snap_yaw(bearing)
                if abs((yaw - bearing + 180.0) % 360.0 - 180.0) > 40.0:
                    rejected["angle"] += 1
                    continue
                horizon = self.best_horizon(x, z, yaw, aim)
                if horizon is None:
                    rejected["horizon"] += 1
                    continue
                eye = np.array([x, body_y + CAMERA_HEIGHT_ABOVE_AGENT, z])
                if not self.map.line_of_sight(eye, aim, ignore=points):
                    rejected["sight"] += 1
                    continue
                cost = self.nav.cost_to(here, node)
                if not np.isfinite(cost) and self.nav.trapped(here):
                    self.nav.soft = True
                    cost = self.nav.cost_to(here, node) + 10.0
                    self.nav.soft = False
                if not np.isfinite(cost):
                    rejected["path"] += 1
                    continue
                turn = len(turn_actions(self.obs.yaw, yaw)) if node == here else 0.5
                elevation, azimuth = self.sight(eye, aim)
                hidden = self.config.hidden_view_cost * sum(
                    abs(elevation - e) < self.config.hidden_elevation
                    and abs((azimuth - a + 180.0) % 360.0 - 180.0) < self.config.hidden_azimuth
                    for e, a in hidden_sights)
                offset = np.array([x - centre[0], z - centre[2]])
                facing = 0.0
                if front is not None and np.linalg.norm(offset) > 1e-6:
                    facing = 6.0 * frontal * (1.0 - float(offset @ front) / float(np.linalg.norm(offset)))
                options.append((cost + turn + 1.5 * float(flat.min()) + facing + hidden, node, yaw, horizon))
        options.sort(key=lambda t: t[0])
        if not options:
            self.note(f"no viewpoint for {instance.class_name} at {np.round(centre, 2)}: {rejected}")
        return [(node, yaw, horizon) for _, node, yaw, horizon in options]

    @staticmethod
    def sight(eye: np.ndarray, aim: np.ndarray) -> tuple[float, float]:
        """(elevation, azimuth) in degrees of the line from ``eye`` to ``aim`` (thor points): how far it falls below
        level, and the side ``aim`` is seen from (the bearing from ``aim`` to ``eye`` on the floor, 0 = +z)."""
        d = np.asarray(eye, float) - np.asarray(aim, float)
        flat = float(np.hypot(d[0], d[2]))
        return math.degrees(math.atan2(float(d[1]), flat)), math.degrees(math.atan2(float(d[0]), float(d[2]))) % 360.0

    def hidden_behind(self, instance, obs: Observation) -> bool:
        """Whether at least 3 of ``instance``'s mapped points fall in the frame and none is seen (:meth:`projected`,
        :meth:`visible_points`): all lie behind a nearer surface."""
        rows, cols, z = self.projected(instance, obs)
        return len(rows) >= 3 and not bool(np.any(obs.depth[rows, cols] > z - 0.12))

    def front_direction(self, centre: np.ndarray, radius: float = 0.75) -> np.ndarray | None:
        """Unit (x, z) direction from ``centre`` towards the open floor around it: where an object against a wall
        or in a counter is seen and opened from."""
        grid = self.map
        row, col = grid.to_cell(centre[0], centre[2])
        r = int(radius / grid.cell)
        r0, c0 = max(int(row) - r, 0), max(int(col) - r, 0)
        window = grid.floor[r0:int(row) + r + 1, c0:int(col) + r + 1] & ~grid.blocked_cells()[r0:int(row) + r + 1,
                                                                                             c0:int(col) + r + 1]
        rows, cols = np.nonzero(window)
        if len(rows) < 4:
            return None
        dz = (rows + r0 - row) * grid.cell
        dx = (cols + c0 - col) * grid.cell
        vector = np.array([dx.mean(), dz.mean()])
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0.05 else None

    def best_horizon(self, x: float, z: float, yaw: int, aim: np.ndarray) -> float | None:
        from envs.camera import camera_to_world_thor

        cam = np.array([x, float(self.obs.agent_position[1]) + CAMERA_HEIGHT_ABOVE_AGENT, z])
        best = None
        for horizon in HORIZONS:
            uv, depth = project_points(aim[None], self.obs.width, self.obs.height, self.obs.fov,
                                       camera_to_world_thor(cam, yaw, horizon))
            if depth[0] <= 0.1:
                continue
            u, v = uv[0]
            m = 0.1
            if m * self.obs.width <= u <= (1 - m) * self.obs.width and m * self.obs.height <= v <= (1 - m) * self.obs.height:
                offset = abs(v - self.obs.height * 0.55)
                if best is None or offset < best[0]:
                    best = (offset, horizon)
        return None if best is None else best[1]

    # ------------------------------------------------------------------ acting on a target
    def interact(self, target: _Target, action: str, accept: tuple[str, ...] = (), max_failed_clicks: int = 3,
                 tries: int | None = None, memory_fallback: bool = True) -> Generator:
        """Go where ``target`` can be clicked and send ``action`` on it; returns the click's world point. Errors
        whose message contains one of ``accept`` count as success (e.g. "already on"). Gives up after
        ``max_failed_clicks`` refused clicks (each one counts against TEACh's 30 failed actions) or ``tries``
        viewpoints (default ``viewpoint_tries``). ``memory_fallback``: for ``MEMORY_CLICK_ACTIONS``, when no detection
        shows the target from a viewpoint, click where the memory instance's own points project (a learned detector
        does not fire on every view of a counter it mapped)."""
        last_error = "no viewpoint"
        failed_clicks = 0
        for attempt in range(self.config.viewpoint_tries if tries is None else tries):
            if target.instance is not None and self.memory is not None:
                fresh = self.memory.get(target.instance.instance_id)
                if fresh is not None:
                    target.instance = fresh
            mask = self.target_mask(target, self.obs) if attempt == 0 else None
            clicks = self.click_pixels(mask, self.obs) if mask is not None else []
            if not clicks:
                if target.instance is None:
                    raise SkillFailure(f"{action}: no {target.types[0]} to act on")
                views = self.viewpoints(target.instance, target.tried_nodes,
                                        hidden_sights=target.hidden_sights)
                if not views:
                    last_error = "no viewpoint within reach"
                    break
                node, yaw, horizon = views[0]
                target.tried_nodes.add(node)
                arrived = yield from self.walk_to(node, final_yaw=yaw)
                if not arrived:
                    last_error = "could not walk to a viewpoint"
                    continue
                yield from self.set_horizon(horizon)
                mask = self.target_mask(target, self.obs)
                if mask is None:
                    for look in (30.0, -30.0):
                        h = horizon + look
                        if HORIZONS[0] <= h <= HORIZONS[-1]:
                            yield from self.set_horizon(h)
                            mask = self.target_mask(target, self.obs)
                            if mask is not None:
                                break
                if mask is None and memory_fallback and action in MEMORY_CLICK_ACTIONS:
                    mask = self.memory_mask(target.instance, self.obs)
                    if mask is not None:
                        self.note(f"{action} {target.types[0]}: no detection, clicking the mapped points")
                if mask is None:
                    last_error = "target not in view from the viewpoint"
                    if self.hidden_behind(target.instance, self.obs):
                        sight = self.sight(self.obs.camera_to_world[:3, 3], np.asarray(target.instance.centroid))
                        target.hidden_sights.append(sight)
                        self.note(f"{action} {target.types[0]}: hidden behind something nearer, seen "
                                  f"{sight[0]:.0f} deg down from bearing {sight[1]:.0f}")
                    rows, _ = self.visible_points(target.instance, self.obs)
                    self.note(f"{action} {target.types[0]}: not in view at {self.here()} yaw {self.obs.yaw} "
                              f"h {self.obs.horizon} (planned {node} {yaw} {horizon}); projected {len(rows)}; "
                              f"centroid {np.round(target.instance.centroid, 2)}")
                    if self.refute(target, len(rows)):
                        last_error = "not there (looked at from close up)"
                        break
                    continue
                clicks = self.click_pixels(mask, self.obs)
                if not clicks:
                    last_error = "target out of reach from the viewpoint"
                    continue
            for x, y in clicks[:2]:
                point = self.click_point(x, y)
                door = self.map.snapshot_door(point[0], point[2]) if action == "OpenObject" else None
                ok = yield from self.do(AgentAction(action, x=x, y=y))
                if ok and action == "PickupObject":
                    self.last_pickup = (x, y, self.obs.camera_to_world.copy())
                if ok and door is not None:
                    self.map.opened(door)
                if ok and action == "CloseObject":
                    self.map.closed(point[0], point[2])
                if ok or any(a in self.obs.last_error for a in accept):
                    return point
                last_error = self.obs.last_error
                failed_clicks += 1
                if failed_clicks >= max_failed_clicks:
                    raise SkillFailure(f"{action} on {target.types[0]}: {failed_clicks} clicks refused: {last_error}")
                if "too far" in last_error:
                    break
                if any(k in last_error for k in ("must be open", "must be closed", "must be OFF", "holding",
                                                  "isn't holding", "NOT a receptacle", "not a valid Object Type",
                                                  "must be holding", "filled with liquid", "already",
                                                  "No valid positions")):
                    raise SkillFailure(f"{action}: {last_error}")
            if target.instance is not None:
                here = self.here()
                target.tried_nodes.add(here)
        raise SkillFailure(f"{action} on {target.types[0]}: {last_error}")

    def click_point(self, x: float, y: float) -> np.ndarray:
        """The thor point under the click (x, y): the pixel's ray cut at its planar depth."""
        obs = self.obs
        r = min(int(y * obs.height), obs.height - 1)
        c = min(int(x * obs.width), obs.width - 1)
        k = obs.intrinsics
        cam = np.array([(c + 0.5 - k[0, 2]) / k[0, 0], (r + 0.5 - k[1, 2]) / k[1, 1], 1.0]) * float(obs.depth[r, c])
        return obs.camera_to_world[:3, :3] @ cam + obs.camera_to_world[:3, 3]

    # ------------------------------------------------------------------ finding things
    def locate(self, name: str, not_in: str | None = None, prefer: str | None = None,
               exclude_ids: set | None = None) -> Generator:
        """A memory instance of ``name`` (searching if none is known); raises SkillFailure if none is found."""
        types = self.types_of(name)
        found = self._pick(types, not_in, prefer, exclude_ids)
        if found is not None:
            return found
        stand_in = self.memory.get(self.stand_ins[types]) if self.memory is not None and types in self.stand_ins \
            else None
        if stand_in is not None and not (exclude_ids and stand_in.instance_id in exclude_ids) \
                and not self.refuted_at(stand_in):
            return stand_in
        yield from self.search(types, lambda: self._pick(types, not_in, prefer, exclude_ids))
        found = self._pick(types, not_in, prefer, exclude_ids)
        if found is None:
            found = self.runner_up(types, not_in, exclude_ids)
        if found is None:
            raise SkillFailure(f"found no {name}")
        return found

    def runner_up(self, types: tuple[str, ...], not_in: str | None = None, exclude_ids: set | None = None):
        """The confident instance whose class votes give ``types`` the largest share, at least
        ``runner_up_share``, among those whose top class is not wanted (:meth:`locate`'s last resort); or None."""
        if self.memory is None:
            return None
        wanted = set(types)
        shares = []
        for inst in self.memory.instances():
            if inst.class_name in wanted or inst.confidence < self.config.min_confidence \
                    or (exclude_ids and inst.instance_id in exclude_ids) or self.refuted_at(inst):
                continue
            total = sum(inst.class_votes.values())
            share = sum(v for k, v in inst.class_votes.items() if k in wanted) / total if total > 0 else 0.0
            if share >= self.config.runner_up_share:
                shares.append((share, inst))
        if not_in and shares:
            excluded = self.ids_inside(not_in)
            shares = [(share, inst) for share, inst in shares if inst.instance_id not in excluded]
        if not shares:
            return None
        share, inst = max(shares, key=lambda pair: (pair[0], -self.flat_distance(pair[1].centroid)))
        self.stand_ins[tuple(types)] = inst.instance_id
        self.note(f"no {'|'.join(types)} found: acting on a {inst.class_name} that gives it {share:.0%} of its votes "
                  f"at {np.round(inst.centroid, 2)}")
        return inst

    def _pick(self, types, not_in, prefer, exclude_ids):
        candidates = [i for i in self.instances(types, not_in) if not exclude_ids or i.instance_id not in exclude_ids]
        if prefer:
            inside = self.ids_inside(prefer)
            preferred = [i for i in candidates if i.instance_id in inside]
            if preferred:
                candidates = preferred
        return self.choose(candidates, types)

    def search(self, types: tuple[str, ...], found) -> Steps:
        """Look for ``types``: receptacles the dialogue named, frontiers of the map, then closed containers."""
        for t, receptacle_type in [(t, r) for t in types for r in self.hints_for(t)]:
            if found() is not None:
                return
            holders = self.instances(self.types_of(receptacle_type))
            landmark = next((self.landmarks[k][receptacle_type] for k in self.kin(t)
                             if receptacle_type in self.landmarks.get(k, {})), None)
            if landmark is not None:
                holders = self.by_landmark(holders, landmark)
            for holder in holders:
                yield from self.peek(holder, found)
                if found() is not None:
                    return
        yield from self.look_at_doubtful(types, found, self.config.doubtful_looks)
        yield from self.explore(found, min(2, self.config.frontier_visits))
        yield from self.sweep_surfaces(types, found, self.config.surface_sweeps)
        for holder in self.open_places_for(types):
            if found() is not None:
                return
            yield from self.peek(holder, found)
        for holder in self.containers_for(types)[: self.config.container_opens]:
            if found() is not None:
                return
            yield from self.peek(holder, found)
        yield from self.explore(found, self.config.frontier_visits)

    @staticmethod
    def kin(object_type: str) -> tuple[str, ...]:
        """``object_type``, then its pieces or the whole it is cut from (Apple, AppleSliced)."""
        other = PIECES.get(object_type) or SLICED_TYPE.get(object_type)
        return (object_type,) if other is None else (object_type, other)

    def hints_for(self, object_type: str) -> list[str]:
        """Receptacles the dialogue named for ``object_type``, then for its kin (:meth:`kin`): a Commander tells where
        "the apple slice" is while the apple is still whole, and the reverse."""
        return list(dict.fromkeys(r for k in self.kin(object_type) for r in self.hints.get(k, [])))

    def by_landmark(self, holders: list, landmark: str) -> list:
        """``holders`` nearest (on the floor plane) to any mapped ``landmark`` first: "the cabinet below the sink"
        is the cabinet closest to a sink. Unchanged when no landmark is mapped yet."""
        marks = [np.asarray(m.centroid) for m in self.instances(self.types_of(landmark))]
        if not marks:
            return holders

        def gap(holder) -> float:
            c = np.asarray(holder.centroid)
            return min(float(np.hypot(c[0] - m[0], c[2] - m[2])) for m in marks)

        ranked = sorted(holders, key=gap)
        self.note(f"{len(holders)} {holders[0].class_name if holders else ''} by the {landmark}: nearest first")
        return ranked

    def explore(self, found, visits: int) -> Steps:
        for _ in range(visits):
            if found() is not None:
                return
            goal = self.next_frontier()
            if goal is None:
                break
            self.explored_frontiers.add(goal)
            yield from self.walk_to(goal)
            if found() is not None:
                return
            yield from self.set_horizon(30.0)
            for _ in range(4):
                yield from self.do(AgentAction("RotateRight"))
                if found() is not None:
                    return

    def go_to_view(self, thing, frontal: float = 1.0) -> Generator:
        """Walk to the best viewpoint of ``thing`` (a memory instance, or anything with ``points``, ``centroid`` and
        ``class_name``) and face it; returns the viewpoint's horizon, or None when there is none or the walk failed."""
        views = self.viewpoints(thing, set(), frontal=frontal)
        if not views:
            return None
        node, yaw, horizon = views[0]
        if node != self.here():
            if not (yield from self.walk_to(node, final_yaw=yaw)):
                return None
        else:
            yield from self.face(yaw)
        return horizon

    def look_at_doubtful(self, types: tuple[str, ...], found, visits: int) -> Steps:
        """Walk up to the nearest unconfident instances of ``types`` (``doubtful_confidence`` <= confidence <
        ``min_confidence``) and look at them from within reach, until ``found()`` or ``visits`` are spent."""
        looked: set[int] = set()
        for _ in range(visits):
            if found() is not None or self.memory is None:
                return
            doubtful = [i for t in types for i in self.memory.find(t)
                        if self.config.doubtful_confidence <= i.confidence < self.config.min_confidence
                        and i.instance_id not in looked and not self.refuted_at(i)]
            if not doubtful:
                return
            inst = min(doubtful, key=lambda i: self.flat_distance(i.centroid))
            looked.add(inst.instance_id)
            self.note(f"doubtful {inst.class_name} ({inst.confidence:.2f}) at {np.round(inst.centroid, 2)}: look")
            horizon = yield from self.go_to_view(inst)
            if horizon is not None:
                yield from self.set_horizon(horizon)

    def surface_pieces(self, types: tuple[str, ...]) -> list[SimpleNamespace]:
        """Pieces (``sweep_piece`` metres square) of the tops of confident open surfaces that accept one of
        ``types``, not yet swept and mostly not seen from close up; each has ``class_name``, ``points``, ``centroid``
        and ``key`` (as :meth:`viewpoints` wants an instance)."""
        kinds = [k for k in SWEPT_SURFACES if k in self.ontology
                 and any(self.ontology.accepts(k, t) for t in types if t in self.ontology)]
        size = self.config.sweep_piece
        grid = self.map
        pieces = []
        for inst in self.instances(kinds):
            points = np.asarray(inst.points)
            if len(points) == 0:
                continue
            points = points[points[:, 1] >= points[:, 1].max() - 0.12]
            row, col = grid.to_cell(points[:, 0], points[:, 2])
            inside = (row >= 0) & (row < grid.n) & (col >= 0) & (col < grid.n)
            points, row, col = points[inside], row[inside], col[inside]
            near = grid.seen_near[row, col]
            bins = np.floor(points[:, [0, 2]] / size).astype(np.int64)
            for b in np.unique(bins, axis=0):
                sel = np.all(bins == b, axis=1)
                key = (inst.class_name, int(b[0]), int(b[1]))
                if sel.sum() < 8 or key in self.swept or near[sel].mean() > 0.6:
                    continue
                piece = points[sel]
                pieces.append(SimpleNamespace(class_name=inst.class_name, points=piece, centroid=piece.mean(axis=0),
                                              key=key))
        return pieces

    def sweep_surfaces(self, types: tuple[str, ...], found, visits: int) -> Steps:
        """Look at up to ``visits`` surface pieces (:meth:`surface_pieces`) from within reach, nearest first, with
        the camera on the piece and then tilted further down."""
        for _ in range(visits):
            if found() is not None:
                return
            pieces = self.surface_pieces(types)
            if not pieces:
                return
            piece = min(pieces, key=lambda p: self.flat_distance(p.centroid))
            self.swept.add(piece.key)
            self.note(f"sweep {piece.class_name} at {np.round(piece.centroid, 2)} for {types[:3]}")
            horizon = yield from self.go_to_view(piece)
            if horizon is None:
                continue
            for h in (horizon, horizon + 30.0):
                if HORIZONS[0] <= h <= HORIZONS[-1]:
                    yield from self.set_horizon(h)
                    if found() is not None:
                        return

    def peek(self, holder, found=None) -> Steps:
        """Look into ``holder``: open it when it is a container (and close it again if nothing wanted is inside)."""
        key = tuple(np.round(np.asarray(holder.centroid), 1))
        if key in self.searched_containers:
            return
        self.searched_containers.add(key)
        self.note(f"peek {holder.class_name} at {np.round(np.asarray(holder.centroid), 2)}")
        target = _Target((holder.class_name,), holder)
        openable = self.ontology[holder.class_name].can("openable") if holder.class_name in self.ontology else False
        if openable and self.failures_left() <= self.config.search_failure_reserve:
            self.note(f"peek {holder.class_name}: not opened, failed actions kept for the task "
                      f"({self.failures_left()} left)")
            openable = False
        try:
            if openable and self.state_hint(holder, "isOpen") is not True:
                # a container the detector does not show again from two viewpoints is likely a false sighting
                yield from self.interact(target, "OpenObject", accept=("already open",), max_failed_clicks=2,
                                         tries=self.config.search_viewpoint_tries, memory_fallback=False)
                if found is not None and found() is None:
                    # Look into it: low containers need the camera tilted down, high ones up.
                    start_horizon = self.obs.horizon
                    top = float(np.asarray(holder.bbox_max)[1]) - float(self.obs.agent_position[1]) + 0.9
                    tilt = 30.0 if top < 1.0 else -30.0
                    if HORIZONS[0] <= start_horizon + tilt <= HORIZONS[-1]:
                        yield from self.set_horizon(start_horizon + tilt)
                        if found() is None:
                            yield from self.set_horizon(start_horizon)
                    if found() is None:
                        yield from self.look_into(holder, found)
                if found is not None and found() is None:
                    # Nothing wanted inside: shut it again (tidier, and an open door hides what is behind it).
                    try:
                        yield from self.interact(target, "CloseObject", accept=("already closed",),
                                                 max_failed_clicks=1)
                    except SkillFailure as error:
                        self.note(f"left open: {error}")
                else:
                    self.to_close.append(holder.instance_id)
            else:
                yield from self.look_into(holder, found or (lambda: None))
        except SkillFailure as error:
            self.note(f"peek {holder.class_name}: {error}")
            return

    def container_of(self, instance, depth: float = 0.7):
        """The closed-able container (fridge, cabinet, drawer, microwave) whose box holds ``instance``, if any; else
        one whose mapped front it lies behind: within ``depth`` metres behind the front (away from the open floor),
        across within the front's extent, and within its height below its top. A closed cabinet is mapped by its
        door alone, so a plate seen on its floor lies outside its box."""
        if self.memory is None:
            return None
        c = np.asarray(instance.centroid)
        boxes = [(holder, np.asarray(holder.bbox_min) - 0.03, np.asarray(holder.bbox_max) + 0.03)
                 for kind in CONTAINERS for holder in self.memory.find(kind)]
        holding = [(float(np.prod(hi - lo)), i) for i, (_, lo, hi) in enumerate(boxes)
                   if np.all(c >= lo) and np.all(c <= hi)]
        if holding:
            return boxes[min(holding)[1]][0]  # the smallest box
        behind, behind_gap = None, float("inf")
        for holder, lo, hi in boxes:
            if not lo[1] - 0.03 <= c[1] <= hi[1] - 0.1:
                continue  # (not at its top: that is what stands on the counter above a cabinet)
            centre = np.asarray(holder.centroid)
            front = self.front_direction(centre)
            if front is None:
                continue
            # fronts face along x or z (the floorplans' axes): the object must lie across within the front's extent
            # and behind it along the other axis
            axis = 0 if abs(front[0]) >= abs(front[1]) else 1  # of front's (x, z)
            deep, wide = 2 * axis, 2 - 2 * axis  # the same axes in thor (x, y, z)
            back = -(c[deep] - centre[deep]) * float(np.sign(front[axis]))
            if lo[wide] <= c[wide] <= hi[wide] and 0.0 <= back <= depth and back < behind_gap:
                behind, behind_gap = holder, back
        return behind

    def open_holder_of(self, instance) -> Steps:
        """Open the container ``instance`` lies in (unless it is known to be open, or this agent opened it)."""
        holder = self.container_of(instance)
        if holder is None or self.state_hint(holder, "isOpen") is True or holder.instance_id in self.to_close:
            return
        try:
            # detections only, one refused click: a mapped "cabinet" around the object may be a false one (then
            # the object is in the open and the pickup goes ahead)
            yield from self.interact(_Target((holder.class_name,), holder), "OpenObject", max_failed_clicks=1,
                                     tries=self.config.search_viewpoint_tries, memory_fallback=False)
        except SkillFailure as error:
            self.note(f"{holder.class_name} around {instance.class_name} not opened: {error}")
            return
        self.to_close.append(holder.instance_id)

    def look_into(self, holder, found) -> Steps:
        """From straight in front of the open ``holder``, look at it high and low until ``found()``."""
        horizon = yield from self.go_to_view(holder, frontal=4.0)
        if horizon is None:
            return
        for h in (horizon, horizon + 30.0, horizon - 30.0):
            if HORIZONS[0] <= h <= HORIZONS[-1]:
                yield from self.set_horizon(h)
                if found() is not None:
                    return

    def look_from_closest(self, holder, found) -> Steps:
        """Walk to the viewpoint of ``holder`` nearest to it and look down into it, then level, until ``found()``."""
        centre = np.asarray(holder.centroid)
        views = self.viewpoints(holder, set())
        if not views:
            return

        def gap(view) -> float:
            x, z = self.map.node_xz(*view[0])
            return float(np.hypot(x - centre[0], z - centre[2]))

        node, yaw, horizon = min(views, key=gap)
        if gap((node, yaw, horizon)) >= self.flat_distance(centre) - 0.1:
            return  # no nearer viewpoint than where the agent stands
        self.note(f"look into {holder.class_name} from {node}, nearest")
        if not (yield from self.walk_to(node, final_yaw=yaw)):
            return
        for h in (horizon + 30.0, horizon):
            if HORIZONS[0] <= h <= HORIZONS[-1]:
                yield from self.set_horizon(h)
                if found() is not None:
                    return

    def stood_on(self, node: tuple[int, int]) -> bool:
        """Whether the agent has stood on ``node`` (a step there is safe, unlike a step into unseen space)."""
        x, z = self.map.node_xz(*node)
        row, col = self.map.to_cell(x, z)
        return self.nav.state_of(node) == 0 and bool(self.map.visits[row, col] > 0)

    def clear_receptacle(self, holder, keep: tuple[str, ...] = (), limit: int = 3) -> Steps:
        """Take what lies in/on ``holder`` out and put it down elsewhere (a full pan or basin takes nothing more)."""
        for _ in range(limit):
            fresh = self.memory.get(holder.instance_id) or holder
            items = [i for i in self.memory.contents(fresh) if i.class_name not in keep
                     and i.class_name in self.ontology and self.ontology[i.class_name].can("pickupable")]
            if not items:
                return
            item = items[0]
            self.note(f"clearing {item.class_name} off {holder.class_name}")
            yield from self.skill_pickup(item.class_name, only={item.instance_id})
            yield from self.skill_put_down()

    def close_opened(self) -> Steps:
        pending, self.to_close = self.to_close, []
        for instance_id in pending:
            holder = self.memory.get(instance_id) if self.memory is not None else None
            if holder is None:
                continue
            try:
                yield from self.interact(_Target((holder.class_name,), holder), "CloseObject",
                                         accept=("already closed",), max_failed_clicks=1)
            except SkillFailure as error:
                self.note(f"close {holder.class_name}: {error}")

    def open_places_for(self, types: tuple[str, ...]) -> list:
        """Open receptacles where ``types`` often lie out of sight from afar (a knife down in the sink basin),
        nearest first, not yet looked at."""
        kinds = [kind for kind, members in OPEN_PLACE_PRIORS.items() if any(t in members for t in types)]
        kinds += [kind for kind in OPEN_VESSELS if kind not in types and any(
            self.ontology.accepts(kind, t) for t in types if t in self.ontology)]
        places = []
        for kind in kinds:
            for inst in self.instances((kind,)):
                key = tuple(np.round(np.asarray(inst.centroid), 1))
                if key not in self.searched_containers:
                    places.append((self.flat_distance(inst.centroid), inst))
        places.sort(key=lambda t: t[0])
        return [p for _, p in places[:3]]

    def containers_for(self, types: tuple[str, ...]) -> list:
        memory = self.memory
        if memory is None:
            return []
        holders = []
        named = {kind for t in types for r in self.hints_for(t) for kind in self.types_of(r)}
        for container in CONTAINERS:
            found = self.instances((container,))  # confident ones: a doubtful "cabinet" costs refused opens
            if container in SINGLE_PER_ROOM and found:
                found = [max(found, key=lambda i: i.confidence)]
            prior = 0 if container in named else 1 if any(t in CONTAINER_PRIORS.get(container, ()) for t in types) \
                else 2
            for inst in found:
                key = tuple(np.round(np.asarray(inst.centroid), 1))
                if key in self.searched_containers:
                    continue
                holders.append((prior, self.flat_distance(inst.centroid), inst))
        holders.sort(key=lambda t: (t[0], t[1]))
        self.note(f"containers to search for {types}: {len(holders)}")
        return [h for _, _, h in holders]

    def next_frontier(self) -> tuple[int, int] | None:
        """The cheapest reachable node near a frontier: a run of at least ``min_cells`` map cells of seen floor that
        border never-seen cells (not across a wall: obstacle cells are neither floor nor unknown)."""
        occupancy = self.map
        unknown = ~(occupancy.floor | occupancy.obstacle)
        free = occupancy.floor & ~occupancy.obstacle
        edge = free & ndimage.binary_dilation(unknown, structure=np.ones((3, 3), bool))
        labels, count = ndimage.label(edge, structure=np.ones((3, 3), bool))
        if count == 0:
            return None
        sizes = ndimage.sum(edge, labels, index=np.arange(1, count + 1))
        dist, _ = self.nav.distances(self.here())
        best, best_cost = None, float("inf")
        for label in np.nonzero(sizes >= 10)[0] + 1:
            rows, cols = np.nonzero(labels == label)
            k = len(rows) // 2
            x = occupancy.origin[0] + (cols[k] + 0.5 - occupancy.n / 2) * occupancy.cell
            z = occupancy.origin[2] + (rows[k] + 0.5 - occupancy.n / 2) * occupancy.cell
            centre = occupancy.node_of(x, z)
            for di in range(-2, 3):
                for dj in range(-2, 3):
                    node = (centre[0] + di, centre[1] + dj)
                    if any(abs(node[0] - e[0]) + abs(node[1] - e[1]) <= 4 for e in self.explored_frontiers):
                        continue
                    if not self.nav.in_range(node) or self.nav.state_of(node) != 0:
                        continue
                    cost = float(dist[self.nav.index(node)]) + 0.5 * (abs(di) + abs(dj)) - 0.05 * sizes[label - 1]
                    if np.isfinite(cost) and cost < best_cost:
                        best, best_cost = node, cost
        return best

    # ------------------------------------------------------------------ skills
    def holding(self, types: tuple[str, ...]) -> bool:
        return any(h in types for h in self.obs.held)

    def skill_pickup(self, object: str, not_in: str | None = None, prefer: str | None = None,
                     only: set | None = None) -> Steps:
        """Have an ``object`` in hand (``only``: one of these memory instance ids)."""
        types = self.types_of(object)
        if self.holding(types):
            return
        if self.obs.held:
            yield from self.skill_put_down()
        exclude: set = set()
        for _ in range(3):
            if only is not None:
                candidates = [i for i in self.instances(types) if i.instance_id in only
                              and i.instance_id not in exclude]
                if not candidates:
                    raise SkillFailure(f"no {object} left among the wanted ones")
                instance = self.choose(candidates, types)
            else:
                instance = yield from self.locate(object, not_in, prefer, exclude)
            target = _Target(types, instance)
            try:
                yield from self.open_holder_of(instance)
                yield from self.interact(target, "PickupObject")
            except SkillFailure:
                exclude.add(instance.instance_id)
                continue
            if self.holding(types):
                yield from self.close_opened()
                return
            if self.obs.held:  # picked up something else under the click: back where it lay
                yield from self.skill_put_down(put_back=True)
            exclude.add(instance.instance_id)
        raise SkillFailure(f"could not pick up {object}")

    def skill_place(self, target: str, instance=None) -> Steps:
        """Put what is held in/on ``target`` (``instance``: that very one, e.g. the dish being served on)."""
        if not self.obs.held:
            raise SkillFailure(f"place on {target}: nothing in hand")
        held_type = self.obs.held[0]
        types = self.types_of(target)
        exclude: set = set()
        wanted = instance
        cleared = False
        for _ in range(3):
            if wanted is not None:
                fresh = self.memory.get(wanted.instance_id)
                instance, wanted = (fresh or wanted), None
            else:
                instance = yield from self.locate(target, exclude_ids=exclude)
            goal = _Target(types, instance)
            key = tuple(np.round(np.asarray(instance.centroid), 1))
            openable = instance.class_name in self.ontology and self.ontology[instance.class_name].can("openable")
            if openable and self.state_hint(instance, "isOpen") is False:
                yield from self.interact(goal, "OpenObject", accept=("already open",))
                self.opened.add(key)
            try:
                point = yield from self.interact(goal, "PutObject")
            except SkillFailure as error:
                if openable and "must be open" in str(error):
                    yield from self.interact(goal, "OpenObject", accept=("already open",))
                    self.opened.add(key)
                    try:
                        point = yield from self.interact(goal, "PutObject")
                    except SkillFailure:
                        exclude.add(instance.instance_id)
                        continue
                elif "No valid positions" in str(error) and not cleared and self.memory.contents(instance):
                    cleared = True
                    held_instance_type = held_type
                    yield from self.skill_put_down()
                    # what is already there of the held kind is the task's work so far (the first of N slices)
                    yield from self.clear_receptacle(instance, keep=(held_type,))
                    yield from self.skill_pickup(held_instance_type)
                    wanted = instance
                    continue
                else:
                    exclude.add(instance.instance_id)
                    continue
            if not self.obs.held:
                self.remember_left(held_type, point)
                return
        raise SkillFailure(f"could not place {held_type} on {target}")

    def skill_put_down(self, put_back: bool = False) -> Steps:
        """Put what is held on a surface. ``put_back``: first try where it was just picked up from (a wrong pick)."""
        if not self.obs.held:
            return
        held_type = self.obs.held[0]
        back = self.last_pickup
        if put_back and back is not None and np.allclose(back[2], self.obs.camera_to_world, atol=1e-3):
            # Not moved since the pickup: put it back where it lay (the surface now shows under that pixel). This
            # needs no map of surfaces, which a learned perception may lack (a lettuce taken for a plate).
            x, y, _ = back
            self.last_pickup = None
            if (yield from self.do(AgentAction("PutObject", x=x, y=y))) and not self.obs.held:
                self.remember_left(held_type, self.click_point(x, y))
                return
        tried: set = set()
        for _ in range(4):
            candidates = [i for i in self.instances(SURFACES) if i.instance_id not in tried]
            if not candidates:
                yield from self.search(SURFACES, lambda: self.instances(SURFACES) or None)
                candidates = [i for i in self.instances(SURFACES) if i.instance_id not in tried]
                if not candidates:
                    break
            body = self.body_xz()
            surface = min(candidates, key=lambda i: (SURFACES.index(i.class_name) > 1,
                                                     float(np.hypot(i.centroid[0] - body[0],
                                                                    i.centroid[2] - body[1]))))
            tried.add(surface.instance_id)
            try:
                point = yield from self.interact(_Target((surface.class_name,), surface), "PutObject")
            except SkillFailure:
                continue
            if not self.obs.held:
                self.remember_left(held_type, point)
                return
        raise SkillFailure(f"nowhere to put down {held_type}")

    def _simple(self, object: str, action: str, accept: tuple[str, ...], state_key: str | None = None,
                skip_if=None) -> Steps:
        types = self.types_of(object)
        instance = yield from self.locate(object)
        if state_key is not None and self.state_hint(instance, state_key) is skip_if:
            return
        yield from self.interact(_Target(types, instance), action, accept=accept)

    def skill_open(self, object: str) -> Steps:
        yield from self._simple(object, "OpenObject", ("already open",), "isOpen", True)

    def skill_close(self, object: str) -> Steps:
        yield from self._simple(object, "CloseObject", ("already closed",), "isOpen", False)

    def skill_toggle_on(self, object: str) -> Steps:
        types = self.types_of(object)
        instance = yield from self.locate(object)
        target = _Target(types, instance)
        try:
            yield from self.interact(target, "ToggleObjectOn")
        except SkillFailure as error:
            if "already on" not in str(error):
                raise
            # On already: off and on again, so whatever was just put in gets the effect.
            yield from self.interact(target, "ToggleObjectOff", accept=("already off",))
            yield from self.interact(target, "ToggleObjectOn", accept=("already on",))

    def skill_toggle_off(self, object: str) -> Steps:
        yield from self._simple(object, "ToggleObjectOff", ("already off",), "isToggled", False)

    def skill_slice(self, object: str) -> Steps:
        types = self.types_of(object)
        sliced = tuple(SLICED_TYPE.get(t, f"{t}Sliced") for t in types)
        if self.instances(sliced):
            return
        yield from self.skill_pickup("Knife|ButterKnife")
        instance = yield from self.locate(object)
        yield from self.interact(_Target(types, instance), "SliceObject")
        yield from self.skill_put_down()

    def skill_pour(self, target: str) -> Steps:
        if not self.obs.held:
            raise SkillFailure(f"pour into {target}: nothing in hand")
        instance = yield from self.locate(target)
        yield from self.interact(_Target(self.types_of(target), instance), "Pour")

    def fillable(self, object_type: str) -> bool:
        return object_type in self.ontology and self.ontology[object_type].can("canFillWithLiquid")

    def rinse(self, object: str, keep_water: bool, not_in: str | None = None) -> Steps:
        types = self.types_of(object)
        yield from self.skill_pickup(object, not_in=not_in)
        held_type = self.obs.held[0]
        try:  # into the basin itself: on the sink's rim the tap does not reach it
            yield from self.skill_place("SinkBasin")
        except SkillFailure:
            yield from self.skill_place("Sink")
        faucet = yield from self.locate("Faucet")
        target = _Target(("Faucet",), faucet)
        yield from self.interact(target, "ToggleObjectOn", accept=("already on",))
        yield from self.interact(target, "ToggleObjectOff", accept=("already off",))
        left_at = self.focus.get(held_type)
        if left_at is not None and self.near(held_type, left_at) is None:
            # The rinsed thing is out of sight down in the basin: look at the basin before reaching for it.
            basin = self.memory.nearest("SinkBasin", left_at) or self.memory.nearest("Sink", left_at)
            if basin is not None:
                yield from self.look_into(basin, lambda: self.near(held_type, left_at))
            if basin is not None and self.near(held_type, left_at) is None:
                # from a metre and a half the basin's rim hides what lies low in it: from the nearest viewpoint
                yield from self.look_from_closest(basin, lambda: self.near(held_type, left_at))
            if self.near(held_type, left_at) is None:
                yield from self.pickup_at(left_at)
        if not self.obs.held:
            yield from self.skill_pickup(held_type if held_type in types else object, prefer="SinkBasin|Sink")
        if not keep_water and self.fillable(held_type):
            yield from self.skill_pour("SinkBasin|Sink")

    def skill_clean(self, object: str, not_in: str | None = None) -> Steps:
        types = self.types_of(object)
        if not self.holding(types):
            candidates = self.instances(types, not_in)
            known_clean = [i for i in candidates if self.state_hint(i, "isDirty") is False]
            if known_clean:
                instance = self.choose(known_clean, types)
                self.focus[instance.class_name] = np.asarray(instance.centroid)
                yield from self.skill_pickup(object, not_in=not_in)
                if self.fillable(self.obs.held[0] if self.obs.held else "") and \
                        self.state_hint(instance, "isFilledWithLiquid"):
                    yield from self.skill_pour("SinkBasin|Sink")
                return
        yield from self.rinse(object, keep_water=False, not_in=not_in)

    def skill_fill(self, object: str) -> Steps:
        types = self.types_of(object)
        if not self.holding(types):
            known = self.instances(types)
            if known:
                best = self.choose(known, types)
                self.focus[best.class_name] = np.asarray(best.centroid)
                object = best.class_name
        yield from self.rinse(object, keep_water=True)

    def skill_empty(self, object: str) -> Steps:
        yield from self.skill_pickup(object)
        yield from self.interact(_Target(self.types_of("SinkBasin|Sink"), (yield from self.locate("SinkBasin|Sink"))),
                                 "Pour")

    def vessel_on_burner(self, vessel: str) -> Generator:
        """A ``vessel`` standing on a stove burner (carried there if none is); returns its instance."""
        types = self.types_of(vessel)
        for inst in self.instances(types):
            for burner in self.memory.find("StoveBurner"):
                if inst.instance_id in {i.instance_id for i in self.memory.contents(burner)}:
                    self.focus[inst.class_name] = np.asarray(inst.centroid)
                    return inst
        yield from self.skill_pickup(vessel)
        yield from self.skill_place("StoveBurner")
        pan = yield from self.locate(vessel)
        yield from self.clear_receptacle(pan)
        return pan

    def knobs_on_near(self, anchor: np.ndarray) -> Steps:
        knobs = self.instances(("StoveKnob",))
        if not knobs:
            yield from self.search(("StoveKnob",), lambda: self.instances(("StoveKnob",)) or None)
            knobs = self.instances(("StoveKnob",))
        knobs.sort(key=lambda k: float(np.linalg.norm(np.asarray(k.centroid) - anchor)))
        for knob in knobs[:STOVE_KNOBS_MAX]:
            if self.state_hint(knob, "isToggled") is True:
                continue
            try:
                yield from self.interact(_Target(("StoveKnob",), knob), "ToggleObjectOn", accept=("already on",))
                self.knobs_on.append(np.asarray(knob.centroid))
            except SkillFailure:
                continue

    def knobs_off(self) -> Steps:
        remaining, self.knobs_on = self.knobs_on, []
        for position in remaining:
            knob = self.memory.nearest("StoveKnob", position) if self.memory is not None else None
            if knob is None or np.linalg.norm(np.asarray(knob.centroid) - position) > 0.2:
                continue
            try:
                yield from self.interact(_Target(("StoveKnob",), knob), "ToggleObjectOff", accept=("already off",))
            except (SkillFailure, OutOfBudget):
                continue

    def skill_cook_on_stove(self, object: str, vessel: str, count: int = 1, not_in: str | None = None) -> Steps:
        pan = yield from self.vessel_on_burner(vessel)
        pan_position = np.asarray(pan.centroid)
        yield from self.knobs_on_near(pan_position)
        cooked = 0
        for _ in range(int(count) + 2):
            if cooked >= int(count):
                break
            exclusions = "|".join(x for x in (not_in, vessel) if x)
            yield from self.skill_pickup(object, not_in=exclusions or None)
            yield from self.skill_place(vessel)
            cooked += 1
        yield from self.knobs_off()
        if cooked < int(count):
            raise SkillFailure(f"cooked {cooked} of {count} {object}")

    def skill_toast(self, object: str, not_in: str | None = None) -> Steps:
        yield from self.skill_pickup(object, not_in=not_in)
        held_type = self.obs.held[0]
        yield from self.skill_place("Toaster")
        slot = self.last_put_point
        yield from self.skill_toggle_on("Toaster")
        toaster = yield from self.locate("Toaster")
        try:
            yield from self.interact(_Target(("Toaster",), toaster), "ToggleObjectOff", accept=("already off",))
        except SkillFailure:
            pass
        # The toasted slice, not another one lying beside the toaster: the one in the slot, or at the click.
        if slot is not None:
            yield from self.pickup_at(slot)
        inside = [i for i in self.on_top_of(toaster) if i.class_name == held_type]
        if not self.holding((held_type,)) and inside:
            yield from self.skill_pickup(held_type, only={i.instance_id for i in inside})
        if not self.holding((held_type,)):
            yield from self.skill_pickup(held_type, prefer="Toaster")

    def skill_boil(self, object: str) -> Steps:
        pot = yield from self.vessel_on_burner("Pot")
        if self.state_hint(pot, "isFilledWithLiquid") is not True:
            yield from self.skill_fill("Cup|Mug|Bowl")
            yield from self.skill_pour("Pot")
            if self.obs.held:
                yield from self.skill_put_down()
        yield from self.skill_pickup(object, not_in="Pot")
        yield from self.skill_place("Pot")
        yield from self.knobs_on_near(np.asarray(pot.centroid))
        self.knobs_on = []  # leave the burner lit: boiling needs it on until the end

    def skill_serve(self, object: str, target: str, count: int, not_in: str | None = None,
                    prefer: str | None = None) -> Steps:
        dish_types = self.types_of(target)
        types = self.types_of(object)
        served = 0
        already = None
        for _ in range(int(count) + 2):
            dish = yield from self.locate(target)
            if already is None:  # pieces on the dish before we start (an EDH history may have served some)
                already = len([i for i in self.on_top_of(dish) if i.class_name in types])
            if served + already >= int(count):
                return
            self.focus[dish.class_name] = np.asarray(dish.centroid)
            yield from self.skill_pickup(object, not_in="|".join(x for x in (target, not_in) if x), prefer=prefer)
            yield from self.skill_place(dish.class_name if dish.class_name in dish_types else target, instance=dish)
            served += 1
        if served < int(count):
            raise SkillFailure(f"served {served} of {count} {object}")

    def pickup_at(self, point: np.ndarray) -> Steps:
        """Pick up whatever lies where the agent left something (``point``), clicking where that point shows in the
        frame: for a thing put down out of the camera's sight (low in a basin), which the memory never saw again."""
        from envs.camera import project_points

        for horizon in (self.obs.horizon, 60.0, 30.0):
            yield from self.set_horizon(horizon)
            uv, z = project_points(np.asarray(point)[None], self.obs.width, self.obs.height, self.obs.fov,
                                   self.obs.camera_to_world)
            u, v = uv[0]
            if z[0] <= 0.1 or not (0 <= u < self.obs.width and 0 <= v < self.obs.height):
                continue
            if np.linalg.norm(np.asarray(point) - self.obs.agent_position) > REACH:
                return
            yield from self.do(AgentAction("PickupObject", x=float(u) / self.obs.width, y=float(v) / self.obs.height))
            return

    def remember_left(self, object_type: str, point: np.ndarray) -> None:
        """Where the agent just left an ``object_type``: the memory's instance of it nearest the click (the world puts
        things on a free spot near the click, not on it), else the click itself."""
        self.focus[object_type] = np.asarray(point)
        self.last_put_point = np.asarray(point)
        # one of them is there now: a place refuted for its type before no longer is
        self.refuted = [(types, place) for types, place in self.refuted
                        if object_type not in types or np.linalg.norm(place - np.asarray(point)) > 1.0]
        # A clean bowl put down beside a dirty one: the one it is, is the instance the map did not hold before the
        # put (picking it up took it off the map), when there is one near the click.
        placed = self.near(object_type, point, radius=0.8, exclude=self.mapped_before_put) \
            or self.near(object_type, point, radius=0.8)
        if placed is not None:
            self.focus[object_type] = np.asarray(placed.centroid)

    def near(self, object_type: str, point: np.ndarray, radius: float = 0.5, exclude: set = frozenset()):
        """The confident instance of ``object_type`` nearest ``point`` if within ``radius`` (and not one of the
        ``exclude`` instance ids), else None."""
        best, best_distance = None, radius
        for inst in self.instances((object_type,)):
            if inst.instance_id in exclude:
                continue
            distance = float(np.linalg.norm(np.asarray(inst.centroid) - np.asarray(point)))
            if distance < best_distance:
                best, best_distance = inst, distance
        return best

    def on_top_of(self, holder) -> list:
        """Instances resting in/on ``holder``, strictly: centroid inside its horizontal box, between its bottom and
        a little above its top (the memory's ``contents`` also counts things beside a small dish)."""
        lo, hi = np.asarray(holder.bbox_min), np.asarray(holder.bbox_max)
        out = []
        for inst in self.memory.contents(holder):
            c = np.asarray(inst.centroid)
            if lo[0] <= c[0] <= hi[0] and lo[2] <= c[2] <= hi[2] and lo[1] <= c[1] <= hi[1] + 0.1:
                out.append(inst)
        return out

    def explore_all(self) -> Steps:
        """Visit frontiers until none is left (to find every instance of a type)."""
        yield from self.search(("__nothing__",), lambda: None)

    def skill_put_all(self, object: str, target: str, single: bool) -> Steps:
        types = self.types_of(object)
        target_types = self.types_of(target)
        yield from self.explore_all()
        holders = self.instances(target_types)
        if not holders:
            holders = [(yield from self.locate(target))]
        if single:
            def count_in(h):
                return sum(i.class_name in types for i in self.memory.contents(h))
            items = [np.asarray(i.centroid) for i in self.instances(types)]

            def spread(h):
                c = np.asarray(h.centroid)
                return float(np.mean([np.linalg.norm(c - p) for p in items])) if items else 0.0
            holders.sort(key=lambda h: (-count_in(h), spread(h)))
            chosen = holders[0]
            not_in_name = None
        else:
            chosen = None
            not_in_name = target
        moved = 0
        failures = 0
        for _ in range(12):
            if chosen is not None:
                inside = {i.instance_id for i in self.memory.contents(chosen)}
                remaining = [i for i in self.instances(types) if i.instance_id not in inside]
            else:
                remaining = self.instances(types, not_in_name)
            self.note(f"put_all: {len(remaining)} {object} left to move; known "
                      f"{[(i.class_name, np.round(i.centroid, 2).tolist()) for i in self.instances(types)]}")
            if not remaining:
                break
            try:
                if chosen is not None:
                    yield from self.skill_pickup(object, only={i.instance_id for i in remaining})
                else:
                    yield from self.skill_pickup(object, not_in=not_in_name)
                yield from self.skill_place(chosen.class_name if chosen is not None else target, instance=chosen)
                moved += 1
            except SkillFailure:
                failures += 1
                if self.obs.held:
                    yield from self.skill_put_down()
                if failures >= 3:
                    break
        if failures and not moved:
            raise SkillFailure(f"moved no {object}")
        if not moved and not self.instances(types):
            raise SkillFailure(f"found no {object}")  # nothing known of it anywhere: not a success

    def skill_clean_all(self, object: str) -> Steps:
        types = self.types_of(object)
        yield from self.explore_all()
        done: list[np.ndarray] = []
        failures = 0
        for _ in range(8):
            candidates = [i for i in self.instances(types)
                          if self.state_hint(i, "isDirty") is not False
                          and not any(np.linalg.norm(np.asarray(i.centroid) - d) < 0.3 for d in done)]
            if not candidates:
                break
            instance = self.choose(candidates, types)
            self.focus[instance.class_name] = np.asarray(instance.centroid)
            try:
                yield from self.rinse(instance.class_name, keep_water=False)
                yield from self.skill_put_down()
                if instance.class_name in self.focus:
                    done.append(self.focus[instance.class_name])
            except SkillFailure:
                failures += 1
                done.append(np.asarray(instance.centroid))
                if self.obs.held:
                    yield from self.skill_put_down()
                if failures >= 3:
                    break

    def skill_stop(self) -> Steps:
        return
        yield  # pragma: no cover


__all__ = ["Executor", "ExecutorConfig", "OutOfBudget", "SkillFailure", "SkillRecord"]
