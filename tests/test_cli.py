"""Every ``python -m`` command explains itself and fails on one line (issue 15): ``--help`` shows every option with
help and its default, bad arguments are one line with exit status 2; and the demo's tour looks at things."""

import argparse
import importlib
import json

import pytest

from envs.cli import ArgumentParser

CLIS = ["perception.train", "perception.evaluate", "perception.evaluate_memory", "perception.make_dataset",
        "bench.perception_provider", "bench.perception_speed", "envs.demo", "episodes.generate", "episodes.stats",
        "episodes.replay", "episodes.default_set", "agent.run_teach", "agent.compare", "agent.plan"]


class _Parsed(Exception):
    pass


def parser_of(module_name, monkeypatch):
    """The parser ``module.main`` builds, caught when it parses."""
    module = importlib.import_module(module_name)
    caught = {}

    def catch(self, *args, **kwargs):
        caught["parser"] = self
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    with pytest.raises(_Parsed):
        module.main([])
    monkeypatch.undo()
    return caught["parser"]


@pytest.mark.parametrize("module_name", CLIS)
def test_help_explains_every_option_and_shows_defaults(module_name, monkeypatch):
    parser = parser_of(module_name, monkeypatch)
    assert isinstance(parser, ArgumentParser)
    formatter = parser._get_formatter()
    for action in parser._actions:
        assert action.help, f"{module_name}: {action.option_strings or action.dest} has no help"
        if action.option_strings and not (action.default is None or action.default is False
                                          or action.default is argparse.SUPPRESS):
            assert "%(default)" in formatter._get_help_string(action), f"{module_name}: {action.option_strings}"
    assert parser.format_help()


@pytest.mark.parametrize("module_name", CLIS)
def test_bad_arguments_fail_on_one_line(module_name, capsys):
    module = importlib.import_module(module_name)
    try:
        code = module.main(["--no-such-option"])
    except SystemExit as exit:
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "error:" in err and "--help" in err, err


def test_provider_bench_names_a_missing_checkpoint(tmp_path, capsys):
    from bench import perception_provider

    assert perception_provider.main(["--checkpoint", str(tmp_path / "MISSING.safetensors")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MISSING.safetensors" in err and "Traceback" not in err


def test_demo_tour_looks_at_things(tmp_path, capsys):
    """The random walk it replaced faced a bare wall, nothing in view, in 13 of 21 frames of FloorPlan1; the tour
    walks to viewpoints of objects (here: no frame without a visible object)."""
    from envs import demo

    assert demo.main(["--steps", "10", "--out", str(tmp_path), "--width", "160", "--height", "160"]) == 0
    frames = sorted(tmp_path.glob("step_*_meta.json"))
    assert len(frames) == 11 and (tmp_path / "contact_sheet.png").is_file()
    visible = [sum(o["visible"] for o in json.loads(f.read_text())["objects"]) for f in frames]
    assert sum(v == 0 for v in visible) <= 1, visible
    capsys.readouterr()
    assert demo.main(["--scene", "bogus", "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
