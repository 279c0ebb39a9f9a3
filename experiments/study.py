"""`.venv/bin/drama study`: the named study docs/studies/zhengzhou_vs_xian.md, regenerated from its commands.

It runs, each into results/studies/zhengzhou_vs_xian/ (a rerun resumes or
reuses what is finished):
1. the `zhengzhou_reward_vs_xian` sweep (both reward rates on a 5 x 5 grid) and its report;
2. the `zhengzhou_xian_morris` sweep (Morris screening of both cities' rates and budgets) and its report;
3. the cheapest winning policy for Zhengzhou against a fixed and against a reactive Xi'an;
4. the robust ranking of Zhengzhou's candidate policies;
5. the subsidy game, Xi'an against Zhengzhou, and with Hengdian as a third player in `national`.
Then it copies the tables and figures the document cites into
docs/studies/zhengzhou_vs_xian/ and renders the document from those copies
only (`render`), so every number in it comes from a file those commands
wrote; tests/test_study.py re-renders it from them.

    .venv/bin/drama study                 # everything, rendered into results/studies/zhengzhou_vs_xian/document/
    .venv/bin/drama study publish=true    # the same, and publish it to docs/studies/ (tracked files)
    .venv/bin/drama study --render        # is docs/studies/ the render of its copies? (add publish=true to rewrite)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from experiments.analysis.intervals import chance_text
from experiments.cli import shown as command_text
from sim.shell.atomic import atomic, write_text

ROOT = Path(__file__).resolve().parents[1]
NAME = "zhengzhou_vs_xian"
WORK = Path("results") / "studies" / NAME  # relative to the project root, as the commands are written
DOCS = ROOT / "docs" / "studies"
DATA = DOCS / NAME
RATE = "scenario.cities.{}.policy.reward_rate"
# Every replicate of every command draws its behavioural parameters and open starting sizes from the national
# posterior (docs/calibration.md): the answers carry what the facts leave loose, not only seed noise.
POSTERIOR = "national"
# The game again with each job valued at half the objective strategy's default (a month's wage, 10,000 yuan): how a
# city values a job is an assumption the sources do not fix, and the game's verdict turns on it.
HALF_WAGE = 5_000.0

COMMANDS = [
    ["experiments.sweep", "experiment=zhengzhou_reward_vs_xian", f"posterior={POSTERIOR}", f"hydra.run.dir={WORK}/grid"],
    ["experiments.report", f"{WORK}/grid", "--points", "6,10"],  # 6: both at 10 %; 10: Zhengzhou 0.2, Xi'an 0
    ["experiments.sweep", "experiment=zhengzhou_xian_morris", f"posterior={POSTERIOR}", f"hydra.run.dir={WORK}/morris"],
    ["experiments.report", f"{WORK}/morris"],
    ["experiments.optimize", "scenario=xian_vs_zhengzhou", "city=zhengzhou", "target=0.8", "rivals=fixed",
     f"posterior={POSTERIOR}", f"hydra.run.dir={WORK}/cheapest_fixed"],
    ["experiments.optimize", "scenario=xian_vs_zhengzhou", "city=zhengzhou", "target=0.8", "rivals=reactive",
     f"posterior={POSTERIOR}", f"hydra.run.dir={WORK}/cheapest_reactive"],
    ["experiments.robust", f"posterior={POSTERIOR}", f"front={WORK}/cheapest_fixed", f"out={WORK}/robust"],
    ["experiments.game", "scenario=xian_vs_zhengzhou", f"posterior={POSTERIOR}", f"hydra.run.dir={WORK}/game"],
    ["experiments.game", "scenario=xian_vs_zhengzhou", f"posterior={POSTERIOR}",
     *[f"scenario.cities.{c}.strategy.job_value={HALF_WAGE:g}" for c in ("xian", "zhengzhou")],
     f"hydra.run.dir={WORK}/game_half_wage"],
    ["experiments.game", "scenario=national", "players=[xian,zhengzhou,hengdian]", f"posterior={POSTERIOR}",
     f"hydra.run.dir={WORK}/game_national"],
]

# The files the document cites: (source under WORK, name in docs/studies/zhengzhou_vs_xian/).
COPIES = [
    ("grid/report/report.md", "grid_report.md"), ("grid/report/capital_probability.csv", "grid_capital.csv"),
    ("grid/report/fiscal.csv", "grid_fiscal.csv"), ("grid/report/prim_boxes.csv", "grid_prim_boxes.csv"),
    ("grid/report/p_capital.png", "grid_p_capital.png"), ("grid/report/months_to_capital.png", "grid_months.png"),
    ("grid/report/prim_peeling.png", "grid_prim_peeling.png"), ("grid/report/outcome_final_share.png", "grid_share.png"),
    ("morris/report/sensitivity.csv", "morris_sensitivity.csv"), ("morris/report/sensitivity.png", "morris_sensitivity.png"),
    ("cheapest_fixed/optimize.json", "cheapest_fixed.json"), ("cheapest_fixed/pareto.png", "cheapest_fixed.png"),
    ("cheapest_reactive/optimize.json", "cheapest_reactive.json"), ("cheapest_reactive/pareto.png", "cheapest_reactive.png"),
    ("robust/robust.md", "robust.md"), ("robust/summary.csv", "robust_summary.csv"),
    ("robust/by_rival.csv", "robust_by_rival.csv"),
    ("game/game.json", "game.json"), ("game/convergence.png", "game_convergence.png"),
    ("game/report.md", "game_report.md"), ("game_national/game.json", "game_national.json"),
    ("game_half_wage/game.json", "game_half_wage.json"), ("game_half_wage/report.md", "game_half_wage_report.md"),
    ("game_half_wage/convergence.png", "game_half_wage_convergence.png"),
    ("game_national/convergence.png", "game_national_convergence.png"),
    ("game_national/report.md", "game_national_report.md"),
]
FAN = "grid/report/fan_point_{}.png"
# Written by the report only when PRIM finds a box (some runs, not all, make Zhengzhou the capital), and the months
# to capital only when some city becomes the capital somewhere on the grid.
OPTIONAL = {"grid/report/prim_boxes.csv", "grid/report/prim_peeling.png", "grid/report/months_to_capital.png"}


TIMINGS = "timings.json"  # under WORK: each command's wall time in this invocation, seconds (a reused result: ~0)


def run_commands() -> None:
    """Run every command in order from the project root; stop at the first that fails. Each one's wall time goes
    to WORK/timings.json as it ends (benchmarks/newcomer.py reads it after a study on a fresh clone)."""
    timings: dict[str, float] = {}
    for args in COMMANDS:
        text = command_text(args[0], args[1:])
        print("$ " + text, flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", *args, *(["progress=false"] if "report" not in args[0] else [])],
                              cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"error: `{text}` failed (exit {done.returncode})")
        timings[text] = round(time.perf_counter() - start, 1)
        write_text(ROOT / WORK / TIMINGS, json.dumps(timings, indent=2) + "\n")


def collect(data: Path) -> None:
    """Copy the cited tables and figures from the study's folders into `data` (each file renamed into place whole)."""
    data.mkdir(parents=True, exist_ok=True)
    for source, name in COPIES:
        if source in OPTIONAL and not (ROOT / WORK / source).exists():
            (data / name).unlink(missing_ok=True)  # this command's own earlier copy, which the new runs no longer back
            continue
        atomic(data / name, lambda tmp, source=source: shutil.copyfile(ROOT / WORK / source, tmp))
    base = _base_point(pd.read_csv(data / "grid_capital.csv"))  # the point the report's --points names first
    atomic(data / "grid_fan_base.png", lambda tmp: shutil.copyfile(ROOT / WORK / FAN.format(base), tmp))


