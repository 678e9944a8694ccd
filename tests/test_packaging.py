"""The wheel's package data is what the code reads at run time, and nothing else (no evaluation reports, no loss logs)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _package_data() -> tuple[dict, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return config, config["package-data"]


def _matched(package: str, patterns: list[str]) -> set[Path]:
    base = ROOT / package
    return {path for pattern in patterns for path in base.glob(pattern) if path.is_file()}


def test_every_pattern_matches_and_nothing_else_slips_in():
    config, data = _package_data()
    assert config.get("include-package-data") is False, "otherwise setuptools adds every file the sdist holds"
    for package, patterns in data.items():
        for pattern in patterns:
            assert _matched(package, [pattern]), f"{package}/{pattern} matches no file"


def test_the_shipped_checkpoint_goes_in_and_its_reports_stay_out():
    from perception.odin_provider import DEFAULT_CHECKPOINT

    _, data = _package_data()
    shipped = _matched("perception", data["perception"])
    needed = {DEFAULT_CHECKPOINT.with_suffix(suffix) for suffix in (".safetensors", ".json", ".sha256")}
    needed.add(DEFAULT_CHECKPOINT.with_suffix(".train.json"))
    assert shipped == needed
    from agent.planner import DEFAULT_EXAMPLES

    assert DEFAULT_EXAMPLES in _matched("agent", data["agent"])
