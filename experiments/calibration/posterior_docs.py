"""The posterior calibration's run, its files and its part of docs/calibration.md.

`run_posterior` runs the ABC-SMC search (experiments/calibration/posterior.py) through
one evaluator; `write_posterior` writes into the run folder:

    posterior.csv        the ensemble (keys and weights, provenance on top)
    posterior.json       the record docs/calibration.md is rendered from
    posterior.png        1-D and 2-D marginals (pyabc's weighted KDE matrix)
    generations.csv      per generation: tolerance, accepted sets, runs
    simulations.parquet  every run of the search, with its parameters and facts
    check.parquet        the posterior predictive check's runs
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.calibration.search import CalibrationParams  # noqa: E402
from experiments.batch.evaluators import make_evaluator  # noqa: E402
from experiments.calibration.facts import FACTS  # noqa: E402
from experiments.calibration.posterior import (Posterior, PosteriorParams, PosteriorResult, StartingSize,  # noqa: E402
                                   fit_posterior, posterior_csv, summary)
from sim.params import RunParams, to_dict  # noqa: E402
from sim.shell.atomic import atomic, save_figure, write_json, write_text  # noqa: E402
from sim.shell.folders import FolderLock  # noqa: E402
from sim.shell.runner import git_revision  # noqa: E402


def run_posterior(cal: CalibrationParams, post: PosteriorParams, sizes: tuple[StartingSize, ...], base: RunParams,
                  folder: Path, backend: str = "local", workers: int = 0, address: str | None = None,
                  progress: bool = True, path: str = "fast") -> PosteriorResult:
    """The ABC-SMC search and its predictive check, in `folder`, on one pool or cluster, runs on `path`."""
    base_dict = to_dict(base)
    print(f"posterior of {base.scenario.name}: {len(cal.parameters)} parameters and {len(sizes)} starting sizes, "
          f"{post.population} sets per generation, at most {post.generations} generations and "
          f"{post.max_simulations:,} runs of {base.steps} months")
    with FolderLock(folder), make_evaluator(backend, base_dict, workers, address, path) as evaluator:
        return fit_posterior(cal.parameters, sizes, post, base_dict, base.scenario.name, folder, evaluator, progress)


def write_posterior(result: PosteriorResult, cal: CalibrationParams, post: PosteriorParams,
                    sizes: tuple[StartingSize, ...], folder: Path, command: str) -> dict:
    """Write the ensemble, its record, figure and tables into the run folder; returns the record."""
    from dataclasses import asdict

    import pyabc

    record = summary(result, cal.parameters, sizes)
    last = result.generations.iloc[-1]
    record.update({
        "kind": "posterior", "command": command, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "method": f"pyabc {pyabc.__version__} ABC-SMC through the sweep engine's evaluators",
        "settings": asdict(post), "final_epsilon": float(last.epsilon),
        "reached_min_epsilon": bool(last.epsilon <= post.min_epsilon),
        "sizes": [asdict(s) for s in sizes],
        "fixed": {key: reason for key, reason in cal.fixed},
    })
    header = [f"Posterior of scenario {result.scenario}: {len(result.posterior)} parameter sets and their weights "
              f"(pyabc ABC-SMC). Do not edit by hand: rerun",
              f"  {command}",
              f"Written {record['date'][:10]} at git {record['git_revision']}; final tolerance "
              f"{record['final_epsilon']:.3f} (largest normalised miss of a fitted fact); docs/calibration.md"]
    write_text(folder / "posterior.csv", posterior_csv(result.posterior, header))
    write_json(folder / "posterior.json", record)
    atomic(folder / "generations.csv", lambda tmp: result.generations.to_csv(tmp, index=False))
    atomic(folder / "simulations.parquet", lambda tmp: result.simulations.to_parquet(tmp, index=False))
    atomic(folder / "check.parquet", lambda tmp: result.check.to_parquet(tmp, index=False))
    plot_posterior(result.posterior, record, folder / "posterior.png")
    return record


def short(key: str) -> str:
    """A key as a figure label: 'scenario.cities.xian.firms' -> 'xian firms', 'scenario.market.x' -> 'market x'."""
    parts = key.removeprefix("scenario.").split(".")
    return " ".join(parts[1:]) if parts[0] == "cities" else " ".join(parts)


def plot_posterior(posterior: Posterior, record: dict, path: Path) -> Path:
    """pyabc's weighted KDE matrix: each key's marginal on the diagonal, each pair's joint density off it."""
    from pyabc.visualization import plot_kde_matrix

    limits = {m["key"]: (m["prior_low"], m["prior_high"]) for m in record["marginals"]}
    frame = posterior.table[posterior.keys]
    axes = plot_kde_matrix(frame, posterior.table["weight"].to_numpy(), limits=limits, height=1.7, colorbar=False,
                           names={k: short(k) for k in posterior.keys})
    fig = np.asarray(axes).flat[0].figure
    title = (f"{record['scenario']}: posterior of {len(posterior)} parameter sets over their prior ranges "
             "(diagonal: marginals; below: pairs' densities; above: the sets)")
    width_chars = int(fig.get_figwidth() * 11)  # about 11 characters an inch at 9 points
    wrapped = textwrap.fill(title, width_chars)
    fig.suptitle(wrapped, fontsize=9)
    for ax in np.asarray(axes).flat:
        ax.tick_params(labelsize=6)
        ax.xaxis.label.set_fontsize(7)
        ax.yaxis.label.set_fontsize(7)
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.17 * (wrapped.count("\n") + 1) + 0.1) / fig.get_figheight()))
    save_figure(fig, path, dpi=90)
    plt.close(fig)
    return path


