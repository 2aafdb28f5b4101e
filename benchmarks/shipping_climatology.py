"""Does a synthetic year of Shipping Forecasts have the real bulletins' climate?

Run:  .venv/bin/python benchmarks/shipping_climatology.py            (122 runs: 3.7 min on 2 shared cores)
      .venv/bin/python benchmarks/shipping_climatology.py --every 15  (a quick look: 25 runs)

What it does:

1. Synthetic side: one model run (00Z, T+0..T+24, 0.25 deg) every ``--every`` days through a year
   from ``--start`` with weather seed ``--seed`` (:func:`generate_run`, in memory; ``--runs-dir``
   writes and reads back NetCDF files instead), sea-area statistics (:func:`compute_stats`) and
   one written forecast per area (:func:`write_area`): 31 area forecasts per run.
2. Real side: every area entry of the daily BBC captures in ``real_bulletins.jsonl`` (608
   bulletins, 2024-03 to 2025-11, 18,848 area forecasts), interpreted by the parser
   (:func:`parse_area_text`).
3. For each field (force, sea state, visibility, weather, wind direction) it counts, per area
   forecast, which classes the forecast mentions anywhere (both sub-periods, main and
   "occasionally" values, every class inside a range such as "4 to 6"). It prints the share of
   forecasts mentioning each class side by side, and two distances between the normalised
   mention distributions: total variation distance (TVD, 0 = identical, 1 = disjoint) and
   Jensen-Shannon divergence (JS, base 2, 0..1).

``--json FILE`` also writes every table and distance. The real bulletins are read from
``../shared/data/shipping/real_bulletins.jsonl`` (``--real`` to change); they are Crown
copyright / BBC and never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REAL = REPO.parent / "shared" / "data" / "shipping" / "real_bulletins.jsonl"
FIELDS = ("force", "sea_state", "visibility", "weather", "direction")


def mentioned(forecast: Any, field: str) -> set[str]:
    """The class labels a forecast mentions for ``field`` (ranges expanded, both periods)."""
    from fathom.domains.shipping.vocab._fields import Direction

    out: set[str] = set()
    for slot in forecast.field(field).slots():
        for value in (slot.main, slot.secondary):
            if value is None:
                continue
            if field == "weather":
                out.update(value.types)
            elif isinstance(value, Direction):
                out.update(value.points if value.kind == "point" else (value.kind,))
            else:
                out.update(value.SCALE[i] for i in range(value.lo, value.hi + 1))
    return out


def class_order(field: str) -> list[str]:
    """Every class of ``field`` in its natural order."""
    from fathom.domains.shipping.vocab._fields import Force, SeaState, Visibility
    from fathom.domains.shipping.vocab._vocab import WEATHER_TYPES

    if field == "force":
        return list(Force.SCALE)
    if field == "sea_state":
        return list(SeaState.SCALE)
    if field == "visibility":
        return list(Visibility.SCALE)
    if field == "weather":
        return list(WEATHER_TYPES)
    return ["N", "NE", "E", "SE", "S", "SW", "W", "NW", "cyclonic", "variable"]


def real_forecasts(path: Path) -> Iterator[Any]:
    """Parsed area forecasts of the BBC captures (one per area entry)."""
    from fathom.domains.shipping.parse._parser import parse_area_text

    with open(path, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if not str(record.get("source_format", "")).startswith("bbc"):
                continue
            for entry in record["areas"]:
                if entry.get("source_glitch"):
                    continue
                yield parse_area_text(entry["wind"], entry["sea_state"], entry["weather"],
                                      entry["visibility"], names=entry["names"])


def synthetic_forecasts(start: datetime, days: int, every: int, seed: int, resolution: float,
                        runs_dir: Path | None) -> Iterator[Any]:
    """Written area forecasts of one synthetic run every ``every`` days (31 per run)."""
    from rich.progress import Progress

    from fathom.domains.shipping.nwp._generate import generate_run
    from fathom.domains.shipping.nwp._write import write_runs
    from fathom.domains.shipping.stats._compute import compute_stats
    from fathom.domains.shipping.writer._area import write_area

    starts = [start + timedelta(days=d) for d in range(0, days, every)]
    with Progress(transient=True) as bar:
        task = bar.add_task("synthetic runs", total=len(starts))
        for t0 in starts:
            if runs_dir is not None:
                folders = write_runs(t0, 1, runs_dir, seed=seed, resolution=resolution, runs_per_day=1,
                                     progress=False)
                stats = compute_stats(folders[0])
            else:
                stats = compute_stats(list(generate_run(t0, seed=seed, resolution=resolution)))
            for name, area in stats["areas"].items():
                yield write_area(area, name).fields
            bar.advance(task)


def tally(forecasts: Iterable[Any]) -> tuple[int, dict[str, Counter[str]]]:
    """Number of forecasts and, per field, how many forecasts mention each class."""
    n = 0
    counts: dict[str, Counter[str]] = {f: Counter() for f in FIELDS}
    for fc in forecasts:
        n += 1
        for field in FIELDS:
            counts[field].update(mentioned(fc, field))
    return n, counts


def distances(real: Counter[str], synth: Counter[str], classes: list[str]) -> dict[str, float]:
    """TVD and Jensen-Shannon divergence (base 2) of the normalised mention counts."""
    sp, sq = sum(real[c] for c in classes) or 1, sum(synth[c] for c in classes) or 1
    p = [real[c] / sp for c in classes]
    q = [synth[c] / sq for c in classes]
    tvd = 0.5 * sum(abs(a - b) for a, b in zip(p, q, strict=True))

    def kl(a: list[float], m: list[float]) -> float:
        return sum(x * math.log2(x / y) for x, y in zip(a, m, strict=True) if x > 0)

    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]
    return {"tvd": round(tvd, 4), "js": round(0.5 * kl(p, m) + 0.5 * kl(q, m), 4)}


def report(n_real: int, real: dict[str, Counter[str]], n_syn: int, syn: dict[str, Counter[str]]) -> dict[str, Any]:
    """Print the side-by-side tables and return them with the distances."""
    out: dict[str, Any] = {"n_real": n_real, "n_synthetic": n_syn, "fields": {}}
    for field in FIELDS:
        classes = class_order(field)
        d = distances(real[field], syn[field], classes)
        rows: list[dict[str, Any]] = [
            {"class": c, "real": real[field][c] / max(n_real, 1), "synthetic": syn[field][c] / max(n_syn, 1)}
            for c in classes]
        out["fields"][field] = {"distance": d, "share_mentioning": rows}
        print(f"\n{field}: share of area forecasts mentioning each class   TVD {d['tvd']:.3f}  JS {d['js']:.3f}")
        print(f"  {'class':<12}{'real':>8}{'synthetic':>11}")
        for r in rows:
            print(f"  {r['class']:<12}{100 * r['real']:>7.1f}%{100 * r['synthetic']:>10.1f}%")
    print("\nsummary (distance between normalised class-mention distributions)")
    for field in FIELDS:
        d = out["fields"][field]["distance"]
        print(f"  {field:<11} TVD {d['tvd']:.3f}   JS {d['js']:.3f}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--start", default="2025-01-01", help="first run date (YYYY-MM-DD)")
    ap.add_argument("--days", type=int, default=365, help="length of the synthetic period")
    ap.add_argument("--every", type=int, default=3, help="one run every N days")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resolution", type=float, default=0.25)
    ap.add_argument("--runs-dir", type=Path, help="write runs as NetCDF here and read them back")
    ap.add_argument("--real", type=Path, default=DEFAULT_REAL)
    ap.add_argument("--json", type=Path, help="also write the tables and distances here")
    args = ap.parse_args(argv)
    if not args.real.exists():
        print(f"real bulletins not found at {args.real}; pass --real PATH", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    n_real, real = tally(real_forecasts(args.real))
    t1 = time.perf_counter()
    start = datetime.fromisoformat(args.start)
    n_syn, syn = tally(synthetic_forecasts(start, args.days, args.every, args.seed, args.resolution,
                                           args.runs_dir))
    t2 = time.perf_counter()
    print(f"real: {n_real} area forecasts parsed in {t1 - t0:.1f} s; synthetic: {n_syn} area forecasts "
          f"({n_syn // 31} runs from {args.start}, every {args.every} d, {args.resolution} deg, seed "
          f"{args.seed}) in {t2 - t1:.1f} s")
    out = report(n_real, real, n_syn, syn)
    if args.json:
        out["config"] = {k: str(v) for k, v in vars(args).items()}
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
