"""Where early leads lock in: two identical cities under the calibrated behaviour, over the clustering strength.

    .venv/bin/drama lockin                 # print the table (20 seeds, 120 months)
    .venv/bin/drama lockin publish=true    # also write docs/calibration/lockin.json and docs/calibration.md

`symmetric`'s two identical cities run with the national fit's cluster pull
and entry (configs/calibration/national.yaml) at a range of agglomeration
elasticities. A run *tips* when one city ends with at least TIPPED of the
pair's output over the last 12 months: which city wins is chance (Arthur
1989), so the share of runs that tip measures lock-in. The lowest level at
which half the runs tip is the boundary docs/calibration.md quotes beside the
literature's 0.04-0.11.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime, timezone

import numpy as np

from sim import load_config
from sim.ensemble import run_ensemble
from sim.shell.atomic import write_text
from sim.shell.config import CONFIG_DIR, PROJECT_ROOT

TIPPED = 0.7  # one city's share of the pair's output that counts as tipped
LEVELS = (0.06, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0)  # agglomeration elasticities: the literature's mean, then stronger
OUTPUT = PROJECT_ROOT / "docs" / "calibration" / "lockin.json"


def national_behaviour() -> list[str]:
    """Overrides carrying the national fit's behaviour of companies (its `behaviour` and `firms` keys: the entry
    flow, and the cluster pull when it is fitted) into `symmetric`, whose market and units are its own."""
    import yaml

    fit = yaml.safe_load((CONFIG_DIR / "calibration" / "national.yaml").read_text())
    return [f"scenario.{group}.{key}={value}" for group in ("behaviour", "firms")
            for key, value in sorted((fit.get(group) or {}).items())]


def east_shares(level: float, seeds: int, steps: int, extra: tuple[str, ...]) -> np.ndarray:
    """East's share of the pair's output over the last 12 months, per seed, at one agglomeration level (the runs
    advanced together on the fast path, sim/ensemble)."""
    params = load_config("symmetric", [f"steps={steps}", "counterfactual=false",
                                       f"scenario.behaviour.agglomeration={level}", *extra])
    runs = run_ensemble([dataclasses.replace(params, seed=seed) for seed in range(seeds)])
    return np.array([float(r.summary()["final_share"]["east"]) for r in runs])


def tipping(seeds: int = 20, steps: int = 120, levels=LEVELS) -> dict:
    """Share of runs that tip at each agglomeration level, with the seeds' shares (seeds 0..seeds-1 at every level)."""
    extra = tuple(national_behaviour())
    shares = np.array([east_shares(level, seeds, steps, extra) for level in levels])
    tipped = (np.maximum(shares, 1 - shares) >= TIPPED).mean(axis=1)
    half = [lv for lv, p in zip(levels, tipped) if p >= 0.5]
    return {"levels": list(levels), "tipped": [float(p) for p in tipped], "seeds": seeds, "steps": steps,
            "threshold": TIPPED, "behaviour": list(extra), "boundary": half[0] if half else None,
            "command": ".venv/bin/drama lockin publish=true",
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def table(result: dict) -> str:
    """Markdown: the share of runs that tip at each level."""
    head = "| agglomeration | " + " | ".join(f"{lv:g}" for lv in result["levels"]) + " |"
    rule = "|---|" + "---|" * len(result["levels"])
    row = "| runs that tip | " + " | ".join(f"{p:.0%}" for p in result["tipped"]) + " |"
    return "\n".join([head, rule, row])


def help_page() -> str:
    """`.venv/bin/drama lockin --help`."""
    from sim.shell.help import Help

    return Help("lockin",
        "Find where clustering tips two identical cities to one winner: the share of 20 seeds, over 120 "
        "months, in which one of two identical cities ends with most of the output, at each strength of "
        "agglomeration, under the fitted behaviour. With publish=true it writes docs/calibration/lockin.json "
        "and the Lock-in boundary section of docs/calibration.md.",
                usage="[publish=true]",
                options=[("publish=true", "also write the tracked files named above")],
                examples=["", "publish=true", "publish=false"]).text()


def main(argv: list[str]) -> None:
    publish = "publish=true" in argv
    unknown = [a for a in argv if a not in ("publish=true", "publish=false")]
    if unknown:
        raise SystemExit(f"error: {unknown[0]!r}: not an option; allowed publish=true")
    result = tipping()
    print(table(result))
    print(f"boundary (half the runs tip): {result['boundary']}")
    if publish:
        from experiments.calibration import docs as calibration_docs

        write_text(OUTPUT, json.dumps(result, indent=2) + "\n")
        page = calibration_docs.write(PROJECT_ROOT / "docs")
        print(f"published (tracked files rewritten): {OUTPUT.relative_to(PROJECT_ROOT)}, "
              f"{page.relative_to(PROJECT_ROOT)}")
    else:
        print("not published: add publish=true to write docs/calibration/lockin.json")


if __name__ == "__main__":
    main(sys.argv[1:])
