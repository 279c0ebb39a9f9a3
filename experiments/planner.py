"""The planner's question in numbers: base, doubled reward, doubled with the budget, doubled with Xi'an answering.

`.venv/bin/drama planner [seeds] [posterior]` prints the table README
shows (`tests/test_docs.py` reruns it): means over seeds 0..seeds-1 of the
default scenario, 60 months, Zhengzhou's no-policy counterfactual per seed,
all advanced together on the fast path (sim/ensemble).
Each seed meets the parameter set it draws from the posterior (default
`national`; `none`: the point fit), the same set in every case, so the
bands carry what the facts leave loose as well as the seeds.
"""

from __future__ import annotations

import sys

import numpy as np

from experiments.analysis.intervals import band
from experiments.calibration.posterior import load_posterior
from sim import load_config
from sim.counterfactual import added_by_policy, without_policy
from sim.ensemble import run_ensemble
from sim.params import to_dict, with_values

Z = "scenario.cities.zhengzhou."
CASES = {
    "base (10 %, 50 M)": [],
    "reward 20 %": [f"{Z}policy.reward_rate=0.2"],
    "reward 20 %, budget 100 M": [f"{Z}policy.reward_rate=0.2", f"{Z}policy.annual_budget=100e6"],
    "reward 20 %, Xi'an reactive": [f"{Z}policy.reward_rate=0.2", "scenario.cities.xian.strategy.kind=reactive"],
}


def _spread(values: np.ndarray, fmt: str, error: bool = False) -> str:
    """Mean (with `error`, +- the standard error of the mean) and, in brackets, the seeds' 90 % band."""
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    low, high = band(values)
    mean = format(values.mean(), fmt) + (f" +- {format(sd / np.sqrt(len(values)), fmt)}" if error else "")
    return f"{mean} [{format(low, fmt)}, {format(high, fmt)}]"


def _per_job(outlay: np.ndarray, jobs: np.ndarray) -> str:
    """Mean outlay over mean jobs added; "n.s." unless the jobs added are more than two standard errors above zero
    (a cost per job divided by noise would read as a price the policy does not have)."""
    error = jobs.std(ddof=1) / np.sqrt(len(jobs)) if len(jobs) > 1 else 0.0
    return f"{outlay.mean() / jobs.mean():,.0f}" if jobs.mean() >= 1 and jobs.mean() > 2 * error else "n.s."


POSTERIOR = "national"


def planner_table(seeds: int = 20, posterior: str = POSTERIOR) -> str:
    """The table of means over `seeds` replicates (seeds 0..seeds-1, the same in every case), as Markdown.

    Every figure carries, in brackets, its 90 % band over the seeds; added jobs also the standard error of their
    mean (what tells a policy's effect from zero). Jobs are crews at
    work (docs/ODD.md 6.1); the yuan per added job divides the mean outlay by the mean jobs added, and reads "n.s."
    when the jobs added are within two standard errors of zero.
    """
    lines = ["| case | Zhengzhou share | Xi'an share | Zhengzhou paid M¥/yr | jobs added in Zhengzhou | "
             "jobs added nationally | ¥ per added job (local) | ¥ per added job (national) |",
             "|---|---|---|---|---|---|---|---|"]
    drawn = load_posterior(posterior) if posterior else None
    for name, overrides in CASES.items():
        base = load_config("xian_vs_zhengzhou", overrides)
        data = to_dict(base)
        runs = [with_values(base, {**(drawn.values(drawn.index_for(seed), data) if drawn else {}), "seed": seed})
                for seed in range(seeds)]
        # Each run and its Zhengzhou-without-policy twin advanced together on the fast path (sim/ensemble).
        views = run_ensemble([*runs, *(without_policy(run, "zhengzhou") for run in runs)])
        rows = []
        for k, view in enumerate(views[:seeds]):
            s = view.summary()
            added = added_by_policy(view, cities=["zhengzhou"], counterfactual=lambda city, k=k: views[seeds + k])
            rows.append((s["final_share"]["zhengzhou"], s["final_share"]["xian"],
                         s["subsidy_total"]["zhengzhou"] / (view.steps / 12) / 1e6,
                         added["added_jobs"]["zhengzhou"], added["added_jobs_national"]["zhengzhou"],
                         s["outlay_total"]["zhengzhou"]))
        z, x, paid, local, national, outlay = np.array(rows).T
        lines.append(f"| {name} | {_spread(z * 100, '.1f')} % | {_spread(x * 100, '.1f')} % | {_spread(paid, '.1f')} | "
                     f"{_spread(local, ',.0f', error=True)} | {_spread(national, ',.0f', error=True)} | "
                     f"{_per_job(outlay, local)} | {_per_job(outlay, national)} |")
    return "\n".join(lines)


def help_page() -> str:
    """`.venv/bin/drama planner --help`."""
    from sim.shell.help import Help

    return Help(
        "planner",
        "Print the planner's table for the default scenario: Zhengzhou's and Xi'an's 12-month shares, the rewards "
        "paid, the jobs Zhengzhou's policy added locally and in the whole country, and the outlay per added job, "
        "for the base policy, a doubled reward, a doubled reward with a doubled fund, and a doubled reward with "
        "Xi'an answering; means over the seeds with their spread. The README's table is this output.",
        usage="[seeds] [posterior|none]",
        options=[("seeds", "how many seeds, 1 to 1000 (default 20)"),
                 ("posterior", f"the published posterior the seeds draw their parameter sets from (default "
                               f"{POSTERIOR}); none: the point fit")],
        examples=["", "40", "20 none"],
    ).text()


def main(argv: list[str]) -> None:
    """Entry point of `.venv/bin/drama planner [seeds] [posterior|none]`."""
    if len(argv) > 2:
        raise SystemExit(f"error: {argv[2]!r}: too many arguments; give [seeds] [posterior|none]")
    try:
        seeds = int(argv[0]) if argv else 20
    except ValueError:
        raise SystemExit(f"error: seeds: {argv[0]!r} is not a whole number; allowed 1 to 1000") from None
    if not 1 <= seeds <= 1000:
        raise SystemExit(f"error: seeds: {seeds} is out of range; allowed 1 to 1000")
    which = argv[1] if len(argv) > 1 else POSTERIOR
    print(planner_table(seeds, "" if which == "none" else which))


if __name__ == "__main__":
    main(sys.argv[1:])
