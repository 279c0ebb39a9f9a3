"""Robust decisions (RDM): Zhengzhou's candidate policies across what the facts leave open.

    .venv/bin/drama robust                      # 24 scenarios x 3 rival strategies x 4 policies, 5 seeds each
    .venv/bin/drama robust scenarios=48 seeds=10 out=results/robust/wide
    .venv/bin/drama robust posterior=national front=results/optimize/<folder>   # posterior draws; the front

A *scenario* is one state of the world the sources do not pin down: the
behaviour parameters within their calibration spread (docs/calibration.md,
`docs/calibration/national.json`), agglomeration within the literature's
range, the starting sizes within the ranges of the city files, and Xi'an's
strategy (fixed, reactive or imitating). The scenarios are a Latin hypercube
over the continuous ones, crossed with the three strategies. With
`posterior=<name>` the behaviour and starting sizes are instead drawn, by
weight, from that published posterior (experiments/calibration/posterior.py): the
combinations the facts allow together, not a box around each alone; the
agglomeration elasticity, which the posterior holds fixed, stays a Latin
hypercube over the literature's range. The candidates are four named
policies, plus with `front=<folder>` the Pareto front (or the answer) of an
`experiments.optimize` run in that folder. Every candidate
policy is run in every scenario on the same seeds (common random numbers),
through the sweep engine (parallel, resumable: rerun the command to finish
an interrupted one).

For each policy the command reports, in the vocabulary of robust decision
making (Lempert, Popper & Bankes 2003; Kwakkel 2017's EMA Workbench):
- its outcome across scenarios (Zhengzhou's share of national output, mean
  and 90 % band);
- its **regret** in each scenario: how far its share falls below the best
  candidate's there (0 for the best), with the maximum and mean over
  scenarios; the minimax-regret policy is the robust choice;
- the share of scenarios in which it **satisfices**: Zhengzhou holds at
  least `min_share` of national output while paying at most `max_outlay`
  a year, with its Wilson interval;
- the **robust choice**: the policy that satisfices in the most scenarios
  (the criterion carries the planner's cost ceiling, which regret on share
  alone would ignore), the least maximum regret breaking ties;
- for the robust choice, the scenarios in which it fails to satisfice,
  found by PRIM over the uncertainties (`experiments.analysis.discovery`);
- per strategy of Xi'an, the policy that is best most often, and the one
  that satisfices most often (by_rival.csv).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from experiments.batch.design import DesignKind, ExperimentParams, ParameterSpec, design_points
from experiments.analysis.intervals import band, wilson
from experiments.calibration.posterior import load_posterior
from sim import load_config
from sim.params import ParamError, to_dict
from sim.shell.atomic import write_csv, write_text
from sim.shell.config import PROJECT_ROOT

CITY = "zhengzhou"
Z = f"scenario.cities.{CITY}.policy."
POLICIES = {  # Zhengzhou's candidates: its announced policy, the planner's question, and a bolder one
    "base (10 %, 50 M)": {},
    "reward 20 %": {f"{Z}reward_rate": 0.2},
    "reward 20 %, budget 100 M": {f"{Z}reward_rate": 0.2, f"{Z}annual_budget": 100e6},
    "reward 30 %, budget 200 M": {f"{Z}reward_rate": 0.3, f"{Z}annual_budget": 200e6},
}
RIVAL = "scenario.cities.xian.strategy.kind"
RIVALS = ("fixed", "reactive", "imitate")
# The continuous uncertainties and where their ranges come from.
LITERATURE = {"scenario.behaviour.agglomeration": (0.04, 0.11)}  # Rosenthal & Strange (2004)
STARTS = {"scenario.cities.zhengzhou.firms": (75, 145),  # configs/city/zhengzhou.yaml's range
          "scenario.cities.xian.firms": (425, 530)}  # configs/city/xian.yaml's range
SPREAD = PROJECT_ROOT / "docs" / "calibration" / "national.json"
UNITS = "scenario.units."  # the units of account move no company: not an uncertainty of the contest
STEPS = 60


def uncertainties() -> dict[str, tuple[float, float]]:
    """Each uncertain key and its range: the national fit's spread for its behaviour, the literature, the files."""
    spread = json.loads(SPREAD.read_text())["spread"]
    ranges = {k: (v["low"], v["high"]) for k, v in spread.items() if not k.startswith(UNITS)}
    return {**ranges, **LITERATURE, **STARTS}