def _base_point(table: pd.DataFrame) -> int:
    """The design point at both cities' own policy (10 % each)."""
    at = table[(table[RATE.format("zhengzhou")] == 0.1) & (table[RATE.format("xian")] == 0.1)]
    return int(at.point_id.iloc[0])


def _summary(report_md: str) -> list[str]:
    block = report_md.split("## Summary", 1)[1].split("\n## ", 1)[0]
    return [line for line in block.strip().splitlines() if line.startswith("- ")]


def _grid_table(capital: pd.DataFrame) -> str:
    """Zhengzhou's chance at each grid point, with its 95 % Wilson interval (the runs per point are stated above)."""
    zz, xa = RATE.format("zhengzhou"), RATE.format("xian")
    column = "P(capital=zhengzhou)"
    cells = capital.assign(cell=[f"{p:.0%} ({lo:.0%}-{hi:.0%})" for p, lo, hi in
                                 zip(capital[column], capital[f"{column} low"], capital[f"{column} high"])])
    grid = cells.pivot(index=xa, columns=zz, values="cell").sort_index(ascending=False)
    head = "| Xi'an's rate \\ Zhengzhou's rate | " + " | ".join(f"{v:g}" for v in grid.columns) + " |\n"
    head += "|---|" + "---|" * len(grid.columns) + "\n"
    return head + "".join(f"| {y:g} | " + " | ".join(row) + " |\n" for y, row in grid.iterrows())


