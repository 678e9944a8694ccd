"""Replay a game's driver actions in a simulator and compare the state it reaches with the recorded one.

Like TEACh's ``replay/episode_replay.py``: restore the game's ``initial_state``, then send every Driver interaction
in order, motions as AI2-THOR navigation actions and object interactions as clicks at the recorded ``x, y`` (never by
object id), so the click resolution runs again. Utterances and Commander actions change nothing and are skipped.

    python -m episodes.replay DATA/games/valid_seen/<game_id>.game.json [MORE.game.json ...]

One line per game: ``<game_id>: reproduced`` on stdout, or a line on stderr naming the file and what differs or why it
could not be replayed; the exit status is 1 when any game was not reproduced.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from .actions import load_actions
from .expert import DRIVER, MOTIONS, OBJECT_ACTIONS, snapshot
from .formats import Game, load_game
from .schema import EpisodeFormatError

COMPARED_PROPERTIES = ("objectType", "isOpen", "isToggled", "isDirty", "isFilledWithLiquid", "fillLiquid", "isCooked",
                       "isSliced", "isBroken", "isPickedUp", "parentReceptacles")
POSITION_TOLERANCE = 1e-3


def driver_steps(game: Game) -> list[tuple[str, dict]]:
    """(AI2-THOR action, arguments) for each Driver motion or object interaction of ``game``, in order."""
    table = load_actions()
    steps = []
    for n, interaction in enumerate(game.interactions):
        if interaction.get("agent_id") != DRIVER:
            continue
        action = table.by_id(interaction["action_id"])
        if action.name in MOTIONS:
            steps.append((MOTIONS[action.name], {}))
        elif action.name in OBJECT_ACTIONS:
            if interaction.get("x") is None or interaction.get("y") is None:
                raise EpisodeFormatError(game.path, f"interactions[{n}].x", f"{action.name} needs x and y to replay")
            steps.append((OBJECT_ACTIONS[action.name], {"x": float(interaction["x"]), "y": float(interaction["y"])}))
        elif not action.is_utterance:
            raise EpisodeFormatError(game.path, f"interactions[{n}].action_id",
                                     f"{action.name} ({action.action_id}) cannot be replayed in the embedded world")
    return steps


def replay_game(game: Game, env=None, check_success: bool = True) -> dict:
    """The TEACh state reached by replaying ``game``'s driver actions from its initial state (a new embedded env
    is made when ``env`` is None). With ``check_success``, a step whose outcome differs from the recorded
    ``success`` flag raises ``RuntimeError`` naming it."""
    own = env is None
    if own:
        from envs import make_env

        env = make_env()
    try:
        env.reset(scene=game.world, initial_state=game.initial_state)
        env.step(action="GetReachablePositions")  # the expert's query; changes nothing, re-renders the same view
        recorded = [i for i in game.interactions if i.get("agent_id") == DRIVER and "utterance" not in i]
        for k, (action, args) in enumerate(driver_steps(game)):
            event = env.step(action=action, **args)
            if check_success and bool(event.metadata["lastActionSuccess"]) != bool(recorded[k].get("success", 1)):
                raise RuntimeError(f"replay of {game.game_id}: driver action {k} ({action} {args}) "
                                   f"{'failed' if recorded[k].get('success', 1) else 'succeeded'} against the record: "
                                   f"{event.metadata['errorMessage']}")
        return snapshot(env)
    finally:
        if own:
            env.close()


def state_differences(expected: dict, actual: dict, limit: int = 20) -> list[str]:
    """Where two TEACh states disagree: agent pose, object set, positions, the state properties and the simbot
    custom properties; at most ``limit`` lines."""
    out: list[str] = []
    a_agent, b_agent = expected["agents"][-1], actual["agents"][-1]
    for key in ("x", "y", "z"):
        if not math.isclose(a_agent["position"][key], b_agent["position"][key], abs_tol=POSITION_TOLERANCE):
            out.append(f"agent position.{key}: {a_agent['position'][key]} != {b_agent['position'][key]}")
    if not math.isclose(a_agent["rotation"]["y"], b_agent["rotation"]["y"], abs_tol=1e-3) or not math.isclose(
            a_agent["cameraHorizon"], b_agent["cameraHorizon"], abs_tol=1e-3):
        out.append("agent rotation/horizon differ")
    a_objects = {o["objectId"]: o for o in expected["objects"]}
    b_objects = {o["objectId"]: o for o in actual["objects"]}
    for missing in sorted(set(a_objects) ^ set(b_objects)):
        out.append(f"object {missing} only in {'expected' if missing in a_objects else 'replayed'} state")
    for object_id in sorted(set(a_objects) & set(b_objects)):
        a, b = a_objects[object_id], b_objects[object_id]
        for prop in COMPARED_PROPERTIES:
            if a.get(prop) != b.get(prop):
                out.append(f"{object_id}.{prop}: {a.get(prop)!r} != {b.get(prop)!r}")
        for key in ("x", "y", "z"):
            if not math.isclose(a["position"][key], b["position"][key], abs_tol=POSITION_TOLERANCE):
                out.append(f"{object_id}.position.{key}: {a['position'][key]} != {b['position'][key]}")
    a_custom, b_custom = expected.get("custom_object_metadata", {}), actual.get("custom_object_metadata", {})
    for object_id in sorted(set(a_custom) | set(b_custom)):
        if a_custom.get(object_id) != b_custom.get(object_id):
            out.append(f"custom_object_metadata[{object_id}] differs")
    return out[:limit]


def replay_file(path: str | Path, env) -> tuple[bool, str]:
    """Replay one game file in ``env``: (reproduced, the one line to print). A file that cannot be replayed (not a
    valid game, an initial state the world refuses, a step whose outcome diverges from the record, no final state to
    compare with) gives False and a line naming the file and the reason, never a traceback."""
    try:
        game = load_game(path)
        if game.final_state is None:
            raise EpisodeFormatError(path, "tasks[0].episodes[0].final_state", "missing; nothing to compare with")
        differences = state_differences(game.final_state, replay_game(game, env))
    except EpisodeFormatError as exc:
        return False, f"error: {exc}"
    except (ValueError, RuntimeError) as exc:  # a refused initial state, a step that diverged from the record
        return False, f"error: {path}: {exc}"
    if differences:
        return False, f"{path}: DIFFERS: {'; '.join(differences)}"
    return True, f"{game.game_id}: reproduced"


def main(argv: list[str] | None = None) -> int:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m episodes.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("games", nargs="+", metavar="GAME", help="<game_id>.game.json files")
    args = parser.parse_args(argv)
    from envs import make_env

    failed = 0
    with make_env() as env:
        for path in args.games:
            reproduced, line = replay_file(path, env)
            print(line, file=sys.stdout if reproduced else sys.stderr, flush=True)
            failed += not reproduced
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