def _lhs(ranges: dict[str, tuple[float, float]], n: int, seed: int) -> pd.DataFrame:
    """`n` Latin-hypercube points over `ranges`, drawn by the sweep engine's own design (experiments.batch.design)."""
    exp = ExperimentParams(name="robust_scenarios", design=DesignKind.lhs, samples=n, root_seed=seed, replicates=1,
                           parameters=tuple(ParameterSpec(k, low=lo, high=hi) for k, (lo, hi) in ranges.items()))
    return design_points(exp).drop(columns="point_id")


def scenarios(n: int, seed: int = 0, posterior: str = "", base: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    """`n` states of the world, each under every rival strategy, and the uncertain keys PRIM may restrict.

    Without a posterior: a Latin hypercube over `uncertainties()`. With one:
    `n` parameter sets drawn by weight from it (behaviour and starting sizes
    together, as the facts allow them), each beside a Latin-hypercube draw
    of what the posterior holds fixed (the agglomeration elasticity, within
    the literature's range).
    """
    if not posterior:
        draws = _lhs(uncertainties(), n, seed)
        for key in STARTS:
            draws[key] = draws[key].round().astype(int)
        keys = list(draws.columns)
    else:
        drawn = load_posterior(posterior)
        states = np.random.SeedSequence([seed, 0x5CE7]).generate_state(n, dtype=np.uint64) >> np.uint64(1)
        sets = pd.DataFrame([drawn.values(drawn.index_for(int(s)), base) for s in states])
        open_keys = [k for k in drawn.keys if k in sets.columns and not k.startswith(UNITS)]  # units move no firm
        draws = pd.concat([sets, _lhs(LITERATURE, n, seed)], axis=1)
        keys = open_keys + list(LITERATURE)
    table = draws.merge(pd.DataFrame({RIVAL: RIVALS}), how="cross")
    table.insert(0, "scenario", np.arange(len(table)))
    return table, keys


def front_policies(folder: Path) -> dict[str, dict]:
    """Candidate policies from an optimiser's run: its Pareto front (optimize.json), or its answer when the front is
    empty; named by their levers."""
    path = folder / "optimize.json"
    if not path.exists():
        raise SystemExit(f"error: front={folder}: no optimize.json there (.venv/bin/drama optimize writes one)")
    record = json.loads(path.read_text())
    levers = list(record["policy"])
    rows = record.get("frontier") or [record["policy"]]
    out = {}
    for row in rows:
        policy = {k: float(row[k]) for k in levers}
        name = "front: " + ", ".join(_lever_text(k, v) for k, v in policy.items())
        out[name] = policy
    return out


def _lever_text(key: str, value: float) -> str:
    lever = key.rsplit(".", 1)[-1]
    return f"budget {value / 1e6:,.0f} M" if lever == "annual_budget" else (
        f"reward {value:.0%}" if lever == "reward_rate" else f"{lever} {value:g}")


def experiment(table: pd.DataFrame, seeds: int, policies: dict[str, dict] | None = None
               ) -> tuple[ExperimentParams, pd.DataFrame]:
    """Every policy in every scenario, as a `points` design for the sweep engine, and the design as a table."""
    rows = []
    for name, levers in (POLICIES if policies is None else policies).items():
        for _, s in table.iterrows():
            rows.append({"policy": name, "scenario": int(s.scenario), **s.drop("scenario").to_dict(),
                         f"{Z}reward_rate": levers.get(f"{Z}reward_rate", 0.1),
                         f"{Z}annual_budget": levers.get(f"{Z}annual_budget", 50e6)})
    design = pd.DataFrame(rows)
    keys = [c for c in design.columns if c not in ("policy", "scenario")]
    params = tuple(ParameterSpec(k, values=tuple(_plain(v) for v in design[k].tolist())) for k in keys)
    return ExperimentParams(name="robust", description="candidate policies across the open uncertainties",
                            parameters=params, design=DesignKind.points, replicates=seeds, root_seed=20240105,
                            outcomes=("final_share", "outlay_total"), keep_every=0), design


def _plain(value):
    """A design value as the sweep's plain data: whole floats of an integer key stay integers."""
    return value.item() if hasattr(value, "item") else value


def regret(outcomes: pd.DataFrame, value: str) -> pd.Series:
    """Per (policy, scenario) row: the best policy's `value` in that scenario minus this one's (larger is better)."""
    best = outcomes.groupby("scenario")[value].transform("max")
    return best - outcomes[value]


def summarise(outcomes: pd.DataFrame, min_share: float, max_outlay: float) -> pd.DataFrame:
    """One row per policy: share across scenarios (mean, 90 % band), regret (max, mean) and satisficing."""
    outcomes = outcomes.assign(regret=regret(outcomes, "share"),
                               satisfices=(outcomes.share >= min_share) & (outcomes.outlay_per_year <= max_outlay))
    rows = []
    for name, g in outcomes.groupby("policy", sort=False):
        low, high = band(g.share.to_numpy())
        ok = int(g.satisfices.sum())
        ci = wilson(ok, len(g))
        rows.append({"policy": name, "share_mean": g.share.mean(), "share_low": low, "share_high": high,
                     "outlay_per_year": g.outlay_per_year.mean(), "regret_max": g.regret.max(),
                     "regret_mean": g.regret.mean(), "satisficing": ok / len(g), "satisficing_low": ci[0],
                     "satisficing_high": ci[1], "scenarios": len(g)})
    return pd.DataFrame(rows)


def outcomes_of(runs: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """Mean share and outlay a year of Zhengzhou per (policy, scenario), over the replicates that ran."""
    ok = runs[runs.status == "ok"]
    means = ok.groupby("point_id")[[f"final_share.{CITY}", f"outlay_total.{CITY}"]].mean()
    table = design.reset_index(drop=True).rename_axis("point_id").join(means, how="inner")
    return table.rename(columns={f"final_share.{CITY}": "share"}).assign(
        outlay_per_year=table[f"outlay_total.{CITY}"] / (STEPS / 12)).drop(columns=[f"outlay_total.{CITY}"])


def robust_choice(summary: pd.DataFrame) -> str:
    """The policy satisficing in the most scenarios; among equals, the one of least maximum regret."""
    ranked = summary.sort_values(["satisficing", "regret_max"], ascending=[False, True], kind="stable")
    return str(ranked.policy.iloc[0])


def best_by_rival(outcomes: pd.DataFrame, min_share: float, max_outlay: float) -> pd.DataFrame:
    """Per rival strategy: how often each policy is the best (least regret) and how often it satisfices."""
    outcomes = outcomes.assign(best=regret(outcomes, "share") <= 1e-12,
                               satisfices=(outcomes.share >= min_share) & (outcomes.outlay_per_year <= max_outlay))
    return (outcomes.groupby([RIVAL, "policy"], sort=False)
            .agg(best=("best", "mean"), satisficing=("satisfices", "mean"), share=("share", "mean")).reset_index())


def render_by_rival(table: pd.DataFrame) -> str:
    """How the best policy changes with Xi'an's strategy, as a markdown table."""
    lines = ["| Xi'an's strategy | best in most scenarios (share of them) | satisficing most often (share) |",
             "|---|---|---|"]
    for rival, g in table.groupby(RIVAL, sort=False):
        best = g.loc[g.best.idxmax()]
        sat = g.loc[g.satisficing.idxmax()]
        lines.append(f"| {rival} | {best.policy} ({best.best:.0%}) | {sat.policy} ({sat.satisficing:.0%}) |")
    return "\n".join(lines) + "\n"


def render(summary: pd.DataFrame, failing: str, min_share: float, max_outlay: float,
           by_rival: pd.DataFrame | None = None) -> str:
    head = ("| policy | Zhengzhou's share: mean (90 % band over scenarios) | outlay M¥/yr | max regret | mean regret "
            "| satisfices (95 % interval) |\n|---|---|---|---|---|---|\n")
    body = "".join(f"| {r.policy} | {r.share_mean:.1%} ({r.share_low:.1%} to {r.share_high:.1%}) | "
                   f"{r.outlay_per_year / 1e6:,.1f} | {r.regret_max:.2%} | {r.regret_mean:.2%} | "
                   f"{r.satisficing:.0%} ({r.satisficing_low:.0%} to {r.satisficing_high:.0%}) of {r.scenarios} |\n"
                   for r in summary.itertuples())
    robust = robust_choice(summary)
    chosen = summary.set_index("policy").loc[robust]
    others = summary[summary.policy != robust]
    if len(others):
        runner = others.loc[others.satisficing.idxmax()]
        if runner.satisficing_high >= chosen.satisficing_low:
            failing += (f" Its satisficing share's interval overlaps that of {runner.policy} "
                        f"({runner.satisficing:.0%}, {runner.satisficing_low:.0%} to {runner.satisficing_high:.0%}): "
                        "over these scenarios the two are not told apart.")
    return (f"Satisficing: Zhengzhou holds at least {min_share:.0%} of national output at an outlay of at most "
            f"{max_outlay / 1e6:,.0f} M yuan a year. Regret: points of share below the best candidate in the same "
            f"scenario.\n\n{head}{body}\nThe robust choice (satisficing in the most scenarios, then least maximum regret): "
            f"**{robust}**. {failing}\n"
            + ("" if by_rival is None else "\nHow the best policy changes with Xi'an's strategy (over the same "
               "scenarios; best: the largest share of national output for Zhengzhou in that scenario):\n\n"
               + render_by_rival(by_rival)))


def _number(options: dict, key: str, kind: type, low: float, high: float):
    """The option as a number within [low, high], or a one-line error naming the key and the allowed range."""
    try:
        value = kind(float(options[key])) if kind is int else kind(options[key])
    except ValueError:
        raise SystemExit(f"error: {key}={options[key]!r} is not a number; allowed [{low:g}, {high:g}]") from None
    if not low <= value <= high or (kind is int and float(options[key]) != value):
        raise SystemExit(f"error: {key}={options[key]} is out of range; allowed {'whole numbers in ' if kind is int else ''}"
                         f"[{low:g}, {high:g}]")
    return value


def main(argv: list[str]) -> None:
    from experiments.analysis.discovery import find_box
    from experiments.batch.engine import run_sweep

    options = {"scenarios": "24", "seeds": "5", "min_share": "0.12", "max_outlay": "100e6",
               "out": "results/robust/zhengzhou", "progress": "true", "posterior": "", "front": ""}
    for arg in argv:
        key, _, value = arg.partition("=")
        if key not in options or not value:
            raise SystemExit(f"error: {arg!r}: not an option; allowed {', '.join(f'{k}=...' for k in options)}")
        options[key] = value
    n = _number(options, "scenarios", int, 1, 10_000)
    seeds = _number(options, "seeds", int, 1, 1_000)
    min_share = _number(options, "min_share", float, 0.0, 1.0)
    max_outlay = _number(options, "max_outlay", float, 0.0, 1e12)
    if options["progress"] not in ("true", "false"):
        raise SystemExit(f"error: progress={options['progress']!r}: allowed true or false")
    folder = PROJECT_ROOT / options["out"] if not Path(options["out"]).is_absolute() else Path(options["out"])
    if options["posterior"]:
        try:
            load_posterior(options["posterior"])
        except ParamError as err:
            raise SystemExit(f"error: {err}") from None
    policies = dict(POLICIES)
    if options["front"]:
        front = Path(options["front"])
        policies.update(front_policies(front if front.is_absolute() else PROJECT_ROOT / front))
    base = load_config("xian_vs_zhengzhou", [f"steps={STEPS}", "counterfactual=false"])
    table, keys = scenarios(n, posterior=options["posterior"], base=to_dict(base))
    exp, design = experiment(table, seeds, policies)
    runs = run_sweep(exp, base, folder / "runs", progress=options["progress"] != "false")
    outcomes = outcomes_of(runs, design)
    summary = summarise(outcomes, min_share, max_outlay)
    robust = robust_choice(summary)
    mine = outcomes[outcomes.policy == robust]
    fails = ~((mine.share >= min_share) & (mine.outlay_per_year <= max_outlay))
    x = mine[keys].assign(**{RIVAL: mine[RIVAL].map({r: i for i, r in enumerate(RIVALS)})})
    box = find_box(x, fails.to_numpy(), CITY)
    if box is None:
        failing = ("It satisfices in every scenario." if not fails.any() else
                   "It fails in every scenario: no region of the uncertainties rescues it.")
    else:
        ranges = "; ".join(f"{k} from {lo:.3g} to {hi:.3g} (quasi-p {box.qp.get(k, float('nan')):.1g}, restricted "
                           f"in {box.reproducibility.get(k, float('nan')):.0%} of PRIM runs on random halves)"
                           for k, (lo, hi) in box.limits.items())
        failing = (f"It fails where PRIM's box holds ({ranges}; rival strategies coded {dict(enumerate(RIVALS))}): "
                   f"{box.density:.0%} of the scenarios in the box fail, and the box holds {box.coverage:.0%} of "
                   "its failures.")
    write_csv(outcomes, folder / "outcomes.csv")
    write_csv(summary, folder / "summary.csv")
    by_rival = best_by_rival(outcomes, min_share, max_outlay)
    write_csv(by_rival, folder / "by_rival.csv")
    text = render(summary, failing, min_share, max_outlay, by_rival)
    write_text(folder / "robust.md", text)
    print(text)
    print(f"outputs: {folder}")


if __name__ == "__main__":
    main(sys.argv[1:])