def _chance(row: pd.Series, city: str) -> str:
    runs = int(row.runs_ok)
    return chance_text(int(round(row[f"P(capital={city})"] * runs)), runs)


def _policy(record: dict) -> str:
    rate = record["policy"][RATE.format("zhengzhou")]
    budget = record["policy"]["scenario.cities.zhengzhou.policy.annual_budget"]
    return f"reward rate {rate:.3f}, annual budget {budget / 1e6:,.0f} M¥"


def render(data: Path = DATA) -> str:
    """The study document, from the copies in `data` only (docs/studies/zhengzhou_vs_xian/ once published)."""
    capital = pd.read_csv(data / "grid_capital.csv")
    fiscal = pd.read_csv(data / "grid_fiscal.csv")
    boxes = pd.read_csv(data / "grid_prim_boxes.csv") if (data / "grid_prim_boxes.csv").exists() else None
    morris = pd.read_csv(data / "morris_sensitivity.csv")
    cheapest = {r: json.loads((data / f"cheapest_{r}.json").read_text()) for r in ("fixed", "reactive")}
    zz, xa = RATE.format("zhengzhou"), RATE.format("xian")
    base = capital[capital.point_id == _base_point(capital)].iloc[0]
    lines = [
        "# Zhengzhou against Xi'an: does a higher reward make Zhengzhou the capital?",
        "",
        "The planner's question (MODEL-BRIEF): if Zhengzhou raises its reward, does it overtake Xi'an, how fast, at "
        "what cost per job, and what happens when Xi'an answers? Scenario `xian_vs_zhengzhou` (calibrated, "
        "docs/calibration.md), 60 months from 2024-01. Every replicate of every command draws its behavioural "
        f"parameters and open starting sizes from the `{POSTERIOR}` posterior (one parameter set per seed, the same "
        "for every policy it compares), so each chance and band covers what the facts leave loose as well as the "
        "seeds. Every number and figure here comes from the files in "
        f"[{NAME}/]({NAME}/), written by these commands (run all of them with `.venv/bin/drama study`):",
        "",
        "```sh",
        *[command_text(c[0], c[1:]) for c in COMMANDS],
        "```",
        "",
        "## 1. Both reward rates on a grid",
        "",
        "`zhengzhou_reward_vs_xian`: both cities' reward rates from 0 to 0.4 on a 5 x 5 grid, 20 replicates each "
        "(common seeds), with each city's no-policy twin for what its policy added. The report's summary, generated "
        "from its table:",
        "",
        *_summary((data / "grid_report.md").read_text()),
        "",
        f"At both cities' own policy (10 % each) Zhengzhou is the capital in "
        f"{_chance(base, 'zhengzhou')} and Xi'an in {_chance(base, 'xian')}. Chance that Zhengzhou is the capital "
        f"after 60 months, with its 95 % Wilson interval over the point's {int(capital.runs_ok.min())} runs:",
        "",
        _grid_table(capital),
        f"![P(capital)]({NAME}/grid_p_capital.png)",
        "",
        *([f"![months to capital]({NAME}/grid_months.png)", ""] if (data / "grid_months.png").exists() else
          ["No city becomes the capital anywhere on the grid, so the report draws no months to capital.", ""]),
        f"![final shares]({NAME}/grid_share.png)",
        "",
        f"Shares over time at both cities' own policy (10 % each):\n\n![fan chart]({NAME}/grid_fan_base.png)",
        "",
        "**What it costs.** Zhengzhou's outlay per job it supports and per job its policy added (against its own "
        "no-policy twin, same seed), medians over 20 runs, with Xi'an at its 10 %:",
        "",
        "| Zhengzhou's rate | subsidy paid M¥/yr | outlay per job ¥ | outlay per added job ¥ |",
        "|---|---|---|---|",
    ]
    mine = fiscal[(fiscal.city == "zhengzhou") & (fiscal[xa] == 0.1)].sort_values(zz)
    for _, r in mine.iterrows():
        added = "–" if pd.isna(r.outlay_per_added_job) else f"{r.outlay_per_added_job:,.0f}"
        lines.append(f"| {r[zz]:g} | {r.subsidy_per_year / 1e6:,.1f} | {r.outlay_per_job:,.0f} | {added} |")
    lines += ["", "**Where Zhengzhou wins (PRIM).**"]
    if boxes is not None and (boxes.city == "Zhengzhou").any():
        z = boxes[boxes.city == "Zhengzhou"]
        first = z.iloc[0]
        ranges = "; ".join(f"{r.lever} from {r['from']:.3g} to {r.to:.3g}" for _, r in z.iterrows())
        shown = f"It covers {first.coverage:.0%} of Zhengzhou's wins, Zhengzhou wins {first.density:.0%} of the runs "
        shown += f"inside it, and it holds {first['mass']:.0%} of all runs."
        if first.density >= 0.5:
            lines += [f"The PRIM box in which Zhengzhou becomes the capital: {ranges}. {shown}"]
        else:
            lines += [f"On this grid no region of the two rates makes Zhengzhou the capital in most runs: PRIM's "
                      f"densest box is {ranges}. {shown}"]
        lines += ["", f"![PRIM peeling trajectory]({NAME}/grid_prim_peeling.png)"]
    elif capital["P(capital=zhengzhou)"].max() == 0:
        lines.append("PRIM finds no box: Zhengzhou becomes the capital in none of the grid's runs.")
    elif capital["P(capital=zhengzhou)"].min() == 1:
        lines.append("PRIM finds no box: Zhengzhou becomes the capital in every run of the grid.")
    else:
        lines.append("PRIM finds no box that separates Zhengzhou's wins from its losses on this grid.")
    lines += ["", "## 2. Which levers matter", "",
              "`zhengzhou_xian_morris`: Morris screening (SALib) of both cities' reward rates (0 to 0.4) and annual "
              "budgets (12.5 to 200 M), 40 trajectories, 5 replicates per point. mu* is the mean absolute effect of "
              "one step of a lever on a point's mean outcome (SALib's Morris design with 4 levels steps two thirds "
              "of a lever's range):", "",
              "| outcome | lever | mu* | 95 % interval | sigma | converged |", "|---|---|---|---|---|---|"]
    for _, r in morris.iterrows():
        lever = r.key.split(".")[2].capitalize().replace("Xian", "Xi'an") + "'s " + r.key.rsplit(".", 1)[1].replace("_", " ")
        warning = "" if pd.isna(r.get("warning")) else str(r.get("warning") or "")
        check = "yes" if not warning else (f"({warning})" if "same at every design point" in warning else
                                           f"no: {warning}")
        lines.append(f"| {r.outcome} | {lever} | {r.mu_star:.3f} | ± {r.mu_star_conf:.3f} | {r.sigma:.3f} | "
                     f"{check} |")
    lines += ["", f"![Morris]({NAME}/morris_sensitivity.png)", "", "## 3. The cheapest winning policy for Zhengzhou", "",
              "Optuna (multi-objective TPE, 40 trials of 10 common seeds) over Zhengzhou's reward rate (0 to 0.5) and "
              "annual budget (0 to 400 M), for the least outlay with which it is the capital in at least 80 % of runs. "
              "The policy the search picks is then run on fresh seeds it never saw; it *reaches* the target only when "
              "the 95 % Wilson interval of that out-of-sample chance lies at or above 80 %. "
              "`tests/test_study_claims.py` runs these policies, and section 1's chance at both cities' own policy, "
              "again on 20 seeds no command of the study used, and fails if the wins there contradict the stated "
              "interval:",
              "", "| Xi'an | reached | policy | P(capital) on fresh seeds | on the search's seeds "
              "| Zhengzhou's outlay over 60 months |", "|---|---|---|---|---|---|"]
    for rivals, r in cheapest.items():
        fresh = r["out_of_sample"]
        lines.append(f"| {rivals} | {'yes' if r['reached'] else 'no'} | {_policy(r)} | "
                     f"{chance_text(fresh['capital'], fresh['runs'])} | {r['p_capital_search']:.0%} of "
                     f"{r['replicates']} | {r['outlay'] / 1e6:,.1f} M¥ |")
    fixed, reactive = cheapest["fixed"], cheapest["reactive"]
    if max(max(r["p_capital"], r["p_capital_search"]) for r in cheapest.values()) == 0:
        lines += ["", "None of the policies tried makes Zhengzhou the capital in any run, against either Xi'an: within "
                      "these ranges no reward or budget wins it half of national output with a 10-point lead in five "
                      "years, so the row shows only the cheapest policy tried, not a winning one."]
    if fixed["reached"] and reactive["reached"]:
        extra = reactive["outlay"] / fixed["outlay"] - 1
        lines += ["", f"Against a fixed Xi'an the cheapest policy found costs {fixed['outlay'] / 1e6:,.0f} M¥ over the "
                      f"60 months ({fixed['outlay'] / 5e6:,.0f} M¥ a year); against a Xi'an that answers, "
                      f"{reactive['outlay'] / 1e6:,.0f} M¥, {extra:+.0%}."]
        budgets = [r["policy"]["scenario.cities.zhengzhou.policy.annual_budget"] for r in (fixed, reactive)]
        spent = fiscal[(fiscal.city == "zhengzhou") & (fiscal[zz] >= 0.2)].subsidy_per_year
        if min(budgets) > 50e6 and (spent >= 0.99 * 50e6).all():
            lines[-1] += (" Both funds are larger than the grid's 50 M a year, which Zhengzhou pays out in full at "
                          "every rate from 0.2: there the fund, not the rate, binds.")
    lines += ["", f"![against a fixed Xi'an]({NAME}/cheapest_fixed.png)", "",
              f"![against a reactive Xi'an]({NAME}/cheapest_reactive.png)", ""]
    if (data / "robust.md").exists():
        lines += ["## 4. Robust across what the facts leave open", "",
                  "`.venv/bin/drama robust`: Zhengzhou's candidate policies (four named ones and the "
                  "optimiser's answer against a fixed Xi'an, section 3) in 72 scenarios: 24 parameter sets drawn "
                  f"from the `{POSTERIOR}` posterior (behaviour and starting sizes as the facts allow them together), "
                  "each with an agglomeration elasticity within the literature's 0.04 to 0.11, under a fixed, a "
                  "reactive and an imitating Xi'an; 5 common seeds per policy and scenario.", "",
                  (data / "robust.md").read_text().strip(), ""]
    if (data / "game.json").exists():
        lines += _game_sections(data)
    return "\n".join(lines)