def _num(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def console(record: dict) -> str:
    """The ensemble's summary for the terminal."""
    lines = [f"{record['sets']} parameter sets (effective {record['effective_sets']:.0f}), {record['runs']:,} runs, "
             f"final tolerance {record['final_epsilon']:.3f}:"]
    for m in record["marginals"]:
        lines.append(f"  {m['key']}: median {_num(m['median'])}, 90 % {_num(m['q5'])} to {_num(m['q95'])} "
                     f"(prior {_num(m['prior_low'])} to {_num(m['prior_high'])}, {m['share_of_prior']:.0%} of it)")
    for c in record["check"]:
        lines.append(f"  check {c['id']} ({c['role']}): {c['share_holding']:.0%} of {c['runs']} draws hold it")
    return "\n".join(lines)


def edge_note(m: dict, margin: float = 0.1) -> str:
    """A sentence when a marginal crowds one end of its prior: its median in the outer quarter and its 90 %
    interval within `margin` of that end (the facts would allow values beyond a range that is itself an
    assumption), else ''."""
    f = np.log if m["log"] else (lambda v: v)
    lo, hi = f(m["prior_low"]), f(m["prior_high"])
    width = hi - lo
    ends = []
    if f(m["q95"]) >= hi - margin * width and f(m["median"]) >= lo + 0.75 * width:
        ends.append(f"its upper end ({_num(m['prior_high'])})")
    if f(m["q5"]) <= lo + margin * width and f(m["median"]) <= lo + 0.25 * width:
        ends.append(f"its lower end ({_num(m['prior_low'])})")
    if not ends:
        return ""
    return (f"`{m['key']}` presses against {' and '.join(ends)} of its prior: the facts would allow values beyond "
            "it, which the assumed range rules out; the answers drawn from this posterior inherit that range.")


def section(record: dict) -> list[str]:
    """The posterior's part of docs/calibration.md."""
    scenario = record["scenario"]
    out = [f"## {scenario}: the posterior\n",
           f"Reproduce: `{record['command']}` (written {record['date']}, git `{record['git_revision']}`; "
           f"{record['runs']:,} runs in {record['wall_time_s']:.0f} s).\n",
           f"**Method.** {record['method']}: priors uniform on each parameter's plausible range (log-uniform where "
           "the range spans a decade) and on each starting size the sources leave open; a run's distance from the "
           "facts is its largest normalised miss over the fitted facts (below 1 exactly when every fitted fact holds "
           "in that run); each generation's tolerance is the previous one's median distance. "
           f"{record['sets']} weighted parameter sets (effective sample size {record['effective_sets']:.0f}) remain "
           f"after {len(record['generations'])} generations, at a final tolerance of "
           f"**{record['final_epsilon']:.3f}**"
           + (" (every accepted run holds every fitted fact)." if record["reached_min_epsilon"] else
              f" (the search stopped before reaching {record['settings']['min_epsilon']:g}).") + " "
           f"Runs of `{scenario}` draw from it with `posterior={scenario}` (sweeps, the optimiser, the study, "
           "`run_once`): each replicate seed meets one set, drawn by weight.\n",
           "| generation | tolerance | sets accepted | runs | acceptance |", "|---|---|---|---|---|"]
    for g in record["generations"]:
        out.append(f"| {g['generation']} | {g['epsilon']:.3f} | {g['accepted']} | {g['runs']:,} | "
                   f"{g['acceptance_rate']:.0%} |")
    out += ["", "**Marginals.** Each parameter's weighted median and 90 % interval against its prior range; "
            "the share says how much of the prior range the facts leave open (near 100 %: they do not pin it).\n",
            "| parameter | prior | median | 90 % interval | share of the prior left |", "|---|---|---|---|---|"]
    for m in record["marginals"]:
        prior = f"{_num(m['prior_low'])} to {_num(m['prior_high'])}" + (" (log)" if m["log"] else "")
        out.append(f"| `{m['key']}` | {prior} | {_num(m['median'])} | {_num(m['q5'])} to {_num(m['q95'])} | "
                   f"{m['share_of_prior']:.0%} |")
    edges = [edge_note(m) for m in record["marginals"]]
    if any(edges):
        out += [""] + [f"- {e}" for e in edges if e]
    strong = [p for p in record["pairs"] if abs(p["correlation"]) >= 0.3]
    out += ["", "**Pairs that trade off** (weighted correlation over the posterior of 0.3 or more in size: the facts "
            "allow more of one with "
            "less, or more, of the other):\n"]
    if strong:
        out += ["| parameter | parameter | correlation |", "|---|---|---|"]
        out += [f"| `{p['a']}` | `{p['b']}` | {p['correlation']:+.2f} |" for p in strong]
    else:
        out.append("none: no pair's weighted correlation reaches 0.3.")
    out += ["", "**Which facts pin what.** Over the first generation (drawn from the priors), the rank correlation "
            "of each parameter with each fitted fact's simulated value; the strongest fact for each parameter is "
            "the one that pins it.\n"]
    texts = {f.id: f.text for f in FACTS}
    out += ["| parameter | the fact that moves most with it | rank correlation | next |", "|---|---|---|---|"]
    for key in record["keys"]:
        rows = sorted((p for p in record["pins"] if p["key"] == key), key=lambda p: -abs(p["spearman"]))
        if not rows:
            continue
        first = rows[0]
        nxt = f"{texts.get(rows[1]['fact'], rows[1]['fact'])} ({rows[1]['spearman']:+.2f})" if len(rows) > 1 else "-"
        out.append(f"| `{key}` | {texts.get(first['fact'], first['fact'])} | {first['spearman']:+.2f} | {nxt} |")
    out += ["", f"**Posterior predictive check.** {record['settings']['check_draws']} sets drawn by weight, each run "
            "once on a fresh seed; how often each fact holds in a single run (fitted and held-out alike):\n",
            "| fact | role | target | mean | 90 % band | runs holding it |", "|---|---|---|---|---|---|"]
    for c in record["check"]:
        out.append(f"| {texts.get(c['id'], c['id'])} | {c['role']} | {_num(c['target'])} | {_num(c['mean'])} | "
                   f"{_num(c['p5'])} to {_num(c['p95'])} | {c['share_holding']:.0%} of {c['runs']} |")
    if record.get("sizes"):
        out += ["", "Starting sizes covered (each range read from its source, back-cast to January 2024):\n"]
        out += [f"- {s['city']}: {s['low']} to {s['high']} companies ({s['reason']})" for s in record["sizes"]]
    out += ["", f"![posterior of {scenario}](img/calibration_{scenario}_posterior.png)\n"]
    return out
