"""Compare run directories: ``python -m agent.compare results/A results/B ... [--out DIR] [--bootstrap 2000]
[--seed 0] [--common-only]``.

Per run: N, SR, GC, PLW-SR and PLW-GC (TEACh's ``aggregate_metrics`` of ``eval/compute_metrics.py``, through
``episodes.metrics.aggregate_metrics``), each with a 95% percentile-bootstrap confidence interval over episodes; a
per-family success table (family x run); and a bar chart of SR with its interval per run and per family. Writes
``comparison.md``, ``comparison.csv``, ``comparison_per_family.csv`` and ``comparison.png`` to ``--out`` (default
``results/compare``) and prints the markdown.

The bootstrap draws ``B`` resamples of a run's episodes with replacement from ``numpy.random.default_rng(seed)`` (a
fresh generator per run and per family, so a run's interval does not depend on which other runs are compared; runs
over the same instance ids in the same order thus share their resamples, a paired bootstrap) and takes the 2.5th and
97.5th percentiles of each rate. Resampled rates are computed in numpy with ``aggregate_metrics``' rules (SR over all
episodes, GC micro-averaged falling back to the mean per-episode GC when no goal conditions are open, path-length
weighted rates divided by the summed expert length, 0 when that is 0); :func:`bootstrap_rates` checks that on the
original sample they equal ``aggregate_metrics``, so the two cannot drift apart.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from episodes.metrics import aggregate_metrics

from .results import (CONFIG_KEY_FIELDS, EPISODES_FILE, ResultsFormatError, load_config, load_records,
                      markdown_table, task_family)

RATES = ("SR", "GC", "PLW-SR", "PLW-GC")
CI_LEVEL = 0.95
DEFAULT_OUT = Path("results") / "compare"


class CompareError(Exception):
    """Bad input to the comparison: reported as one line with exit status 2."""


def point_rates(records: list[dict]) -> dict[str, float]:
    """SR, GC, PLW-SR and PLW-GC of ``aggregate_metrics`` (TEACh's ``aggregate_metrics``) over the records."""
    aggregate = aggregate_metrics(records)
    return {
        "SR": aggregate["success"]["success_rate"],
        "GC": aggregate["goal_condition_success"]["goal_condition_success_rate"],
        "PLW-SR": aggregate["path_length_weighted_success_rate"],
        "PLW-GC": aggregate["path_length_weighted_goal_condition_success_rate"],
    }


def _rates_of_resamples(records: list[dict], indices: np.ndarray) -> dict[str, np.ndarray]:
    """Each rate for each row of ``indices`` (resamples of episode positions), by ``aggregate_metrics``' rules."""
    def column(field: str) -> np.ndarray:
        return np.asarray([float(r[field]) for r in records], dtype=np.float64)[indices]

    n = indices.shape[1]
    success = (column("success") == 1.0).sum(axis=1) / n
    completed = column("completed_goal_conditions").sum(axis=1)
    total = column("total_goal_conditions").sum(axis=1)
    mean_gc = column("goal_condition_success").sum(axis=1) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        goal = np.where(total != 0, completed / np.where(total != 0, total, 1.0), mean_gc)
    weight = column("gt_path_len").sum(axis=1)
    positive = (weight > 0) & ~np.isclose(weight, 0.0)
    safe_weight = np.where(positive, weight, 1.0)
    plw_success = np.where(positive, column("path_len_weighted_success_spl").sum(axis=1) / safe_weight, 0.0)
    plw_goal = np.where(positive, column("path_len_weighted_goal_condition_spl").sum(axis=1) / safe_weight, 0.0)
    return {"SR": success, "GC": goal, "PLW-SR": plw_success, "PLW-GC": plw_goal}


def bootstrap_rates(records: list[dict], resamples: int = 2000, seed: int = 0,
                    level: float = CI_LEVEL) -> dict[str, tuple[float, float, float]]:
    """{rate: (point, lo, hi)}: the point estimate from ``aggregate_metrics`` and a percentile-bootstrap interval
    over episodes (``resamples`` draws, ``numpy.random.default_rng(seed)``). No records, or ``resamples == 0``: the
    interval is (nan, nan)."""
    records = list(records)
    point = point_rates(records)
    if not records:
        return {name: (point[name], math.nan, math.nan) for name in RATES}
    identity = _rates_of_resamples(records, np.arange(len(records))[None, :])
    for name in RATES:
        if not math.isclose(identity[name][0], point[name], rel_tol=1e-9, abs_tol=1e-12):
            raise AssertionError(f"bootstrap {name} {identity[name][0]} disagrees with aggregate_metrics "
                                 f"{point[name]} on the full sample")
    if resamples <= 0:
        return {name: (point[name], math.nan, math.nan) for name in RATES}
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, len(records), size=(resamples, len(records)))
    drawn = _rates_of_resamples(records, indices)
    tail = 100.0 * (1.0 - level) / 2.0
    result = {}
    for name in RATES:
        lo, hi = np.percentile(drawn[name], [tail, 100.0 - tail])
        # Percentiles of a constant array can come out one ulp away from it; keep the interval around the point.
        result[name] = (point[name], float(min(lo, point[name])), float(max(hi, point[name])))
    return result


