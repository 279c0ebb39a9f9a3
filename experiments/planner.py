"""The planner's question in numbers: base, doubled reward, doubled with Xi'an answering, doubled with the budget.

`python -m experiments.planner [seeds]` prints the table README shows
(`tests/test_docs.py` reruns it): means over seeds 0..seeds-1 of the
default scenario, 60 months, Zhengzhou's no-policy counterfactual per seed.
"""

from __future__ import annotations

import sys

import numpy as np

from sim import ContestModel, load_config
from sim.counterfactual import added_by_policy

Z = "scenario.cities.zhengzhou."
CASES = {
    "base (10 %, 50 M)": [],
    "reward 20 %": [f"{Z}policy.reward_rate=0.2"],
    "reward 20 %, Xi'an reactive": [f"{Z}policy.reward_rate=0.2", "scenario.cities.xian.strategy.kind=reactive"],
    "reward 20 %, budget 100 M": [f"{Z}policy.reward_rate=0.2", f"{Z}policy.annual_budget=100e6"],
}


def planner_table(seeds: int = 20) -> str:
    """The table of means over `seeds` replicates, as Markdown."""
    lines = ["| case | Zhengzhou share | Xi'an share | Zhengzhou paid M¥/yr | jobs added by Zhengzhou's policy | ¥ per added job |",
             "|---|---|---|---|---|---|"]
    for name, overrides in CASES.items():
        rows = []
        for seed in range(seeds):
            model = ContestModel(load_config("xian_vs_zhengzhou", [f"seed={seed}", *overrides])).run()
            s = model.summary()
            added = added_by_policy(model, cities=["zhengzhou"])
            rows.append((s["final_share"]["zhengzhou"], s["final_share"]["xian"],
                         s["subsidy_total"]["zhengzhou"] / (model.steps / 12) / 1e6,
                         added["added_jobs"]["zhengzhou"], s["outlay_total"]["zhengzhou"]))
        z, x, paid, jobs, outlay = np.array(rows).T
        per_job = outlay.mean() / jobs.mean() if jobs.mean() >= 1 else float("nan")
        lines.append(f"| {name} | {z.mean():.1%} | {x.mean():.1%} | {paid.mean():.1f} | {jobs.mean():,.0f} | "
                     f"{per_job:,.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(planner_table(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
