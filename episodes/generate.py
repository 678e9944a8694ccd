"""Generate TEACh-format games, EDH and TfD instances in the embedded world.

    python -m episodes.generate --split valid_seen --n 20 --seed 0 --out DATA [--images]

Per game (TEACh, Padmakumar et al., AAAI 2022; formats as ``alexa/teach`` ``src/teach/dataset/`` writes them at
903191e): a floorplan of the split
(TEACh's ALFRED split files, ``envs.scenes.floorplans``), an initial state (``InitialRandomSpawn``, some dishes dirty,
every appliance off and every door shut, the driver at a random reachable pose looking down 30 degrees as TEACh starts
after a LookDown), a task of one of the 12 families with parameters valid in that scene, a scripted expert solving it
from ground truth with shortest paths and clicks (``episodes.expert``), and a Commander-Driver dialogue
(``episodes.dialogue``). A game is written only when the checker says the task succeeded on the final state and a
replay of its driver actions reproduces that state (``episodes.replay``). A sampled task the expert cannot solve is
skipped, counted, and another is tried.

Determinism: game ``i`` of a split depends only on (seed, split, i), so reruns give identical JSON and a rerun skips
games already on disk (resumable). Frames are written to ``images/<split>/<game_id>/`` only with ``--images``; the
instances always list TEACh's image names (``driver.frame.<time_start>.jpeg``) either way.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from envs.nav import interaction_poses
from envs.ontology import SLICED_TYPE, load_ontology
from envs.scenes import SPLITS, floorplans, parse_scene

from .checker import check_task, edh_check_task, state_objects
from .dataset import game_path, images_dir, write_edh_instance, write_game, write_tfd_instance
from .dialogue import DialogueWriter
from .expert import Expert, ExpertFailure, Trace, snapshot, solve
from .formats import make_edh_instance, make_game, make_tfd_instance
from .replay import replay_game, state_differences
from .state_diff import diff_between, state_changes_from_initial
from .subgoals import subgoals
from .tasks import TASK_FAMILIES, BreakfastParams, make_task

log = logging.getLogger("episodes.generate")

WORLD_TYPES = {"Kitchen": "Kitchen", "LivingRoom": "Living room", "Bedroom": "Bedroom", "Bathroom": "Bathroom"}
FAMILY_ORDER = [TASK_FAMILIES[k] for k in (102, 114, 112, 106, 115, 111, 110, 107, 108, 303, 302, 301)]
KITCHEN_ONLY = {"Coffee", "Boil X", "Plate Of Toast", "Clean All X", "N Cooked Slices Of X In Y",
                "N Slices Of X In Y", "Salad", "Sandwich", "Breakfast"}
DIRTYABLE_DISHES = ("Mug", "Plate", "Bowl", "Cup", "Pot", "Pan")
ATTEMPTS_PER_GAME = 8
FAMILY_KEPT_ATTEMPTS = 6
"""Attempts that keep the game's own family (other scenes, other parameters) before a neighbour family is tried:
so that every block of 12 games holds all 12 families unless a family fails six times over."""
TRAIN_LAYOUT_VARIANTS = 2
"""Train games are played in ``FloorPlan<N>`` or its layout variants ``_v1`` .. ``_v2`` (``envs.scenes``), the
variants ODIN's training data uses too (``perception.make_dataset --variants 2``)."""
SCENE_TRIES = 4


# ---------------------------------------------------------------- task sampling