def _load_run(run_dir: Path) -> tuple[list[dict], dict | None]:
    if not run_dir.is_dir():
        raise CompareError(f"{run_dir}: run directory not found")
    if not (run_dir / EPISODES_FILE).is_file():
        raise CompareError(f"{run_dir}: no {EPISODES_FILE} (not a run directory, or the run recorded nothing)")
    try:
        records = load_records(run_dir)
        config = load_config(run_dir)
    except (ResultsFormatError, ValueError) as error:
        raise CompareError(str(error)) from None
    if not records:
        raise CompareError(f"{run_dir / EPISODES_FILE}: no episodes recorded")
    return records, config


def _labels(run_dirs: list[Path]) -> list[str]:
    """Each run's directory name; the paths as given when two names collide."""
    names = [path.resolve().name or str(path) for path in run_dirs]
    if len(set(names)) == len(names):
        return names
    return [str(path) for path in run_dirs]


def _fmt_rate(point: float, lo: float, hi: float) -> str:
    if math.isnan(lo):
        return f"{100 * point:.1f}"
    return f"{100 * point:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


def compare(run_dirs: list[Path | str], out_dir: Path | str = DEFAULT_OUT, resamples: int = 2000, seed: int = 0,
            common_only: bool = False, log=print, warn=None) -> dict:
    """Compare the runs and write the outputs; returns {"table": DataFrame, "per_family": DataFrame, "notes": [...],
    "files": {...}}. ``log`` prints tables; ``warn`` (default: stderr) prints warnings and notes."""
    if warn is None:
        def warn(message: str) -> None:
            print(message, file=sys.stderr)
    run_dirs = [Path(path) for path in run_dirs]
    if not run_dirs:
        raise CompareError("no run directories given")
    if resamples < 0:
        raise CompareError(f"--bootstrap must be >= 0, got {resamples}")
    labels = _labels(run_dirs)
    runs = {label: _load_run(path) for label, path in zip(labels, run_dirs)}
    notes: list[str] = []

    id_sets = {label: {r["instance_id"] for r in records} for label, (records, _) in runs.items()}
    common = set.intersection(*id_sets.values())
    if common_only:
        if not common:
            raise CompareError("--common-only: the runs share no instance id")
        runs = {label: ([r for r in records if r["instance_id"] in common], config)
                for label, (records, config) in runs.items()}
        notes.append(f"--common-only: {len(common)} instance ids present in all {len(runs)} runs")
        warn(notes[-1])
    elif any(ids != common for ids in id_sets.values()):
        sizes = ", ".join(f"{label} {len(ids)}" for label, ids in id_sets.items())
        notes.append(f"warning: the runs cover different instance sets ({sizes}; {len(common)} in common); "
                     f"pass --common-only to compare on the shared ones")
        warn(notes[-1])
    for field in ("mode", "split"):
        values = {label: (config or {}).get(field) for label, (_, config) in runs.items()}
        if len(set(map(str, values.values()))) > 1:
            notes.append(f"warning: the runs differ in {field}: "
                         + ", ".join(f"{label} {value}" for label, value in values.items()))
            warn(notes[-1])

    rows = []
    family_rows = []
    family_ci: dict[str, dict[str, tuple[float, float, float]]] = {}
    for label, (records, config) in runs.items():
        rates = bootstrap_rates(records, resamples, seed)
        row = {"run": label, "N": len(records), "errors": sum(1 for r in records if r.get("error") == 1)}
        for name in RATES:
            point, lo, hi = rates[name]
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = point, lo, hi
        for key in CONFIG_KEY_FIELDS:
            row[key] = (config or {}).get(key)
        rows.append(row)
        families: dict[str, list[dict]] = {}
        for record in records:
            families.setdefault(task_family(record), []).append(record)
        family_ci[label] = {}
        for family, members in sorted(families.items()):
            point, lo, hi = bootstrap_rates(members, resamples, seed)["SR"]
            family_ci[label][family] = (point, lo, hi)
            family_rows.append({"family": family, "run": label, "N": len(members),
                                "successes": sum(1 for r in members if r["success"] == 1),
                                "SR": point, "SR_lo": lo, "SR_hi": hi})
    table = pd.DataFrame(rows)
    per_family = pd.DataFrame(family_rows)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"md": out_dir / "comparison.md", "csv": out_dir / "comparison.csv",
             "per_family_csv": out_dir / "comparison_per_family.csv", "png": out_dir / "comparison.png"}
    table.to_csv(files["csv"], index=False)
    per_family.to_csv(files["per_family_csv"], index=False)
    markdown = _markdown(rows, family_rows, list(runs), notes, resamples, seed)
    files["md"].write_text(markdown, encoding="utf-8")
    _plot(table, family_ci, files["png"])
    log(markdown)
    log(f"wrote {', '.join(str(path) for path in files.values())}")
    return {"table": table, "per_family": per_family, "notes": notes, "files": files}