def _game_sections(data: Path) -> list[str]:
    """Section 5: the subsidy game, Xi'an against Zhengzhou, then with Hengdian as a third player in `national`."""
    from experiments.game.report import policy_text, section

    two = json.loads((data / "game.json").read_text())
    s = two["settings"]
    announced = "; ".join(f"{p}: {policy_text(two['profiles']['announced'][p])}" for p in two["players"])
    lines = ["## 5. The subsidy game: when Xi'an answers with its best policy", "",
             "`.venv/bin/drama game`: Xi'an and Zhengzhou each set their reward rate (0 to 0.5) and annual fund "
             "(0 to 400 M) to maximise their own payoff: the jobs they hold, valued at a month's wage (10,000 yuan a "
             "job-month, the objective strategy's `job_value`), plus tax and tourism, minus their outlay, over "
             f"{two['steps']} months, discounted at 8 % a year. They answer each other in turn (iterated best "
             f"response): each answer is an Optuna search of {s['trials']} policies on {s['replicates']} common "
             f"seeds, and a city moves ({s['damping']:.0%} of the way) only when its answer gains more than its "
             f"standard error on {s['checks']} fresh seeds of the round. Where it settles is compared with the "
             f"announced policies ({announced}) and with disarmament "
             f"(neither pays anything) on {s['fresh']} seeds the game never saw, each drawing its parameter set "
             f"from the `{POSTERIOR}` posterior. Mean [95 % interval]; the full report is "
             f"[{NAME}/game_report.md]({NAME}/game_report.md).", "",
             *section(two, f"{NAME}/game_convergence.png")]
    if (data / "game_half_wage.json").exists():
        half = json.loads((data / "game_half_wage.json").read_text())
        lines += [f"### If a job is worth half a wage to the cities", "",
                  f"The same game with both cities valuing a job-month at {HALF_WAGE:,.0f} yuan instead of 10,000 "
                  "(`job_value`, an assumption: what a job is worth to a city's treasury and voters is not in the "
                  f"sources). Full report: [{NAME}/game_half_wage_report.md]({NAME}/game_half_wage_report.md).", "",
                  *section(half, f"{NAME}/game_half_wage_convergence.png")]
    if (data / "game_national.json").exists():
        three = json.loads((data / "game_national.json").read_text())
        lines += ["### With Hengdian as a third player (`national`)", "",
                  f"The same game in `national` (every documented base and the rest of the country) with Hengdian "
                  f"as a third player, its levers and bounds the same. Full report: "
                  f"[{NAME}/game_national_report.md]({NAME}/game_national_report.md).", "",
                  *section(three, f"{NAME}/game_national_convergence.png")]
    return lines


