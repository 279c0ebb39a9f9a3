"""A sweep's report: `.venv/bin/drama report <sweep folder> [--points 0,12]`.

Writes report.md and a self-contained report.html (figures embedded) into
`<sweep folder>/report/`, beside the sweep's tables: a summary in words read
from the numbers, the chance each city becomes the capital per design point
(heat maps for two-lever grids, with the median months to capital), each
outcome against each lever with a 90 % band over replicates, fan charts of
every place's share over time at chosen design points, and the fiscal
accounts (subsidy paid, outlay per job and per added job, tax and tourism
returned per yuan). The chance table is the one the sweep engine wrote
(experiments/batch/capital.py); the sweep command draws its figure with
`plot_capital_probability`.

Everything is checked before anything is written: the sweep's files, the
arguments, and that `report/` holds nothing but an earlier report's files
(those listed in its `.drama-report` marker; without a marker, the names the
report writes). The new report is written into a hidden folder inside
`report/` and only then moved over the earlier one, so a failure (a full
disk) leaves the earlier report whole and no file half-written under its name.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import html
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.analysis.tables import SweepError  # noqa: E402
from experiments.batch.capital import written_or_computed  # noqa: E402
from sim.shell.atomic import save_figure, write_csv, write_text  # noqa: E402

MARKER = ".drama-report"  # in report/: the names of the files the report wrote there
STAGING = ".partial-"  # prefix of the folder inside report/ a new report is written into
# What a report wrote before it kept a marker: recognised as its own only in a folder without one.
EARLIER = re.compile(r"report\.(md|html)|capital_probability\.csv|p_capital\.png|months_to_capital\.png"
                     r"|outcome_\w+\.png|fan_point_\d+\.png|prim_boxes\.csv|prim_peeling\.png"
                     r"|sensitivity\.(csv|png)|fiscal\.(csv|png)|crossings\.csv")


def top_levers(table: pd.DataFrame, keys: list[str], column: str, k: int = 2) -> list[str]:
    """The `k` levers whose values go most with `column` (largest absolute Spearman rank correlation over the
    design points; categories by their codes); the first `k` keys when the column does not vary."""
    y = table[column]
    if y.nunique() < 2:
        return keys[:k]
    strength = {}
    for key in keys:
        x = table[key] if pd.api.types.is_numeric_dtype(table[key]) else table[key].astype("category").cat.codes
        r = x.rank().corr(y.rank())
        strength[key] = 0.0 if pd.isna(r) else abs(r)
    return sorted(keys, key=lambda key: -strength[key])[:k]


def plot_capital_probability(table: pd.DataFrame, keys: list[str], cities: list[str], path: Path,
                             names: dict[str, str] | None = None) -> Path | None:
    """Heat maps (a two-lever grid) or lines (one lever) of P(capital = city); for a sampled design, a scatter over
    the two levers that go most with each city's chance, coloured by it. `names`: place id -> name for titles."""
    if not len(table):
        return None
    names = names or {}
    short = [k.split(".", 2)[-1] if k.startswith("scenario.cities.") else k for k in keys]
    label = dict(zip(keys, short))
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
        elif len(keys) >= 2:  # a sampled design: the two levers that go most with this city's chance
            kx, ky = top_levers(table, keys, f"P(capital={city})")
            xs, ys = (table[k] if pd.api.types.is_numeric_dtype(table[k]) else table[k].astype("category").cat.codes
                      for k in (kx, ky))
            im = ax.scatter(xs, ys, c=p.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis", s=18)
            ax.set_xlabel(label[kx], fontsize=8)
            ax.set_ylabel(label[ky], fontsize=8)
            fig.colorbar(im, ax=ax, fraction=0.046)
        elif len(keys) == 1:
            order = np.argsort(table[keys[0]].to_numpy())
            ax.plot(table[keys[0]].to_numpy()[order], p.to_numpy()[order], "-o", ms=3)
            ax.set_xlabel(short[0], fontsize=8)
            ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"P(capital = {names.get(city, city)})", fontsize=10)
    try:
        fig.tight_layout()
        save_figure(fig, path)
    finally:
        plt.close(fig)
    return path


# --------------------------------------------------------------------------- the report


LONG_TABLE = 30  # rows beyond which a report table is summarised (the whole table stays in its CSV)


