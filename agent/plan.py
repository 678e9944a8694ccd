"""Print the program the planner makes of a dialogue: ``python -m agent.plan --dialogue "Commander: make coffee"``.

The dialogue comes from ``--dialogue`` ("Speaker: text | Speaker: text"; text without a speaker is the Commander's)
or from a TEACh instance file (``--tfd`` / ``--edh``: its ``dialog_history``, a list of [speaker, utterance]).
Prints ``Program.dumps()`` (or the :class:`agent.program.TaskIntent` alone with ``--intent-only``); bad input ends
with one line naming the file or field and exit status 2.
"""

from __future__ import annotations

import json
import sys


def parse_dialogue_arg(text: str) -> list[tuple[str, str]]:
    """"Commander: make coffee | Driver: ok" -> [("Commander", "make coffee"), ("Driver", "ok")]."""
    turns = []
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        speaker, sep, said = part.partition(":")
        if sep and speaker.strip().lower() in ("commander", "driver", "c", "d"):
            name = "Commander" if speaker.strip().lower() in ("commander", "c") else "Driver"
            turns.append((name, said.strip()))
        else:
            turns.append(("Commander", part))
    if not turns:
        raise ValueError("--dialogue: no utterance given")
    return turns


def dialogue_from_file(path: str) -> list:
    from episodes.formats import read_json

    data = read_json(path)
    if not isinstance(data, dict) or "dialog_history" not in data:
        raise ValueError(f"{path}: field 'dialog_history' missing (expected a TEACh EDH/TfD instance)")
    history = data["dialog_history"]
    if not isinstance(history, list):
        raise ValueError(f"{path}: field 'dialog_history' must be a list of [speaker, utterance]")
    return history


def main(argv: list[str] | None = None) -> int:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m agent.plan", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dialogue", help='"Commander: ... | Driver: ..." (plain text is the Commander\'s)')
    source.add_argument("--tfd", help="a TEACh TfD instance JSON (uses its dialog_history)")
    source.add_argument("--edh", help="a TEACh EDH instance JSON (uses its dialog_history)")
    parser.add_argument("--intent-only", action="store_true", help="print the parsed TaskIntent, not the program")
    parser.add_argument("--no-encoder", action="store_true", help="lexical retrieval only (no sentence encoder)")
    parser.add_argument("--encoder", default="minilm", help="'minilm' (packaged) or a local model directory")
    parser.add_argument("--examples", default=None, help="example library JSON (default: agent/data/...)")
    args = parser.parse_args(argv)

    from episodes.schema import EpisodeFormatError

    from .planner import PlannerError, RetrievalPlanner
    from .program import ProgramError

    try:
        if args.dialogue is not None:
            dialogue = parse_dialogue_arg(args.dialogue)
            field = "--dialogue"
        else:
            path = args.tfd or args.edh
            dialogue = dialogue_from_file(path)
            field = f"{path}: dialog_history"
        planner = RetrievalPlanner(examples_path=args.examples, encoder=None if args.no_encoder else args.encoder)
        try:
            intent = planner.parse(dialogue)
        except PlannerError as error:
            message = str(error)
            raise PlannerError(message.replace("dialogue", field, 1) if message.startswith("dialogue") else message)
        if args.intent_only:
            print(json.dumps(intent.to_json(), indent=2))
            return 0
        try:
            from .expand import expand
        except ImportError as error:
            raise ProgramError(f"agent.expand is not available ({error}); use --intent-only") from None
        print(expand(intent).dumps())
        return 0
    except (ValueError, PlannerError, ProgramError, EpisodeFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