def help_page() -> str:
    """`.venv/bin/drama study --help`."""
    from sim.shell.help import Help

    return Help(
        "study",
        "Regenerate the named study, Zhengzhou against Xi'an (docs/studies/zhengzhou_vs_xian.md): it runs the "
        "study's commands in order (a grid sweep and its report, a Morris screening, the cheapest winning policy "
        "against a fixed and a reactive Xi'an, the robust analysis, the subsidy games), copies the figures and "
        f"tables it cites, and renders the document into {WORK}/document/. It is long, the games most of it (the "
        "README gives the time it took when last measured); a rerun reuses or resumes what is finished.",
        usage="[--render] [publish=true]",
        options=[("publish=true", "also rewrite the tracked docs/studies/"),
                 ("--render", "only render the document from the copies already in docs/studies/ (says whether it "
                              "is up to date; with publish=true, rewrites it)")],
        examples=["", "--render", "publish=true"],
    ).text()


def main(argv: list[str] | None = None) -> None:
    """Entry point of `.venv/bin/drama study`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    publish = "publish=true" in argv  # the commands' own spelling of the switch (key=value)
    argv = [a for a in argv if a not in ("publish=true", "publish=false")]
    parser = argparse.ArgumentParser(prog=".venv/bin/drama study", description=__doc__.split("\n\n")[0],
                                     epilog="publish=true: also rewrite the tracked docs/studies/ (default: only "
                                            f"{WORK}/document/)")
    parser.add_argument("--render", action="store_true", help="only render the document from the copies already "
                                                              "in docs/studies/ (with publish=true, write it there)")
    args = parser.parse_args(argv)
    if args.render:
        text = render(DATA)
        target = DOCS / f"{NAME}.md"
        if publish:
            write_text(target, text)
            print(f"written: {target.relative_to(ROOT)}")
        else:
            same = target.exists() and target.read_text(encoding="utf-8") == text
            print(f"{target.relative_to(ROOT)} is " + ("up to date" if same else "stale; rerun with publish=true"))
        return
    run_commands()
    out = DOCS if publish else ROOT / WORK / "document"
    collect(out / NAME)
    write_text(out / f"{NAME}.md", render(out / NAME))
    print(f"written: {(out / f'{NAME}.md').relative_to(ROOT)}" +
          ("" if publish else "  (docs/ unchanged; add publish=true to publish the study there)"))


if __name__ == "__main__":
    main()
