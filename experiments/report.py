"""A sweep's report: `python -m experiments.report <sweep folder> [--points 0,12]`.

Writes report.md and a self-contained report.html (figures embedded) into
`<sweep folder>/report/`, beside the sweep's tables: a summary in words read
from the numbers, the chance each city becomes the capital per design point
(heat maps for two-lever grids, with the median months to capital), each
outcome against each lever with a 90 % band over replicates, fan charts of
every place's share over time at chosen design points, and the fiscal
accounts (subsidy paid, outlay per job and per added job, tax and tourism
returned per yuan). The engine also uses `capital_probability` and its
figure for every sweep.
"""

from __future__ import annotations

import argparse
import base64
import html
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def capital_probability(runs: pd.DataFrame, keys: list[str], cities: list[str]) -> pd.DataFrame:
    """Per design point: its parameter values, runs ok/failed, and P(capital = city) (and P(none)) over ok runs."""
    ok = runs[runs.status == "ok"]
    capital = ok["capital"].fillna("none") if "capital" in ok else pd.Series("none", index=ok.index)
    counts = pd.crosstab(ok.point_id, capital)
    columns = [*cities, "none"]
    counts = counts.reindex(columns=columns, fill_value=0)
    probs = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).add_prefix("P(capital=").rename(
        columns=lambda c: c + ")")
    points = runs.groupby("point_id")[keys].first()
    status = runs.groupby("point_id").status.value_counts().unstack(fill_value=0).reindex(
        columns=["ok", "failed"], fill_value=0).add_prefix("runs_")
    return points.join(status).join(probs).reset_index()


def plot_capital_probability(table: pd.DataFrame, keys: list[str], cities: list[str], path: Path) -> Path | None:
    """Heat maps (two varied keys) or lines (one key) of P(capital = city); scatter for larger designs."""
    if not len(table):
        return None
    short = [k.split(".", 2)[-1] if k.startswith("scenario.cities.") else k for k in keys]
    fig, axes = plt.subplots(1, len(cities), figsize=(4.2 * len(cities), 3.8), dpi=110, squeeze=False)
    for ax, city in zip(axes[0], cities):
        p = table[f"P(capital={city})"]
        if len(keys) == 2 and table[keys[0]].nunique() * table[keys[1]].nunique() == len(table):
            grid = table.pivot(index=keys[1], columns=keys[0], values=f"P(capital={city})")
            im = ax.imshow(grid.to_numpy(dtype=float), origin="lower", vmin=0, vmax=1, cmap="viridis", aspect="auto")
            ax.set_xticks(range(grid.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.columns])
            ax.set_yticks(range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.index])
            ax.set_xlabel(short[0], fontsize=8)
            ax.set_ylabel(short[1], fontsize=8)
            fig.colorbar(im, ax=ax, fraction=0.046)
        elif len(keys) >= 1:
            order = np.argsort(table[keys[0]].to_numpy())
            style = "-o" if len(keys) == 1 else "o"
            ax.plot(table[keys[0]].to_numpy()[order], p.to_numpy()[order], style, ms=3)
            ax.set_xlabel(short[0], fontsize=8)
            ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"P(capital = {city})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- the report


def _cell(column: str, v) -> str:
    """A table cell: chances as percentages, money with thousands separators, lever values as given."""
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "–"
        if column.startswith("P("):
            return f"{v:.0%}"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return str(v)


def _md_table(table: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, table.columns)) + " |\n|" + "---|" * len(table.columns) + "\n"
    return head + "".join("| " + " | ".join(_cell(c, v) for c, v in zip(table.columns, row)) + " |\n"
                          for row in table.itertuples(index=False))


def _html_table(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(c, v))}</td>" for c, v in zip(table.columns, row)) + "</tr>"
                   for row in table.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _default_points(probability: pd.DataFrame, cities: list[str]) -> list[int]:
    """The first and last design points and the best one for each city (at most five)."""
    points = [int(probability.point_id.iloc[0])]
    for city in cities:
        points.append(int(probability.loc[probability[f"P(capital={city})"].idxmax(), "point_id"]))
    points.append(int(probability.point_id.iloc[-1]))
    return list(dict.fromkeys(points))[:5]