def summarised(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """`table` itself when short; else per `by` group the lowest, median and highest of each numeric column."""
    if len(table) <= LONG_TABLE:
        return table
    numeric = [c for c in table.columns if c != by and pd.api.types.is_numeric_dtype(table[c])]
    rows = []
    for group, g in table.groupby(by, sort=False):
        for name, stat in (("lowest", "min"), ("median", "median"), ("highest", "max")):
            rows.append({by: group, "over the design points": name, **getattr(g[numeric], stat)().to_dict()})
    return pd.DataFrame(rows)


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
    """Write `<folder>/report/report.md` and `report.html` with their figures and tables; returns the report folder.

    Raises SweepError (before writing anything) for a folder that is not a
    usable sweep, a design point that is not in it, or a `report/` holding
    files the report did not write; OSError, naming the file in the report
    folder, when a write fails (the earlier report is then left as it was).
    """
    from experiments.analysis.tables import load_sweep

    folder = Path(folder)
    sweep = load_sweep(folder)
    design = _check_sweep(sweep)
    probability = written_or_computed(sweep.folder, sweep.runs, sweep.keys, sweep.cities)
    points = _check_points(points, probability, sweep.cities)
    out = folder / "report"
    earlier = _own_files(out)

    made_out, stage, done = not out.exists(), None, False
    try:
        try:
            out.mkdir(exist_ok=True)
            stage = Path(tempfile.mkdtemp(prefix=STAGING, dir=out))
        except OSError as err:
            err.filename = str(out)  # not the random name of the folder that could not be made
            raise
        written = _build(sweep, design, probability, points, stage)
        _install(stage, out, written, earlier)
        done = True
    except OSError as err:
        if stage is not None and err.filename and Path(err.filename).parent == stage:
            err.filename = str(out / Path(err.filename).name)  # the file's real name, not where it was staged
        raise
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        if made_out and not done:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty: the failure leaves no trace of this report
    return out


def _check_sweep(sweep) -> object | None:
    """Refuse a sweep with nothing to report; return its ExperimentParams when it needs sensitivity indices."""
    runs, config_path = sweep.runs, sweep.folder / "config.yaml"
    if not len(runs):
        raise SweepError(f"{sweep.folder / 'runs.parquet'}: no runs, so there is nothing to report")
    ok = runs[runs.status == "ok"]
    if not len(ok):
        first = runs.sort_values("run_id").iloc[0]
        error = " ".join(str(first.get("error") or "no error recorded").split())
        raise SweepError(f"{sweep.folder}: all {len(runs)} runs failed, so there is nothing to report; "
                         f"the first (run {first.run_id}): {error[:400]}")
    if "capital" not in runs.columns:  # the table, not the config, says what the runs kept
        kept = ", ".join(map(str, sweep.config["experiment"].get("outcomes", []))) or "none"
        raise SweepError(f"{config_path}: the sweep did not keep the outcome `capital` (experiment.outcomes: {kept}), "
                         f"so there is nothing to report; rerun it with capital among experiment.outcomes")
    if str(sweep.config["experiment"].get("design", "grid")) in ("sobol", "morris"):
        try:
            return sweep.experiment
        except (ValueError, TypeError, KeyError) as err:
            raise SweepError(f"{config_path}: experiment: {' '.join(str(err).split())}") from None
    return None


def _check_points(points: list[int] | None, probability: pd.DataFrame, cities: list[str]) -> list[int]:
    if points is None:
        return _default_points(probability, cities)
    ids = set(probability.point_id.astype(int))
    unknown = [p for p in points if p not in ids]
    if unknown:
        raise SweepError(f"--points: no design point {unknown[0]}; the design points are {min(ids)} to {max(ids)}")
    return list(dict.fromkeys(points))


def _own_files(out: Path) -> set[str]:
    """The files in `out` an earlier report wrote (to be replaced); SweepError if anything else is there."""
    if not out.exists() and not out.is_symlink():
        return set()
    if not out.is_dir():
        raise SweepError(f"{out}: a file, where the report writes its folder; move it away and run the report again")
    listed = None
    if (out / MARKER).is_file():
        try:
            text = (out / MARKER).read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise SweepError(f"{out / MARKER}: cannot read it ({err.strerror or err})") from None
        listed = {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}
    own, foreign = set(), []
    for entry in sorted(out.iterdir()):
        name = entry.name
        if (name == MARKER and entry.is_file()) or (name.startswith(STAGING) and entry.is_dir()):
            continue  # the marker is rewritten; a staging folder is left by a report that was killed
        base = name.removesuffix(".tmp")  # a killed write's leftover of one of the report's files
        mine = base in listed if listed is not None else EARLIER.fullmatch(base) is not None
        if mine and (entry.is_file() or entry.is_symlink()):
            own.add(name)
        else:
            foreign.append(name)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise SweepError(f"{out} holds {foreign[0]!r}{more}, which the report did not write; it will not mix its "
                         f"files with yours: move them elsewhere and run the report again")
    return own


def _install(stage: Path, out: Path, written: list[str], earlier: set[str]) -> None:
    """Move the new report's files over the earlier report's and drop the earlier files it no longer makes."""
    def listing(names) -> str:
        return ("# Written by `.venv/bin/drama report`; it replaces these files when run again and refuses\n"
                "# to write here while the folder holds anything else.\n" + "".join(f"{n}\n" for n in sorted(names)))

    # Listing both first means a stop half-way leaves every file here still recognised as the report's.
    write_text(out / MARKER, listing(set(earlier) | set(written)))
    for name in written:
        os.replace(stage / name, out / name)
    for name in sorted(set(earlier) - set(written)):
        (out / name).unlink(missing_ok=True)
    write_text(out / MARKER, listing(written))


def _posterior_sentence(sweep) -> str:
    """What the replicates drew from, when a posterior was named: the bands and chances then carry it."""
    name = sweep.config.get("posterior")
    if not name:
        return " Every replicate ran on the scenario's point fit (no posterior): the bands are over seeds only."
    sets = sweep.runs.posterior_set.nunique() if "posterior_set" in sweep.runs else "?"
    return (f" Each replicate drew its behavioural parameters and open starting sizes from the posterior `{name}` "
            f"(one set per seed, the same at every point; {sets} distinct sets met): the bands and chances carry "
            "what the facts leave loose as well as the seeds.")


def _build(sweep, design, probability: pd.DataFrame, points: list[int], out: Path) -> list[str]:
    """Write every table, figure and the report itself into `out`; return the names written."""
    from experiments.analysis import figures
    from experiments.analysis.tables import fiscal_table, months_to_capital, summary_sentences

    written: list[str] = []

    def csv(table: pd.DataFrame, name: str) -> None:
        write_csv(table, out / name)
        written.append(name)

    def img(path: Path | None) -> Path | None:
        if path is not None:
            written.append(path.name)
        return path

    csv(probability, "capital_probability.csv")
    blocks: list[tuple[str, object]] = []
    labels = {k: sweep.label(k) for k in sweep.keys} | {f"P(capital={c})": f"P(capital = {sweep.names[c]})"
                                                        for c in sweep.cities} | {"P(capital=none)": "P(no capital)"}
    exp = sweep.config["experiment"]
    n_ok = int((sweep.runs.status == "ok").sum())
    blocks += [("h1", f"Sweep report: {exp.get('name', sweep.folder.name)}"),
               ("p", f"{exp.get('description', '')} Scenario `{sweep.config['scenario'].get('name')}`, "
                     f"{sweep.config.get('steps')} months from {sweep.config.get('start')}; {len(sweep.runs)} runs "
                     f"({n_ok} ok) over {probability.point_id.nunique()} design points. "
                     f"Regenerate with `.venv/bin/drama report {sweep.folder}`." + _posterior_sentence(sweep)),
               ("h2", "Summary"), ("ul", summary_sentences(sweep, probability))]

    blocks += [("h2", "Chance of becoming the capital"),
               ("p", f"The capital holds at least {sweep.threshold:.0%} of national output over the trailing "
                     f"{sweep.config.get('capital_window', 12)} months at the end of the run."),
               ("table", probability.drop(columns=["runs_failed"]).rename(columns=labels))]
    if sweep.is_grid:
        cells = probability.melt(id_vars=["point_id", *sweep.keys, "runs_ok"],
                                 value_vars=[f"P(capital={c})" for c in sweep.cities], var_name="city", value_name="p")
        cells["city"] = cells.city.str.slice(10, -1)
        blocks.append(("img", img(figures.grid_heatmap(sweep, cells, "p", "runs_ok", "P(capital)",
                                                       out / "p_capital.png", vmax=1.0))))
        blocks.append(("h2", "Months to capital"))
        if "capital_step" in sweep.runs:
            months = months_to_capital(sweep).merge(probability[["point_id", *sweep.keys]], on="point_id")
            never = [sweep.names[c] for c in sweep.cities
                     if not months.loc[months.city == c, "median_months"].notna().any()]
            blocks += [("p", "Median month (from the start) since which the city has held the position, over the runs "
                             "it ends as capital; n is the number of those runs; – where it never does."
                             + (f" Never the capital at any point, so not drawn: {', '.join(never)}." if never else ""))]
            drawn = img(figures.grid_heatmap(sweep, months, "median_months", "runs_won", "median months to capital",
                                             out / "months_to_capital.png", vmax=float(sweep.config.get("steps", 60)),
                                             fmt="{:.0f}", skip_empty=True))
            if drawn:
                blocks.append(("img", drawn))
        else:
            blocks.append(("p", "This sweep did not keep the outcome `capital_step`: add it to experiment.outcomes."))
    else:
        path = img(plot_capital_probability(probability, sweep.keys, sweep.cities, out / "p_capital.png",
                                             sweep.names))
        if path:
            blocks.append(("img", path))

    if "crossing_step" in sweep.runs:
        from experiments.analysis.tables import crossings

        crossed = crossings(sweep).merge(probability[["point_id", *sweep.keys]], on="point_id")
        csv(crossed, "crossings.csv")
        shown = crossed[["point_id", *sweep.keys] + [c for c in crossed.columns if c not in ("point_id", *sweep.keys)]]
        blocks += [("h2", "When the first leader is overtaken"),
                   ("p", "Per design point: the chance that a challenger overtakes the leader of the first full "
                         "window (with its 95 % Wilson interval and the runs behind it) and, over the runs where one "
                         "does, the median month of the crossing and its 90 % band."
                         + (f" The {len(shown)} points are summarised (lowest, median, highest); every row is in "
                            "crossings.csv." if len(shown) > LONG_TABLE else "")),
                   ("table", summarised(shown.assign(design="all points"), "design").rename(columns=labels)
                    if len(shown) > LONG_TABLE else shown.rename(columns=labels))]

    blocks.append(("h2", "Outcomes against the levers"))
    for outcome in exp.get("outcomes", []):
        path = img(figures.outcome_figure(sweep, outcome, out / f"outcome_{outcome}.png"))
        if path:
            blocks.append(("img", path))

    blocks.append(("h2", "Shares over time"))
    if sweep.cities_table is None:
        blocks.append(("p", "This sweep kept no city rows (experiment.keep_every=0), so there are no fan charts."))
    for point in points:
        path = img(figures.fan_chart(sweep, point, out / f"fan_point_{point}.png"))
        if path:
            blocks.append(("img", path))

    from experiments.analysis.discovery import DENSITY, sweep_boxes

    boxes = sweep_boxes(sweep.runs, sweep.keys, sweep.cities)
    rows = []
    for city, box in boxes.items():
        if box is None:
            continue
        for key, (lo, hi) in (box.limits or {"(no lever restricted)": (np.nan, np.nan)}).items():
            rows.append({"city": sweep.names[city], "lever": sweep.label(key) if key in sweep.keys else key,
                         "from": lo, "to": hi, "coverage": box.coverage, "density": box.density, "mass": box.mass,
                         "quasi-p": box.qp.get(key, np.nan),
                         "P(halves restrict it)": box.reproducibility.get(key, np.nan),
                         "feature score": box.scores.get(key, np.nan)})
    blocks.append(("h2", "Where each city becomes the capital (PRIM)"))
    if rows:
        found = pd.DataFrame(rows)
        csv(found, "prim_boxes.csv")
        blocks += [("p", f"PRIM (EMA Workbench) boxes of lever ranges: of the boxes on the peeling trajectory, the one "
                         f"covering most of the city's wins among those where it wins in at least {DENSITY:.0%} of runs "
                         f"(or the densest). Coverage: share of all its wins inside the box; density: share of the "
                         f"box's runs it wins; mass: share of all runs in the box. Each restriction's quasi-p-value "
                         f"(small: the restriction matters; Bryant & Lempert 2010), the share of PRIM runs on random "
                         f"halves of the runs that restrict the same lever, and the lever's feature score (extra-trees "
                         f"importance over all runs)."),
                   ("table", found), ("img", img(figures.peeling_figure(sweep, boxes, out / "prim_peeling.png")))]
    else:
        blocks.append(("p", "No city becomes the capital in some runs and not in others, so there is no box to find."))

    if design is not None:
        from experiments.analysis.sensitivity import sweep_indices

        blocks.append(("h2", "Which levers matter"))
        try:
            table = sweep_indices(design, sweep.runs, sweep.points(), sweep.cities)
        except ValueError as err:  # e.g. a design point whose runs all failed: SALib needs a number at each
            blocks.append(("p", f"No sensitivity indices: {err}."))
        else:
            table["outcome"] = [o.replace(f"= {c})", f"= {sweep.names[c]})").replace(f"of {c}", f"of {sweep.names[c]}")
                                for o, c in zip(table.outcome, table.city)]
            csv(table, "sensitivity.csv")
            what = ("Sobol first-order (S1) and total (ST) indices" if design.design.value == "sobol"
                    else "Morris mu* (mean absolute elementary effect) and sigma")
            blocks += [("p", f"{what} of each outcome (point means over replicates) with SALib's 95 % intervals."),
                       ("table", table.drop(columns=["city", "warning"]).assign(
                           key=[sweep.label(k) for k in table.key])),
                       ("img", img(figures.sensitivity_figure(sweep, table, out / "sensitivity.png")))]
            flagged = table[table.warning != ""]
            if len(flagged):
                blocks.append(("p", "**Not to be read as measured** (each index recomputed on the first half of "
                                    "the design, its interval, and whether any interval excludes 0): " + " ".join(
                    f"{o}, {sweep.label(k)}: {w}." for o, k, w in zip(flagged.outcome, flagged.key, flagged.warning))))
            else:
                blocks.append(("p", "Every index agrees with its value on the first half of the design and has an "
                                    "interval narrower than 1."))

    fiscal = fiscal_table(sweep)
    csv(fiscal, "fiscal.csv")
    shown = fiscal.assign(city=fiscal.city.map(sweep.names)).rename(columns={
        "subsidy_per_year": "subsidy paid ¥/yr", "outlay_per_job": "outlay per job ¥",
        "outlay_per_added_job": "outlay per added job ¥", "return_per_yuan": "tax+tourism per ¥ of outlay"})
    blocks += [("h2", "Fiscal accounts"),
               ("p", "Medians over each design point's runs. Outlay is rewards paid, AIGC support, talent and studio "
                     "programmes. Tax and tourism per yuan count the city's whole industry, not only what its policy "
                     "added. Outlay per added job is against the city's own no-policy run (same seed)"
                     + ("." if fiscal.outlay_per_added_job.notna().any() else
                        "; this sweep did not ask for it: add `marginal_cost_per_job` to experiment.outcomes.")),
               ("table", summarised(shown.drop(columns=["point_id"]), "city").rename(columns=labels))]
    if len(shown) > LONG_TABLE:
        blocks.append(("p", f"{len(shown)} rows: the table shows each city's lowest, median and highest over the "
                            "design points; every row is in fiscal.csv."))
    path = img(figures.fiscal_figure(sweep, fiscal, out / "fiscal.png"))
    if path:
        blocks.append(("img", path))
    _write([(kind, value) for kind, value in blocks if value is not None], out)
    return [*written, "report.md", "report.html"]


def _write(blocks: list[tuple[str, object]], out: Path) -> None:
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
    """Entry point of `.venv/bin/drama report <sweep folder>`."""
    parser = argparse.ArgumentParser(prog=".venv/bin/drama report", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a finished sweep folder (results/sweeps/<date>/<time>_<name>)")
    parser.add_argument("--points", default=None, help="design points for the fan charts, e.g. 0,12 "
                                                       "(default: the first, the last and each city's best)")
    args = parser.parse_args(argv)

    def fail(code: int, message: str) -> None:
        parser.exit(code, "error: " + " ".join(message.splitlines()) + "\n")

    points = None
    if args.points is not None:
        try:
            points = [int(p) for p in args.points.split(",")]
        except ValueError:
            fail(2, f"--points: {args.points!r} is not a comma-separated list of design point numbers")
    try:
        out = write_report(args.folder, points)
    except SweepError as err:
        fail(2, str(err))
    except BrokenPipeError:
        raise
    except OSError as err:
        where = f" {err.filename}" if err.filename else ""
        fail(1, f"cannot write{where}: {err.strerror or err}")
    print(f"report: {out / 'report.md'}\n        {out / 'report.html'}")


if __name__ == "__main__":
    main(sys.argv[1:])