def _markdown(rows: list[dict], family_rows: list[dict], labels: list[str], notes: list[str], resamples: int,
              seed: int) -> str:
    ci = f"[{int(100 * CI_LEVEL)}% CI]" if resamples > 0 else ""
    header = ["run", "N"] + [f"{name} % {ci}".strip() for name in RATES] + ["errors"]
    body = [[row["run"], row["N"]] + [_fmt_rate(row[n], row[f"{n}_lo"], row[f"{n}_hi"]) for n in RATES]
            + [row["errors"]] for row in rows]
    lines = ["# Run comparison", ""]
    lines += [f"- {note}" for note in notes]
    if notes:
        lines.append("")
    lines += [markdown_table(header, body), ""]
    if resamples > 0:
        lines += [f"Intervals: percentile bootstrap over episodes, {resamples} resamples, seed {seed}.", ""]
    config_rows = [[row["run"]] + ["" if row[key] is None else row[key] for key in CONFIG_KEY_FIELDS] for row in rows]
    if any(any(value != "" for value in row[1:]) for row in config_rows):
        lines += ["## Configurations", "", markdown_table(["run", *CONFIG_KEY_FIELDS], config_rows), ""]
    cells = {(entry["family"], entry["run"]): entry for entry in family_rows}
    families = sorted({entry["family"] for entry in family_rows})
    table = []
    for family in families:
        line = [family]
        for label in labels:
            entry = cells.get((family, label))
            line.append("-" if entry is None else f"{100 * entry['SR']:.1f}% ({entry['successes']}/{entry['N']})")
        table.append(line)
    if table:
        lines += ["## Success rate per task family", "", markdown_table(["family", *labels], table), ""]
    return "\n".join(lines)


def _error_bars(points: list[float], los: list[float], his: list[float]) -> np.ndarray | None:
    if any(math.isnan(v) for v in los + his):
        return None
    return np.array([[100 * (p - lo) for p, lo in zip(points, los)], [100 * (hi - p) for p, hi in zip(points, his)]])


def _plot(table: pd.DataFrame, family_ci: dict[str, dict[str, tuple[float, float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(table["run"])
    families = sorted({family for per_run in family_ci.values() for family in per_run})
    fig, (overall, by_family) = plt.subplots(
        1, 2, figsize=(min(24.0, 5.0 + 0.6 * len(labels) + 0.35 * len(families) * len(labels)), 4.5),
        gridspec_kw={"width_ratios": [1, 2]})
    x = np.arange(len(labels))
    overall.bar(x, 100 * table["SR"], yerr=_error_bars(list(table["SR"]), list(table["SR_lo"]),
                                                      list(table["SR_hi"])),
                capsize=4, color=[f"C{i}" for i in range(len(labels))])
    overall.set_xticks(x, labels, rotation=30, ha="right")
    overall.set_ylabel("success rate (%)")
    overall.set_ylim(0, 105)
    overall.set_title("SR per run (95% CI)")
    width = 0.8 / max(1, len(labels))
    fx = np.arange(len(families))
    for i, label in enumerate(labels):
        # A family a run never met gets no bar (rather than a 0% one).
        present = [(position, family_ci[label][family]) for position, family in enumerate(families)
                   if family in family_ci[label]]
        if not present:
            continue
        xs = np.array([position for position, _ in present]) + (i - (len(labels) - 1) / 2) * width
        points = [v[0] for _, v in present]
        errors = _error_bars(points, [v[1] for _, v in present], [v[2] for _, v in present])
        by_family.bar(xs, [100 * p for p in points], width, yerr=errors, capsize=2, label=label, color=f"C{i}")
    by_family.set_xticks(fx, families, rotation=30, ha="right")
    by_family.set_ylim(0, 105)
    by_family.set_title("SR per task family")
    by_family.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    from envs.cli import ArgumentParser

    parser = ArgumentParser(
        prog="python -m agent.compare",
        description="Compare run directories (each with episodes.jsonl): SR, GC, PLW-SR, PLW-GC with bootstrap 95% "
                    "intervals, per-family success, and a bar chart.")
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (results/<run>), labelled by their name")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where to write comparison.md/.csv/.png (default: %(default)s)")
    parser.add_argument("--bootstrap", type=int, default=2000,
                        help="bootstrap resamples for the intervals; 0 for none (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: %(default)s)")
    parser.add_argument("--common-only", action="store_true",
                        help="restrict every run to the instance ids present in all runs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        compare(args.runs, args.out, args.bootstrap, args.seed, args.common_only)
    except CompareError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