def write_report(folder: Path, points: list[int] | None = None) -> Path:
    """Write `<folder>/report/report.md` and `report.html` with their figures; returns the report folder."""
    from experiments import figures
    from experiments.analysis import fiscal_table, load_sweep, months_to_capital, summary_sentences

    sweep = load_sweep(folder)
    out = Path(folder) / "report"
    out.mkdir(exist_ok=True)
    probability = capital_probability(sweep.runs, sweep.keys, sweep.cities)
    probability.to_csv(out / "capital_probability.csv", index=False)
    points = points if points is not None else _default_points(probability, sweep.cities)
    unknown = sorted(set(points) - set(probability.point_id))
    if unknown:
        raise ValueError(f"--points: no design point {unknown[0]}; allowed 0 to {int(probability.point_id.max())}")
    blocks: list[tuple[str, object]] = []
    labels = {k: sweep.label(k) for k in sweep.keys} | {f"P(capital={c})": f"P(capital = {sweep.names[c]})"
                                                        for c in sweep.cities} | {"P(capital=none)": "P(no capital)"}
    exp = sweep.config["experiment"]
    n_ok = int((sweep.runs.status == "ok").sum())
    blocks += [("h1", f"Sweep report: {exp['name']}"),
               ("p", f"{exp.get('description', '')} Scenario `{sweep.config['scenario']['name']}`, "
                     f"{sweep.config.get('steps')} months from {sweep.config.get('start')}; {len(sweep.runs)} runs "
                     f"({n_ok} ok) over {probability.point_id.nunique()} design points. "
                     f"Regenerate with `python -m experiments.report {folder}`."),
               ("h2", "Summary"), ("ul", summary_sentences(sweep, probability))]

    blocks += [("h2", "Chance of becoming the capital"),
               ("p", f"The capital holds at least {sweep.threshold:.0%} of national output over the trailing "
                     f"{sweep.config.get('capital_window', 12)} months at the end of the run."),
               ("table", probability.drop(columns=["runs_failed"]).rename(columns=labels))]
    if sweep.is_grid:
        cells = probability.melt(id_vars=["point_id", *sweep.keys, "runs_ok"],
                                 value_vars=[f"P(capital={c})" for c in sweep.cities], var_name="city", value_name="p")
        cells["city"] = cells.city.str.slice(10, -1)
        blocks.append(("img", figures.grid_heatmap(sweep, cells, "p", "runs_ok", "P(capital)", out / "p_capital.png",
                                                   vmax=1.0)))
        months = months_to_capital(sweep).merge(probability[["point_id", *sweep.keys]], on="point_id")
        blocks += [("h2", "Months to capital"),
                   ("p", "Median month (from the start) since which the city has held the position, over the runs it "
                         "ends as capital; n is the number of those runs; – where it never does."),
                   ("img", figures.grid_heatmap(sweep, months, "median_months", "runs_won", "median months to capital",
                                                out / "months_to_capital.png", vmax=float(sweep.config.get("steps", 60)),
                                                fmt="{:.0f}"))]
    else:
        path = plot_capital_probability(probability, sweep.keys, sweep.cities, out / "p_capital.png")
        if path:
            blocks.append(("img", path))

    blocks.append(("h2", "Outcomes against the levers"))
    for outcome in exp.get("outcomes", []):
        path = figures.outcome_figure(sweep, outcome, out / f"outcome_{outcome}.png")
        if path:
            blocks.append(("img", path))

    blocks.append(("h2", "Shares over time"))
    if sweep.cities_table is None:
        blocks.append(("p", "This sweep kept no city rows (experiment.keep_every=0), so there are no fan charts."))
    for point in points:
        path = figures.fan_chart(sweep, point, out / f"fan_point_{point}.png")
        if path:
            blocks.append(("img", path))

    from experiments.discovery import DENSITY, sweep_boxes

    boxes = sweep_boxes(sweep.runs, sweep.keys, sweep.cities)
    rows = []
    for city, box in boxes.items():
        if box is None:
            continue
        for key, (lo, hi) in (box.limits or {"(no lever restricted)": (np.nan, np.nan)}).items():
            rows.append({"city": sweep.names[city], "lever": sweep.label(key) if key in sweep.keys else key,
                         "from": lo, "to": hi, "coverage": box.coverage, "density": box.density, "mass": box.mass})
    blocks.append(("h2", "Where each city becomes the capital (PRIM)"))
    if rows:
        found = pd.DataFrame(rows)
        found.to_csv(out / "prim_boxes.csv", index=False)
        blocks += [("p", f"PRIM (EMA Workbench) boxes of lever ranges: of the boxes on the peeling trajectory, the one "
                         f"covering most of the city's wins among those where it wins in at least {DENSITY:.0%} of runs "
                         f"(or the densest). Coverage: share of all its wins inside the box; density: share of the "
                         f"box's runs it wins; mass: share of all runs in the box."),
                   ("table", found), ("img", figures.peeling_figure(sweep, boxes, out / "prim_peeling.png"))]
    else:
        blocks.append(("p", "No city becomes the capital in some runs and not in others, so there is no box to find."))

    exp_params = sweep.experiment
    if exp_params.design.value in ("sobol", "morris"):
        from experiments.sensitivity import sweep_indices

        table = sweep_indices(exp_params, sweep.runs, sweep.points(), sweep.cities)
        table["outcome"] = [o.replace(f"= {c})", f"= {sweep.names[c]})").replace(f"of {c}", f"of {sweep.names[c]}")
                            for o, c in zip(table.outcome, table.city)]
        table.to_csv(out / "sensitivity.csv", index=False)
        what = ("Sobol first-order (S1) and total (ST) indices" if exp_params.design.value == "sobol"
                else "Morris mu* (mean absolute elementary effect) and sigma")
        blocks += [("h2", "Which levers matter"),
                   ("p", f"{what} of each outcome (point means over replicates) with SALib's 95 % intervals."),
                   ("table", table.drop(columns=["city"]).assign(key=[sweep.label(k) for k in table.key])),
                   ("img", figures.sensitivity_figure(sweep, table, out / "sensitivity.png"))]

    fiscal = fiscal_table(sweep)
    fiscal.to_csv(out / "fiscal.csv", index=False)
    shown = fiscal.assign(city=fiscal.city.map(sweep.names)).rename(columns={
        "subsidy_per_year": "subsidy paid ¥/yr", "outlay_per_job": "outlay per job ¥",
        "outlay_per_added_job": "outlay per added job ¥", "return_per_yuan": "tax+tourism per ¥ of outlay"})
    blocks += [("h2", "Fiscal accounts"),
               ("p", "Medians over each design point's runs. Outlay is rewards paid, AIGC support, talent and studio "
                     "programmes. Tax and tourism per yuan count the city's whole industry, not only what its policy "
                     "added. Outlay per added job is against the city's own no-policy run (same seed)"
                     + ("." if fiscal.outlay_per_added_job.notna().any() else
                        "; this sweep did not ask for it: add `marginal_cost_per_job` to experiment.outcomes.")),
               ("table", shown.drop(columns=["point_id"]).rename(columns=labels))]
    path = figures.fiscal_figure(sweep, fiscal, out / "fiscal.png")
    if path:
        blocks.append(("img", path))
    _write(blocks, out)
    return out


