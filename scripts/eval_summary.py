"""One table from the reports scripts/eval_checkpoint.sh writes: python scripts/eval_summary.py LABEL=DIR ...

Each DIR holds eval_LABEL.json (perception.evaluate), optionally eval_LABEL_object_views.json, and
memory_eval_LABEL_odin.json / memory_eval_LABEL_odin-2d.json (perception.evaluate_memory; for LABEL small, the
shipped model's, memory_eval_odin.json / memory_eval_odin-2d.json as in perception/checkpoints). Missing reports print
as -.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = ["model", "3D AP/AP50/AP25", "2D AP/AP50", "obj-views 2D AP50 look-around/close-ups",
           "odin small R/P", "odin all R/P", "odin-2d small R/P", "odin-2d all R/P"]


def _read(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _rp(report: dict | None, objects: str) -> str:
    if report is None:
        return "-"
    row = next((r for r in report["rows"] if r["objects"] == objects), None)
    if row is None:
        return "-"
    return f"{100 * row['recall']:.0f}/{100 * (row['precision'] or 0):.0f}"


def summary_row(label: str, directory: Path) -> list[str]:
    ap = _read(directory / f"eval_{label}.json")
    obj = _read(directory / f"eval_{label}_object_views.json")
    cells = [label, "-", "-", "-"]
    if ap is not None:
        row = ap["rows"][0]
        if "3d" in row:
            cells[1] = "/".join(_pct(row["3d"][k]) for k in ("AP", "AP50", "AP25"))
        if "2d" in row:
            cells[2] = "/".join(_pct(row["2d"][k]) for k in ("AP", "AP50"))
    if obj is not None:
        two = obj["rows"][0]["2d"]
        if "look_around" in two:
            cells[3] = f"{_pct(two['look_around']['AP50'])}/{_pct(two['object_views']['AP50'])}"
    for provider in ("odin", "odin-2d"):
        memory = _read(directory / f"memory_eval_{label}_{provider}.json")
        if memory is None and label == "small":  # the shipped model's reports carry the provider's name alone
            memory = _read(directory / f"memory_eval_{provider}.json")
        cells += [_rp(memory, "small task objects"), _rp(memory, "all")]
    return cells


def main(argv: list[str]) -> int:
    if not argv or any("=" not in a for a in argv):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for arg in argv:
        label, directory = arg.split("=", 1)
        print("| " + " | ".join(summary_row(label, Path(directory))) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