def _types(objects: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for o in objects:
        out.setdefault(o["objectType"], []).append(o)
    return out


def put_all_options(objects: list[dict], single: bool) -> list[list[str]]:
    """(X, on/in, Y) with X a pickupable type present, Y a fixed receptacle type present that accepts X, and not
    every X already in a Y (the task would be solved before it starts)."""
    onto = load_ontology()
    by_type = _types(objects)
    fixed = [t for t, objs in by_type.items() if objs[0]["receptacle"] and not objs[0]["pickupable"]
             and t not in onto.object_specific_receptacles and t not in ("Floor", "Sink", "SinkBasin",
                                                                          "BathtubBasin", "Bathtub", "GarbageCan",
                                                                          "StoveBurner", "Toaster", "Chair")]
    options = []
    for x, items in sorted(by_type.items()):
        if not items[0]["pickupable"] or x.endswith("Sliced") or len(items) > 4:
            continue
        for y in sorted(fixed):
            if not onto.accepts(y, x):
                continue
            ys = {o["objectId"] for o in by_type[y]}
            if all(ys & set(i.get("parentReceptacles") or []) for i in items):
                continue
            if single and len(items) < 2:
                continue
            options.append([x, "in" if y in onto.closed_container_receptacles else "on", y])
    return options


def sample_params(family: str, objects: list[dict], rng: np.random.Generator,
                  out_of_reach: frozenset = frozenset()) -> list[str] | None:
    """Parameters of ``family`` valid for a scene's reachable ``objects``, or None when the scene cannot host it.
    ``out_of_reach`` types have an instance no pose reaches; "all X" tasks avoid them."""
    by_type = _types(objects)
    has = lambda *names: all(n in by_type for n in names)  # noqa: E731
    choice = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    if family == "Coffee":
        return [] if has("Mug", "CoffeeMachine", "SinkBasin", "Faucet") else None
    if family == "Water Plant":
        vessels = [o for o in objects if o["pickupable"] and o["canFillWithLiquid"]]
        return [] if has("HousePlant") and vessels and (has("SinkBasin") or any(
            o["objectType"] == "WateringCan" for o in vessels)) else None
    if family == "Boil X":
        if not has("Pot", "StoveBurner", "SinkBasin") or not (has("Cup") or has("Mug") or has("Bowl")):
            return None
        options = [x for x in boilable_types() if has(BOIL_SOURCE.get(x, x)) and (x == BOIL_SOURCE.get(x, x)
                                                                                 or has("Knife"))]
        return [choice(options)] if options else None
    if family == "Plate Of Toast":
        return [] if has("Bread", "Toaster", "Plate", "Knife", "SinkBasin") else None
    if family == "Clean All X":
        dirty = sorted({o["objectType"] for o in objects if o["isDirty"] and o["objectType"] in DIRTYABLE_DISHES
                        and o["objectType"] not in ("Pot", "Pan") and o["objectType"] not in out_of_reach})
        return [choice(dirty)] if dirty and has("SinkBasin", "Faucet") else None
    if family in ("Put All X On Y", "Put All X In One Y"):
        options = [o for o in put_all_options(objects, single=family == "Put All X In One Y")
                   if o[0] not in out_of_reach]
        return choice(options) if options else None
    if family == "N Cooked Slices Of X In Y":
        if not has("Potato", "Pan", "StoveBurner", "Knife", "SinkBasin"):
            return None
        dish = choice([d for d in ("Plate", "Bowl") if has(d)] or ["Plate"])
        return [str(choice([1, 1, 2])), "Potato", "on" if dish == "Plate" else "in", dish] if has(dish) else None
    if family == "N Slices Of X In Y":
        foods = [f for f in ("Tomato", "Lettuce", "Apple", "Potato") if has(f)]
        dishes = [d for d in ("Plate", "Bowl") if has(d)]
        if not foods or not dishes or not has("Knife", "SinkBasin"):
            return None
        dish = choice(dishes)
        return [str(choice([1, 1, 2])), choice(foods), "on" if dish == "Plate" else "in", dish]
    if family == "Salad":
        if not has("Lettuce", "Tomato", "Plate", "Knife", "SinkBasin"):
            return None
        combos = [["1", "1", "0"], ["0", "1", "1"], ["0", "2", "0"], ["1", "0", "1"], ["1", "1", "1"]]
        combo = choice(combos)
        if combo[2] != "0" and not has("Potato", "Pan", "StoveBurner"):
            combo = ["1", "1", "0"]
        return combo
    if family == "Sandwich":
        if not has("Bread", "Toaster", "Plate", "Knife", "SinkBasin"):
            return None
        return choice([["1", "1"], ["1", "0"], ["0", "1"]]) if has("Lettuce", "Tomato") else None
    if family == "Breakfast":
        if not has("Mug", "CoffeeMachine", "Plate", "Knife", "SinkBasin", "Faucet"):
            return None
        spot = "DiningTable" if has("DiningTable") else "CounterTop"
        extra = choice(["toast", "apple", "salad"])
        if extra == "toast" and not has("Bread", "Toaster"):
            extra = "apple"
        if extra == "apple" and not has("Apple"):
            return None
        if extra == "salad" and not has("Tomato"):
            return None
        return BreakfastParams(coffee=1, toast=int(extra == "toast"), apple=int(extra == "apple"), sandwich_lettuce=1,
                               sandwich_tomato=1, salad=int(extra == "salad"), salad_tomato=2,
                               serving_spot=spot).to_params()
    raise ValueError(f"unknown task family {family!r}")


BOIL_SOURCE = {piece: whole for whole, piece in SLICED_TYPE.items()}


def boilable_types() -> list[str]:
    """What Boil X's ``#0`` may be: the cookable types a Pot holds (TEACh's definition only asks for ``objectType``
    #0 with ``simbotIsBoiled``): Potato, and pieces cut from a whole (PotatoSliced, EggCracked)."""
    onto = load_ontology()
    return sorted(t for t in onto.names if onto[t].can("cookable") and onto.accepts("Pot", t))


def family_order(split: str, seed: int, block: int) -> list[str]:
    """The 12 families in an order for games ``12 * block`` .. ``12 * block + 11`` of ``split``: every block of 12
    consecutive games holds each family once. Block 0 keeps ``FAMILY_ORDER`` (game 0 is a Coffee game, as every set
    made before had it: a 12-game default set keeps its families in place); later blocks are seeded permutations that
    differ between blocks, splits and seeds."""
    if block == 0:
        return list(FAMILY_ORDER)
    rng = np.random.default_rng([seed, SPLITS.index(split), block, 12])
    return [FAMILY_ORDER[k] for k in rng.permutation(len(FAMILY_ORDER))]


def layout_for(split: str, floorplan: str, rng: np.random.Generator) -> str:
    """The scene a game is played in: train games draw the floorplan or one of its ``TRAIN_LAYOUT_VARIANTS`` layout
    variants; games of the other splits keep the floorplan itself (their rooms are the ones TEACh evaluates in)."""
    if split != "train":
        return floorplan
    variant = int(rng.integers(TRAIN_LAYOUT_VARIANTS + 1))
    return floorplan if variant == 0 else f"{floorplan}_v{variant}"


def family_fits_scene(family: str, scene: str) -> bool:
    kind = parse_scene(scene).kind
    if family in KITCHEN_ONLY:
        return kind == "Kitchen"
    return True


# ---------------------------------------------------------------- initial state

TASK_TYPES = frozenset({"Mug", "Cup", "Bowl", "Plate", "Pot", "Pan", "Knife", "ButterKnife", "Bread", "Lettuce",
                        "Tomato", "Potato", "Apple", "Egg", "WateringCan"})
"""Pickupable types the task families cook, serve, clean or carry water in: never removed from a scene."""
REMOVE_RATE, MAX_REMOVED = 0.15, 4
COPY_COUNTS = (0, 1, 1, 2, 2, 3)
"""How many duplicates a game's scene gets (drawn uniformly); task types are twice as likely to be copied."""


def _coordinate(value: float) -> str:
    return f"{round(float(value), 2) + 0.0:+06.2f}"


def vary_objects(state: dict, rng: np.random.Generator) -> tuple[dict, list[str], list[str]]:
    """A copy of a scene's ``state`` whose object set differs per game: some pickupable objects that no task needs
    left out (a state of the embedded world that leaves an object out removes it, as AI2-THOR's ``SetObjectPoses``
    does), and a few pickupable objects duplicated (entries named "<original>(Copy)", as AI2-THOR names the copies
    it spawns), task objects among them so that a task's object has distractor copies. Returns (state, removed ids,
    copy ids); positions are to be re-drawn by ``InitialRandomSpawn``."""
    state = copy.deepcopy(state)
    objects = state["objects"]
    whole = [o for o in objects if o.get("pickupable") and len(o["objectId"].split("|")) == 4
             and not str(o.get("name", "")).endswith("(Copy)")]
    removable = [o for o in whole if o["objectType"] not in TASK_TYPES and not o.get("receptacleObjectIds")]
    removed = [o["objectId"] for o in removable if rng.random() < REMOVE_RATE][:MAX_REMOVED]
    kept = [o for o in whole if o["objectId"] not in removed]
    copies = []
    taken = {o["objectId"] for o in objects}
    weights = np.array([2.0 if o["objectType"] in TASK_TYPES else 1.0 for o in kept])
    for k in range(int(rng.choice(COPY_COUNTS)) if kept else 0):
        original = kept[int(rng.choice(len(kept), p=weights / weights.sum()))]
        p = original["position"]
        step = 0
        while True:
            step += 1
            object_id = "|".join([original["objectType"], _coordinate(p["x"] + 0.37 * step), _coordinate(p["y"]),
                                  _coordinate(p["z"] - 0.23 * step)])
            if object_id not in taken:
                break
        duplicate = copy.deepcopy(original)
        duplicate.update(objectId=object_id, name=f"{original['name']}(Copy)", isPickedUp=False,
                         receptacleObjectIds=[] if original.get("receptacleObjectIds") is not None else None)
        taken.add(object_id)
        objects.append(duplicate)
        copies.append(object_id)
    state["objects"] = [o for o in objects if o["objectId"] not in removed]
    custom = state.get("custom_object_metadata") or {}
    for object_id in removed:
        custom.pop(object_id, None)
    return state, removed, copies


def prepare_world(env, scene: str, rng: np.random.Generator, family: str):
    """TEACh-like start: an object set varied per game (:func:`vary_objects`), scattered objects, some dishes dirty,
    appliances off, doors shut, driver at a random pose.
    Returns the sampled task parameters (None if the scene cannot host ``family``)."""
    env.reset(scene=scene)
    varied, _, _ = vary_objects(env.export_state(), rng)
    env.reset(scene=scene, initial_state=varied)
    env.step(action="InitialRandomSpawn", randomSeed=int(rng.integers(2**31)))
    objects = env.last_event.metadata["objects"]
    for o in objects:
        if o["objectType"] in DIRTYABLE_DISHES and o["dirtyable"] and rng.random() < 0.5:
            env.step(action="DirtyObject", objectId=o["objectId"], forceAction=True)
        if o["toggleable"] and o["isToggled"]:
            env.step(action="ToggleObjectOff", objectId=o["objectId"], forceAction=True)
        if o["openable"] and o["isOpen"]:
            env.step(action="CloseObject", objectId=o["objectId"], forceAction=True)
        if o["isFilledWithLiquid"] and o["pickupable"] and rng.random() < 0.7:
            env.step(action="EmptyLiquidFromObject", objectId=o["objectId"], forceAction=True)
    objects = env.last_event.metadata["objects"]
    reachable = env.step(action="GetReachablePositions").metadata["actionReturn"]
    # Only objects some grid pose can see and reach count: a task on an out-of-reach sink is not solvable.
    seen = [o for o in objects if interaction_poses(o, reachable, env.width, env.height, env.fov)]
    seen_ids = {o["objectId"] for o in seen}
    out_of_reach = frozenset(o["objectType"] for o in objects if o["objectId"] not in seen_ids)
    objects = seen
    params = sample_params(family, objects, rng, out_of_reach)
    if params is None:
        return None
    if family == "Water Plant" and not any(o["objectType"] == "SinkBasin" for o in objects):
        can = next(o for o in objects if o["objectType"] == "WateringCan")
        env.step(action="FillObjectWithLiquid", objectId=can["objectId"], fillLiquid="water", forceAction=True)
    spot = reachable[int(rng.integers(len(reachable)))]
    env.step(action="TeleportFull", x=spot["x"], y=spot["y"], z=spot["z"],
             rotation=dict(x=0, y=float(rng.choice([0, 90, 180, 270])), z=0), horizon=30.0, standing=True)
    return params


# ---------------------------------------------------------------- one game


def game_id_for(split: str, seed: int, index: int) -> str:
    """TEACh-looking id ("<16 hex>_<4 hex>"), a pure function of (split, seed, index)."""
    digest = hashlib.sha1(f"{split}/{seed}/{index}".encode()).hexdigest()
    return f"{digest[:16]}_{digest[16:20]}"


@dataclass
class GeneratedGame:
    game: object
    edh: list
    tfd: object
    frames: list = field(default_factory=list)


def _edh_cuts(trace: Trace) -> list:
    """Cut points: every Commander turn that starts new work after the Driver's first action and before its last
    (``episodes.dialogue`` records those); of several such turns with no driver action between them the last one,
    so that the history holds all of them."""
    n_actions = len(trace.driver_actions)
    cuts = [c for c in trace.cuts if 0 < c.driver_action_index < n_actions]
    return [c for k, c in enumerate(cuts)
            if k + 1 == len(cuts) or cuts[k + 1].driver_action_index != c.driver_action_index]


def _edh_instances(game_id: str, trace: Trace, initial: dict, final: dict) -> list:
    """EDH instances cut at every Commander turn that starts new work (TEACh: history before, future after; only
    cuts whose future changes a checked property survive, as after TEACh's 2021-12 filtering). The dialogue comes
    in TEACh's three forms (``dialog_history``, ``_cleaned``, ``_with_das``) and the subgoals from the driver's
    actions (:mod:`episodes.subgoals`)."""
    successes = [bool(i["success"]) for i in trace.interactions if i["agent_id"] == 1 and "utterance" not in i]
    final_diff = state_changes_from_initial(initial, final)
    instances = []
    for cut in _edh_cuts(trace):
        init_diff = state_changes_from_initial(initial, cut.state)
        changes = diff_between(init_diff, final_diff)
        if not changes["objects"]:
            continue
        status = check_task(edh_check_task(changes), state_objects(cut.state))
        k = len(instances)
        i = cut.driver_action_index
        dialog, cleaned, with_das = _dialogue_forms([t for t in trace.turns
                                                     if t.interaction_index <= cut.interaction_index])
        history_subgoals, future_subgoals = subgoals(trace.driver_actions, successes, i)
        instances.append(make_edh_instance(
            game_id, k, dialog, trace.driver_actions[:i], trace.driver_images[:i], trace.driver_actions[i:],
            trace.driver_images[i:], trace.interactions, cut.interaction_index + 1, init_diff, final_diff, changes,
            status.goal_conditions_total, status.goal_conditions_satisfied, history_subgoals, future_subgoals,
            cleaned, with_das))
    return instances


def _dialogue_forms(turns: list) -> tuple[list, list, list]:
    """``dialog_history`` (as typed), ``dialog_history_cleaned`` (typos undone, remarks about the interface left
    out) and ``dialog_history_with_das`` ([speaker, text with ``<<Act>>`` before each segment])."""
    return ([[t.speaker, t.text] for t in turns], [[t.speaker, t.cleaned] for t in turns if t.cleaned],
            [[t.speaker, t.with_das] for t in turns])


def generate_game(split: str, seed: int, index: int, keep_frames: bool = False, skipped: dict | None = None,
                  width: int = 300, height: int = 300) -> GeneratedGame:
    """Game ``index`` of ``split``: sample scene and task, solve, check, replay; retries with new samples.

    The family is this game's place in a seeded order of the 12 (:func:`family_order`, so any 12 consecutive games
    from a multiple of 12 cover every family); it is kept for ``FAMILY_KEPT_ATTEMPTS`` attempts, then the next
    family of the order is tried. Train games use a floorplan or one of its layout variants."""
    from envs import make_env

    game_id = game_id_for(split, seed, index)
    split_no = SPLITS.index(split)
    scenes = floorplans(split)
    order = family_order(split, seed, index // len(FAMILY_ORDER))
    failures = []
    for attempt in range(ATTEMPTS_PER_GAME):
        rng = np.random.default_rng([seed, split_no, index, attempt])
        shift = max(0, attempt - FAMILY_KEPT_ATTEMPTS + 1)
        family = order[(index + shift) % len(order)]
        fitting = [s for s in scenes if family_fits_scene(family, s)]
        if not fitting:
            failures.append(f"{family}: no floorplan of {split} hosts it")
            continue
        for _ in range(SCENE_TRIES):  # a scene may lack what the family needs (a kitchen without a plant)
            scene = fitting[int(rng.integers(len(fitting)))]
            scene = layout_for(split, scene, rng)
            # A fresh simulator per scene keeps every game independent of the games generated before it.
            with make_env(width=width, height=height, seed=seed) as env:
                params = prepare_world(env, scene, rng, family)
                if params is None:
                    failures.append(f"{family} in {scene}: no valid parameters")
                    continue
                result = _attempt(env, rng, family, scene, params, game_id, keep_frames, failures, skipped)
            if result is not None:
                return result
            break
    raise ExpertFailure(f"game {index} of {split}: no attempt succeeded: " + " | ".join(failures))


def _count(skipped: dict | None, key: str) -> None:
    if skipped is not None:
        skipped[key] = skipped.get(key, 0) + 1


def _attempt(env, rng, family, scene, params, game_id, keep_frames, failures, skipped):
    """Solve, check and replay one sampled task in the prepared ``env``; None (and a logged reason) on failure."""
    task = make_task(next(k for k, v in TASK_FAMILIES.items() if v == family), params)
    initial = snapshot(env)
    env.reset(scene=scene, initial_state=initial)
    trace = Trace(rng=np.random.default_rng(int(rng.integers(2**32))))
    # The Driver's habits (searching, stepping aside, missed clicks) draw from their own stream.
    expert = Expert(env, trace, keep_frames=keep_frames, rng=np.random.default_rng(int(rng.integers(2**32))))
    dialogue = DialogueWriter(expert, task, rng)
    try:
        dialogue.opening()
        solve(expert, task)
    except ExpertFailure as failure:
        failures.append(f"{family} {params} in {scene}: {failure}")
        _count(skipped, family)
        return None
    final = snapshot(env)
    status = check_task(task, state_objects(final))
    if not status.success:
        failures.append(f"{family} {params} in {scene}: checker says unsolved "
                        f"({status.goal_conditions_satisfied}/{status.goal_conditions_total})")
        _count(skipped, family)
        return None
    dialogue.closing()
    world_type = WORLD_TYPES[parse_scene(scene).kind]
    game = make_game(game_id, task.to_record(), scene, world_type, initial, trace.interactions, final)
    replayed = replay_game(game, env)
    differences = state_differences(final, replayed)
    if differences:
        failures.append(f"{family} in {scene}: replay differs: {differences[:3]}")
        _count(skipped, "replay mismatch")
        return None
    edh = _edh_instances(game_id, trace, initial, final)
    dialog, cleaned, with_das = _dialogue_forms(trace.turns)
    tfd = make_tfd_instance(game_id, dialog, trace.driver_actions, trace.driver_images,
                            interactions=trace.interactions, dialog_history_cleaned=cleaned,
                            dialog_history_with_das=with_das)
    return GeneratedGame(game, edh, tfd, trace.frames)


def write_generated(generated: GeneratedGame, out: Path, split: str) -> None:
    """Instances and images first, the game file last: a game file on disk means the game is complete."""
    for instance in generated.edh:
        write_edh_instance(instance, out, split)
    write_tfd_instance(generated.tfd, out, split)
    if generated.frames:
        from PIL import Image

        from parallel import atomic_directory

        # Frames go to a hidden partial directory renamed into place when all are written: a kill leaves no
        # half-written image under the real name.
        with atomic_directory(images_dir(out, split, generated.game.game_id)) as directory:
            for name, frame in generated.frames:
                Image.fromarray(frame).save(directory / name, quality=90)
    write_game(generated.game, out, split)


def _run_job(job: tuple) -> tuple:
    """One game, in this process or a worker: (split, index, outcome, error, skipped task counts). A game no sampled
    task of which the expert could solve is a finished ("failed") game; any other exception propagates, so that the
    job runner records it and retries the game once on a fresh worker."""
    split, index, seed, out, images, width, height = job
    if game_path(out, split, game_id_for(split, seed, index)).exists():
        return split, index, "already_on_disk", None, {}
    skipped: dict = {}
    try:
        generated = generate_game(split, seed, index, images, skipped, width, height)
    except ExpertFailure as exc:
        return split, index, "failed", f"{type(exc).__name__}: {exc}"[:500], skipped
    write_generated(generated, Path(out), split)
    return split, index, "written", None, skipped


def _worker_setup(config, info) -> None:
    """Workers keep no state: every game builds its own simulator (see :func:`generate_game`)."""
    return None


def _worker_run(state, job: tuple) -> tuple:
    return _run_job(job)


def generate(splits: list[str], n: int, seed: int, out: str | Path, images: bool = False, width: int = 300,
             height: int = 300, workers: int | None = 1, progress: bool = True, ray: str | None = None,
             timeout: float | None = None) -> list[dict]:
    """Generate games 0..n-1 of each split into ``out`` (skipping those on disk), over ``workers`` processes (or Ray
    workers with ``ray``, see :func:`parallel.run_jobs`); a game that raises, runs past ``timeout`` seconds or kills
    its worker is retried once on a fresh worker, then listed among the failed games with its error. Returns one
    summary per split: written, already on disk, failed games, skipped (unsolved) tasks by family."""
    from tqdm import tqdm

    from parallel import Job, remove_partials, run_jobs

    remove_partials(out)  # hidden partial files of a killed earlier run
    jobs = [(split, index, seed, str(out), images, width, height) for split in splits for index in range(n)]
    summaries = {split: {"split": split, "written": 0, "already_on_disk": 0, "failed_games": [], "skipped_tasks": {}}
                 for split in splits}
    bar = tqdm(total=len(jobs), desc="generate", disable=not progress, file=sys.stderr)

    def retrying(outcome) -> None:
        log.warning("game %s: %s; retrying on a fresh worker", outcome.key, outcome.error)

    outcomes = run_jobs([Job(f"{job[0]}/{job[1]}", job) for job in jobs], _worker_setup, _worker_run, None,
                        workers=workers, ray=ray, timeout=timeout, on_retry=retrying)
    try:
        for result in outcomes:
            if result.value is None:  # raised, timed out or lost its worker, twice
                split, index = result.key.rsplit("/", 1)
                split, index, outcome, error, skipped = split, int(index), "failed", result.error, {}
            else:
                split, index, outcome, error, skipped = result.value
            summary = summaries[split]
            if outcome == "failed":
                log.warning("game %d of %s skipped: %s", index, split, error)
                failed = {"index": index, "error": error}
                if result.attempts > 1:
                    failed.update(attempts=result.attempts, first_error=result.first_error)
                summary["failed_games"].append(failed)
            else:
                summary[outcome] += 1
            for key, count in skipped.items():
                summary["skipped_tasks"][key] = summary["skipped_tasks"].get(key, 0) + count
            bar.update(1)
    finally:
        outcomes.close()
        bar.close()
    for summary in summaries.values():
        summary["failed_games"].sort(key=lambda f: f["index"])
    return [summaries[s] for s in splits]


def main(argv: list[str] | None = None) -> int:
    from envs.cli import ArgumentParser
    from parallel import valid_ray_address

    parser = ArgumentParser(prog="python -m episodes.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", action="append",
                        help=f"split to generate (repeatable, or 'all'); one of {SPLITS} (default: valid_seen)")
    parser.add_argument("--n", type=int, default=12, help="games per split (12: one per task family)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same games)")
    parser.add_argument("--out", required=True, help="output directory (TEACh layout)")
    parser.add_argument("--images", action="store_true", help="also write driver frames to images/<split>/<game>/")
    parser.add_argument("--size", type=int, default=300, help="frame width and height in pixels")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel processes (default 1); with --ray, Ray workers (default: one per cluster CPU)")
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="generate games as Ray tasks: 'local', 'auto' or a cluster address HOST:PORT (needs the "
                             "'distributed' extra; --out must be on storage every node shares)")
    parser.add_argument("--game-timeout", type=float, metavar="SECONDS",
                        help="stop a game after this many seconds and retry it once (default: no limit)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    splits = args.split or ["valid_seen"]
    if "all" in splits:
        splits = list(SPLITS)
    bad = [s for s in splits if s not in SPLITS]
    if bad:
        print(f"error: --split {bad[0]!r} is not one of {SPLITS} or 'all'", file=sys.stderr)
        return 2
    if args.n < 1:
        print(f"error: --n must be a positive number of games, got {args.n}", file=sys.stderr)
        return 2
    if args.seed < 0:
        print(f"error: --seed must be >= 0, got {args.seed}", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print(f"error: --workers must be >= 1, got {args.workers}", file=sys.stderr)
        return 2
    if args.ray is not None and not valid_ray_address(args.ray):
        print(f"error: --ray must be 'local', 'auto', HOST:PORT or ray://HOST:PORT, got {args.ray!r}", file=sys.stderr)
        return 2
    if args.game_timeout is not None and not args.game_timeout > 0:
        print(f"error: --game-timeout must be > 0 seconds, got {args.game_timeout}", file=sys.stderr)
        return 2
    if not 64 <= args.size <= 1024:
        print(f"error: --size must be in [64, 1024], got {args.size}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"error: --out {out} exists and is not a directory", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.time()
    from parallel import RayUnavailable, WorkerSetupError, write_text_atomic

    workers = args.workers if args.workers is not None or args.ray else 1
    try:
        summaries = generate(splits, args.n, args.seed, out, args.images, args.size, args.size, workers,
                             progress=not args.quiet, ray=args.ray, timeout=args.game_timeout)
    except (RayUnavailable, WorkerSetupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("episodes.generate: interrupted; the games written so far are complete. Run the same command again "
              "to continue (games on disk are skipped).", file=sys.stderr)
        return 130
    report = {"seed": args.seed, "n": args.n, "images": args.images, "seconds": round(time.time() - started, 1),
              "splits": summaries}
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "generation_report.json", json.dumps(report, indent=2))
    for s in summaries:
        print(f"{s['split']}: {s['written']} written, {s['already_on_disk']} already on disk, "
              f"{len(s['failed_games'])} failed; samples retried (the expert could not solve the sampled task, or "
              f"replay did not reproduce it; another sample was drawn): {s['skipped_tasks'] or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