def _write(blocks: list[tuple[str, object]], out: Path) -> None:
    from sim.atomic import write_text

    md, body = [], []
    for kind, value in blocks:
        if kind in ("h1", "h2"):
            md.append(("# " if kind == "h1" else "## ") + str(value))
            body.append(f"<{kind}>{html.escape(str(value))}</{kind}>")
        elif kind == "p":
            md.append(str(value))
            body.append(f"<p>{html.escape(str(value))}</p>")
        elif kind == "ul":
            md.append("\n".join(f"- {item}" for item in value))
            body.append("<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in value) + "</ul>")
        elif kind == "table":
            md.append(_md_table(value))
            body.append(_html_table(value))
        elif kind == "img":
            md.append(f"![{value.stem}]({value.name})")
            data = base64.b64encode(value.read_bytes()).decode("ascii")
            body.append(f'<p><img alt="{value.stem}" src="data:image/png;base64,{data}"></p>')
    write_text(out / "report.md", "\n\n".join(md) + "\n")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;font-size:12px}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
             "img{max-width:100%}")
    write_text(out / "report.html", f"<!doctype html><html><head><meta charset='utf-8'><title>report</title>"
                                    f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m experiments.report <sweep folder>`."""
    parser = argparse.ArgumentParser(prog="python -m experiments.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a finished sweep folder (results/sweeps/<date>/<time>_<name>)")
    parser.add_argument("--points", default=None, help="design points for the fan charts, e.g. 0,12 "
                                                       "(default: the first, the last and each city's best)")
    args = parser.parse_args(argv)
    try:
        points = [int(p) for p in args.points.split(",")] if args.points else None
    except ValueError:
        parser.exit(2, f"error: --points: {args.points!r} is not a comma-separated list of design point numbers\n")
    try:
        out = write_report(args.folder, points)
    except (FileNotFoundError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")
    print(f"report: {out / 'report.md'}\n        {out / 'report.html'}")


if __name__ == "__main__":
    main(sys.argv[1:])
