"""What the cockpit page shows of a run: banner, map, charts, policy changes, accounts and the reproduce panel.

Every view is a pure function from a `Cockpit` (the run, its twin without
the planner's changes, the changes made) to HTML or SVG text, built in a
few milliseconds with NumPy (`viz.svg`): the page redraws after each step
without rendering images on the server, and needs nothing from outside.
The Solara components at the end put the text on the page.
"""

from __future__ import annotations

import html
import json
import shlex
from functools import lru_cache
from pathlib import Path

import numpy as np
import solara

from sim.model import ContestModel
from viz import svg
from viz.bands import percentiles
from viz.charts import charts_html
from viz.cockpit import Cockpit, main_cities, scenario_posterior
from viz.palette import city_colours, month_label

CHINA = Path(__file__).parent / "data" / "china.geojson"


@lru_cache(maxsize=1)
def china_rings() -> list[np.ndarray]:
    """China's outline as lon/lat rings (Natural Earth via world-atlas; see tools/extract_china.mjs)."""
    geometry = json.loads(CHINA.read_text())["features"][0]["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [np.asarray(ring) for polygon in polygons for ring in polygon]


def capital_text(model: ContestModel) -> str:
    """'Capital: X since YYYY-MM' or 'No capital yet ...'."""
    tracker = model.capital
    if tracker.current is None:
        window = model.params.capital_window
        if model.steps < window:
            return f"No capital yet: a capital needs {window} months of record ({model.steps} of {window} so far)"
        return (f"No capital yet (no city holds {model.params.capital_threshold:.0%} of the last {window} months' output "
                f"with a lead of {model.params.capital_margin:.0%} over the next)")
    names = {c.city_id: c.name for c in model.cities}
    return f"Capital: {names[tracker.current]} since {month_label(model, tracker.since)}"


def when_text(model: ContestModel) -> str:
    """The month shown: '2026-03 (27 months run)', or the first month to come."""
    if model.steps == 0:
        return f"{month_label(model, 1)} is the first month (not run yet)"
    return f"{month_label(model, model.steps)} ({model.steps} month{'s' if model.steps > 1 else ''} run)"


# --------------------------------------------------------------------------- map


def map_html(cockpit: Cockpit) -> str:
    """Cities on China's outline: circle area by companies, a colour per city, the highlighted cities named with
    their 12-month share (the capital test's trailing share, as the banner and the accounts give it). Over the
    ensemble (the default) both are medians over its runs; every circle's hover gives its numbers."""
    model = cockpit.model
    n = model.n_cities
    bands = cockpit.bands if cockpit.show_bands and model.steps else None
    names = [c.name for c in model.cities]
    if bands is not None and bands.steps == model.steps:
        now = bands.now()
        firms_q, share_q, jobs_q = (percentiles(now[k][:, :n]) for k in ("firms", "share", "jobs"))
        firms, share = firms_q[1], share_q[1]
        hover = [f"{name}: {firms_q[1][j]:,.0f} companies [{firms_q[0][j]:,.0f} to {firms_q[2][j]:,.0f}], "
                 f"12-month share {share_q[1][j]:.1%} [{share_q[0][j]:.1%} to {share_q[2][j]:.1%}], "
                 f"jobs (12-month mean) {jobs_q[1][j]:,.0f} [{jobs_q[0][j]:,.0f} to {jobs_q[2][j]:,.0f}]: "
                 f"median [90 % band] of {bands.n} runs" for j, name in enumerate(names)]
        over = f": median of {bands.n} runs"
    else:
        firms = model.city_state.firms[:n].astype(float)
        share = model.recorder.column("trailing_share")[-1][:n] if model.steps else np.full(n, np.nan)
        jobs = model.city_state.employment[:n]
        hover = [f"{name}: {firms[j]:,.0f} companies" + (f", 12-month share {share[j]:.1%}, {jobs[j]:,.0f} jobs this "
                 f"month" if model.steps else "") + f" (seed {model.params.seed})" for j, name in enumerate(names)]
        over = ""
    top = cockpit.highlighted_indices()
    area = 40 + 1800 * firms / max(float(np.nanmax(firms)), 1.0)  # px²
    short = [name.split(" (")[0] for name in names]  # "Hengdian (Dongyang)" is "Hengdian" on the map, in full on hover
    labels = [f"{short[j]} {share[j]:.0%}" if j in top and np.isfinite(share[j]) else short[j] for j in range(n)]
    order = top + [int(j) for j in np.argsort(-firms, kind="stable") if j not in top]
    title = f"Production companies by city, {month_label(model, max(model.steps, 1))}{over}"
    return svg.map_svg(china_rings(), np.array([c.lon for c in model.cities]), np.array([c.lat for c in model.cities]),
                       area, city_colours(n), labels, order, set(top), set(range(n)) - set(top), title=title,
                       outline=False, hover=hover)  # the outline is drawn once, as the map's background (MAP_STYLE)


# --------------------------------------------------------------------------- accounts

ACCOUNT_COLUMNS = [("firms", "companies", "{:,.0f}"), ("productions", "dramas", "{:,.0f}"),
                   ("trailing_share", "12-mo share", "{:.1%}"), ("jobs_mean", "jobs, 12-mo mean", "{:,.0f}"),
                   ("employment", "jobs this month", "{:,.0f}"), ("reward_rate", "reward", "{:.0%}"),
                   ("subsidy_total", "paid M¥", "{:,.1f}"), ("outlay_total", "outlay M¥", "{:,.1f}"),
                   ("budget_left", "left M¥", "{:,.1f}"), ("tax", "tax M¥/mo", "{:,.1f}"),
                   ("tourism", "tourism M¥/mo", "{:,.1f}"), ("cost_per_job", "¥ per job", "{:,.0f}"),
                   ("added_by_changes", "added by your changes", "{:+,.0f}"),
                   ("cost_per_added_job", "¥ per added job", "{:,.0f}")]
# What each column means, shown under the table and on hover over its heading. The names and definitions are
# those of summary.json and the table `.venv/bin/drama run` prints (sim/outcomes.py), where they share a quantity.
ACCOUNT_DEFINITIONS = {
    "firms": "production companies working in the city this month (summary.json: final_firms)",
    "productions": "dramas the city's companies made this month",
    "trailing_share": "the city's share of national output over the last 12 months: the capital test's, as the banner "
                      "and the map give it (summary.json: trailing_share)",
    "jobs_mean": "jobs (the crews of the city's companies), the mean over the last 12 months (summary.json: "
                 "final_employment; 'jobs, 12-mo mean' in the command's table)",
    "employment": "jobs this month: the crews of the city's companies, times the share of the month they could shoot",
    "reward_rate": "the city's reward per yuan of a production's cost (its strategy or your changes may move it)",
    "subsidy_total": "rewards paid since the start, million yuan",
    "outlay_total": "everything the treasury spent since the start (rewards, AIGC support, talent and studio "
                    "programmes), million yuan (summary.json: outlay_total)",
    "budget_left": "what the reward fund can still pay this budget period: money on hand plus releases to come, M yuan",
    "tax": "tax on the city's companies' revenue this month, million yuan",
    "tourism": "culture-tourism spending brought by local-culture dramas this month, million yuan",
    "cost_per_job": "the outlay since the start per job this month, yuan (summary.json: cost_per_job)",
    "added_by_changes": "jobs (12-month mean) against the same run (same seed) without your changes; '-' when you "
                        "changed nothing. Not summary.json's added_jobs, which compares each city with the same run "
                        "where that city has no policy at all (the command's 'added by policy')",
    "cost_per_added_job": "the extra outlay since the start against the run without your changes, per job added by "
                          "your changes, yuan ('-' unless your changes added at least one job)",
}
MILLIONS = {"subsidy_total", "outlay_total", "budget_left", "tax", "tourism"}


def _trailing_mean(model: ContestModel, column: str) -> np.ndarray:
    """A column's mean over the last 12 months run (FINAL_MONTHS, as summary.json's final_ figures)."""
    from sim.metrics import FINAL_MONTHS

    return model.recorder.column(column)[-FINAL_MONTHS:, : model.n_cities].mean(axis=0)


def account_values(cockpit: Cockpit) -> dict[str, np.ndarray]:
    """This month's account of every city, by column (before the first month: what the run starts with)."""
    model, twin = cockpit.model, cockpit.twin
    n = model.n_cities
    nan = np.full(n, np.nan)
    if model.steps:
        last = {name: model.recorder.column(name)[-1][:n] for name in
                ("firms", "productions", "trailing_share", "employment", "reward_rate", "subsidy_total",
                 "budget_left", "tax", "tourism", "cost_per_job", "outlay_total")}
        last["jobs_mean"] = _trailing_mean(model, "employment")
    else:
        last = {name: nan for name in ("productions", "trailing_share", "employment", "jobs_mean", "subsidy_total",
                                       "tax", "tourism", "cost_per_job", "outlay_total")}
        last.update(firms=model.city_state.firms[:n], reward_rate=model.policy.reward_rate[:n],
                    budget_left=(model.policy.annual_budget * model.policy.budget_period_years)[:n])
    added, per_added = nan, nan
    if twin is not None and twin.steps == model.steps and model.steps:
        added = last["jobs_mean"] - _trailing_mean(twin, "employment")
        extra = last["outlay_total"] - twin.recorder.column("outlay_total")[-1][:n]
        per_added = np.full(n, np.nan)
        np.divide(extra, added, out=per_added, where=added >= 1.0)
    last.update(added_by_changes=added, cost_per_added_job=per_added)
    return last


def accounts_html(cockpit: Cockpit) -> str:
    """The current city accounts as an HTML table (one row per city); `account_terms_html` defines the columns."""
    model = cockpit.model
    values = account_values(cockpit)
    header = "".join(f"<th title='{html.escape(ACCOUNT_DEFINITIONS[column], quote=True)}'>{html.escape(label)}</th>"
                     for column, label, _ in ACCOUNT_COLUMNS)
    rows = []
    for j, city in enumerate(model.cities):
        cells = []
        for column, _, fmt in ACCOUNT_COLUMNS:
            value = float(values[column][j])
            if column in MILLIONS:
                value /= 1e6
            text = "-" if not np.isfinite(value) else fmt.format(value)
            cells.append(f"<td data-col='{column}'>{text}</td>")
        rows.append(f"<tr data-city='{city.city_id}'><th>{html.escape(city.name)}</th>{''.join(cells)}</tr>")
    when = month_label(model, model.steps) if model.steps else "before the first month"
    return (f"<table class='accounts'><caption>City accounts of the run on screen (seed {model.params.seed}), {when}"
            "</caption>"
            f"<thead><tr><th>city</th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def account_terms_html() -> str:
    """What each account column means (the key under the table; the same text is on hover over each heading)."""
    terms = "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(ACCOUNT_DEFINITIONS[column])}</dd>"
                    for column, label, _ in ACCOUNT_COLUMNS)
    return f"<dl class='accounts-terms'>{terms}</dl>"


BAND_FIGURES = [("jobs", "jobs (12-month mean)", "{:,.0f}", 1.0), ("share", "12-month share", "{:.1%}", 1.0),
                ("firms", "companies", "{:,.0f}", 1.0), ("outlay", "outlay since the start, M¥", "{:,.1f}", 1e6)]
ADDED_FIGURES = [("jobs", "added jobs (12-month mean)", "{:+,.0f}", 1.0), ("outlay", "added outlay, M¥", "{:+,.1f}", 1e6),
                 ("outlay_per_added_job", "outlay per added job, ¥", "{:,.0f}", 1.0)]


def _banded(values: np.ndarray, fmt: str, scale: float, effect: bool = False) -> str:
    """'median [5th to 95th]' of values over runs ('-' where no run defines it); for an effect whose band covers 0,
    a note that it is not distinguishable from chance."""
    finite = values[np.isfinite(values)] / scale
    if not len(finite):
        return "-"
    lo, mid, hi = np.percentile(finite, [5, 50, 95])
    note = " <span class='chance'>not distinguishable from chance</span>" if effect and lo <= 0 <= hi else ""
    return f"{fmt.format(mid)} <span class='band'>[{fmt.format(lo)} to {fmt.format(hi)}]</span>{note}"


def _added_cell(added: dict[str, np.ndarray], key: str, j: int, fmt: str, scale: float) -> str:
    """One cell of what the changes bought. The outlay per added job is given only where the changes added jobs in
    at least 95 % of the runs: where the added jobs are not distinguishable from none (or below one job in some
    runs), a cost per added job would divide by noise."""
    if key != "outlay_per_added_job":
        return _banded(added[key][:, j], fmt, scale, effect=key == "jobs")
    jobs = added["jobs"][:, j]
    if not np.percentile(jobs, 5) >= 1.0:
        return "- <span class='chance'>no added jobs distinguishable from none</span>"
    return _banded(added[key][:, j], fmt, scale)


def bands_html(cockpit: Cockpit) -> str:
    """The answer over the ensemble (viz/bands.py): each main city's figures as a median and 90 % band over the
    runs, and what the planner's changes bought against the same runs without them, with its band; where the band
    covers 0 the page says the effect is not distinguishable from chance."""
    bands = cockpit.bands
    if cockpit.runs <= 0:
        return ""
    if bands is None or bands.steps == 0:
        return (f"<div class='bands'><p>Over {cockpit.runs} runs: the ensemble starts with the first Step.</p></div>")
    names = {c.id: c.name for c in cockpit.model.params.scenario.cities}
    cities = main_cities(cockpit.model.params)
    index = {p: j for j, p in enumerate(bands.place_ids)}
    now = bands.now()
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _, _ in BAND_FIGURES)
    rows = "".join(
        f"<tr data-band-city='{c}'><th>{html.escape(names[c])}</th>"
        + "".join(f"<td data-col='band-{k}'>{_banded(now[k][:, index[c]], fmt, scale)}</td>" for k, _, fmt, scale in BAND_FIGURES)
        + "</tr>" for c in cities)
    drawn = "parameter sets drawn from the published posterior, " if scenario_posterior(cockpit.scenario) else ""
    out = [f"<div class='bands'><table class='band-table'><caption>Over {bands.n} runs ({drawn}seeds spawned from "
           f"seed {cockpit.seed}), {month_label(cockpit.model, cockpit.model.steps)}: median [90 % band]</caption>"
           f"<thead><tr><th>city</th>{head}</tr></thead><tbody>{rows}</tbody></table>"]
    changed = sorted(cockpit.changed_cities())
    if changed:
        added = bands.added_by_changes()
        head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _, _ in ADDED_FIGURES)
        rows = "".join(
            f"<tr data-band-city='{c}'><th>{html.escape(names[c])}</th>"
            + "".join(f"<td data-col='band-added-{k}'>{_added_cell(added, k, index[c], fmt, scale)}</td>"
                      for k, _, fmt, scale in ADDED_FIGURES) + "</tr>" for c in changed)
        effect = bands.national_effect()
        verdict = ("" if effect["distinguishable"] else
                   " <b class='chance'>No effect distinguishable from chance</b> (the band covers 0).")
        out.append(f"<table class='added-table'><caption>What your changes bought, against the same runs without "
                   f"them</caption><thead><tr><th>city</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
                   f"<p class='national-effect'>Jobs added in the whole country: {effect['median']:+,.0f} "
                   f"[{effect['lo']:+,.0f} to {effect['hi']:+,.0f}].{verdict}</p>")
    out.append("</div>")
    return "".join(out)


def changes_html(cockpit: Cockpit) -> str:
    """The policy changes made mid-run (marked on the charts) and those waiting for the next Step or Reset."""
    done = "".join(f"<li class='setup'>{html.escape(text)}</li>" for text in cockpit.setup_text())
    done += "".join(f"<li class='shock'>{html.escape(text)}</li>" for _, text in cockpit.shock_text())
    waiting = "".join(f"<li class='pending'>{html.escape(text)}</li>" for text in cockpit.pending_text())
    if not done and not waiting:
        return ("<p class='changes-none'>No policy changes yet. Move a lever before the first Step to change the "
                "setup, or during the run to change policy from the next month.</p>")
    return (f"<ul class='changes'>{done}{waiting}</ul>")


# --------------------------------------------------------------------------- hand it on


def _flat(data, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, name + "."))
        else:
            out[name] = value
    return out


def _literal(value) -> str:
    """A value as a Hydra override writes it (floats exactly, by repr)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


PYTHON_COMMAND = ".venv/bin/drama run"  # the project's one way to call a command, from its folder after `make run`


def reproduce_command(model: ContestModel, scenario: str, runner: str = PYTHON_COMMAND) -> str:
    """The `.venv/bin/drama run` command that recreates this run's city table up to the month shown.

    The scenario, the seed, the months run, every key whose value differs
    from the scenario's own (the setup) and the policy changes made mid-run
    (`shocks=[...]`, by month), each argument quoted for a POSIX shell.
    """
    from sim.params import to_dict
    from viz.adapter import base_params

    cached = model.__dict__.get("_reproduce")
    if cached is None or cached[0] is not model.params:  # the params change only with a shock: diff them once
        base = _flat(base_params(scenario))
        mine = to_dict(model.params)
        shocks = mine.pop("shocks")
        changed = [f"{k}={_literal(v)}" for k, v in _flat(mine).items() if k not in ("seed", "steps") and base.get(k) != v]
        if shocks:
            items = ",".join("{" + ",".join(f"{k}:{_literal(v)}" for k, v in s.items()) + "}" for s in shocks)
            changed.append(f"shocks=[{items}]")
        model.__dict__["_reproduce"] = cached = (model.params, [shlex.quote(a) for a in changed])
    head = [f"scenario={scenario}", f"seed={model.params.seed}", f"steps={max(model.steps, 1)}"]
    return " ".join([runner, *map(shlex.quote, head), *cached[1]])


def command_html(cockpit: Cockpit) -> str:
    """The reproduce panel's command (the project's one way to call it: .venv/bin/drama, see experiments/cli.py)."""
    return f"<pre class='command'>{html.escape(reproduce_command(cockpit.model, cockpit.scenario))}</pre>"


def city_table_csv(model: ContestModel) -> str:
    """The run's city table so far, as CSV (the columns of cities.parquet)."""
    return model.city_table().to_csv(index=False)


# --------------------------------------------------------------------------- components

STYLE = ("table.compare-table{border-collapse:collapse;font-size:12px}table.compare-table td,table.compare-table th"
         "{border-bottom:1px solid #ddd;padding:2px 5px;text-align:right}table.compare-table caption{text-align:left}"
         "div.compare-wrap{overflow-x:auto}ul.compare-runs{font-size:12px}pre.command{font-size:12px}"
         "div.banner span.banner-one{font-size:13px;opacity:0.9}"
         "div.seed-error{color:#b00020;font-size:13px}div.run-end{font-size:13px;color:#333}"
         "div.bands{overflow-x:auto}table.band-table,table.added-table{border-collapse:collapse;font-size:12px;"
         "margin-bottom:6px}table.band-table td,table.band-table th,table.added-table td,table.added-table th"
         "{border-bottom:1px solid #ddd;padding:2px 5px;text-align:right}table.band-table caption,"
         "table.added-table caption{text-align:left;font-weight:bold}span.band{color:#555}"
         "span.chance,b.chance{color:#8a4b00}"
         "div.accounts-wrap{overflow-x:auto}div.map-wrap,div.charts-wrap,div.accounts-wrap{contain:content}"
         "table.accounts{border-collapse:collapse;font-size:12px}"
         "table.accounts td,table.accounts th{border-bottom:1px solid #ddd;padding:2px 5px;text-align:right}"
         "table.accounts tbody th{text-align:left}table.accounts caption{text-align:left;font-weight:bold}"
         "dl.accounts-terms{font-size:11px;display:grid;grid-template-columns:max-content 1fr;gap:0 8px}"
         "dl.accounts-terms dt{font-weight:bold}dl.accounts-terms dd{margin:0}"
         "div.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:6px}"
         "div.legend{font-size:12px}p.chart-note{font-size:12px;color:#555;margin:2px 0}"
         "ul.changes{font-size:13px;margin:0;padding-left:18px}li.pending{color:#b45309}li.shock{color:#7f1d1d}"
         "p.changes-none{font-size:12px;color:#555}pre{white-space:pre-wrap;word-break:break-all}"
         "div.banner{padding:8px 12px;border-radius:4px;font-size:15px}"
         "div.banner-none{background:#e3f2fd;color:#0d47a1;border:1px solid #90caf9}"
         "div.banner-capital{background:#e8f5e9;color:#1b5e20;border:1px solid #a5d6a7}"
         ".widget-html-content{line-height:normal}p.run-note{font-size:12px;color:#444;margin:4px 0}"
         "div.lever-head{font-size:13px}div.lever-range{font-size:11px;color:#666;margin-top:-14px}"
         "span.pending-tag{color:#b45309;font-size:11px;font-weight:bold}div.lever.pending b.lever-value{color:#b45309}")


@lru_cache(maxsize=1)
def map_style() -> str:
    """China's outline behind every map, sent to the page once instead of in every month's map."""
    return f"svg.map{{background:url(\"{svg.outline_data_uri(china_rings())}\") no-repeat 0 0/100% 100%}}"


def ensemble_capital_text(cockpit: Cockpit) -> str:
    """Over the ensemble's runs with the planner's changes: which city is the capital now in how many, e.g.
    "Over 20 runs: Xi'an is the capital in 12; no city in 8." ('' when the page shows one run)."""
    model = cockpit.model
    bands = cockpit.bands if cockpit.show_bands and model.steps else None
    if bands is None or bands.steps != model.steps:
        return ""
    window = model.params.capital_window
    if model.steps < window:
        return f"Over {bands.n} runs: no capital yet (a capital needs {window} months of record)."
    current = bands.ensemble.capital.current[: bands.n]
    names = {c.id: c.name for c in model.params.scenario.cities}
    counts = sorted(((int((current == k).sum()), names.get(p, p)) for k, p in enumerate(bands.place_ids)
                     if (current == k).any()), reverse=True)
    none = int((current < 0).sum())
    if none == bands.n:
        return f"Over {bands.n} runs: no city is the capital in any."
    parts = [f"{name} is the capital in {count}" for count, name in counts]
    if none:
        parts.append(f"no city in {none}")
    return f"Over {bands.n} runs: " + "; ".join(parts) + "."


def banner_html(cockpit: Cockpit) -> str:
    """Who is the capital now: over the ensemble's runs (by default) and in the run on screen, as a coloured banner."""
    model = cockpit.model
    kind = "none" if model.capital.current is None else "capital"
    over = ensemble_capital_text(cockpit)
    if over:
        return (f"<div class='banner banner-{kind}'><span class='banner-runs'>{html.escape(over)}</span> "
                f"<span class='banner-one'>In the run on screen (seed {model.params.seed}): "
                f"{html.escape(capital_text(model))}.</span></div>")
    return f"<div class='banner banner-{kind}'>{html.escape(capital_text(model))}</div>"


def month_html(cockpit: Cockpit) -> str:
    """The month shown, with the run's months and scenario as data for tests and benchmarks."""
    m = cockpit.model
    end = month_label(m, m.params.steps)
    return (f"<div class='month' data-steps='{m.steps}' data-scenario='{cockpit.scenario}'><b>Month:</b> "
            f"{html.escape(when_text(m))}</div>"
            f"<div class='run-end'>The run ends {end} ({m.params.steps} months).</div>")


def view_texts(c: Cockpit) -> dict[str, str]:
    """Every live view's current HTML, by name (what one step costs the server to draw)."""
    return {
        "month": month_html(c),
        "banner": banner_html(c),
        "map": f"<div class='map-wrap' data-steps='{c.model.steps}'>{map_html(c)}</div>",
        "changes": changes_html(c),
        "charts": f"<div class='charts-wrap' data-steps='{c.model.steps}'>{charts_html(c)}</div>",
        "bands": bands_html(c),
        "accounts": f"<div class='accounts-wrap' data-steps='{c.model.steps}'>{accounts_html(c)}</div>",
        "command": command_html(c),
    }


class LiveViews:
    """The run's views as widgets whose text is replaced in place after each step, reset or lever change.

    Replacing a widget's value sends that text and nothing else; re-rendering
    the page's component tree for every month would cost several times the
    step itself (issue 14: click to screen within 300 ms, three tabs at once).
    """

    def __init__(self, cockpit: Cockpit):
        import ipywidgets

        self.cockpit = cockpit
        self.widgets = {name: ipywidgets.HTML(value=text) for name, text in view_texts(cockpit).items()}

    def refresh(self) -> None:
        """Put each view's new text on the page (a widget whose text is unchanged sends nothing)."""
        for name, text in view_texts(self.cockpit).items():
            self.widgets[name].value = text


@solara.component
def RunViews(views: LiveViews):
    """The page's main column, laid out once: banner, map and changes, bands, charts and their export, comparisons,
    accounts, the reproduce panel."""
    from viz.exports import CompareRuns, Exports

    cockpit, w = views.cockpit, views.widgets
    solara.Style(STYLE + map_style())
    solara.Column(children=[w["banner"]])
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        solara.Column(children=[w["map"]])
        with solara.Column(style={"min-width": "260px", "flex": "1"}):
            solara.HTML(tag="div", unsafe_innerHTML="<b>Policy changes</b>")
            solara.Column(children=[w["changes"]])
    solara.Column(children=[w["bands"], w["charts"]])
    Exports(cockpit)
    CompareRuns(cockpit)
    solara.Column(children=[w["accounts"]])
    solara.HTML(tag="div", unsafe_innerHTML=account_terms_html(), classes=["accounts-key"])
    with solara.Card("Reproduce this run"):
        solara.HTML(tag="p", unsafe_innerHTML=(
            "The run on screen (the one-run view, its seed) is recreated by this command, typed in a shell in the "
            "project folder once <code>make run</code> has set the project up: its city table "
            "(<code>cities.parquet</code>) and <code>summary.json</code> in the run folder it prints, under the "
            "accounts' names and definitions. <code>.venv/bin/drama --help</code> lists every command."))
        solara.Column(children=[w["command"]])
        solara.FileDownload(lambda: city_table_csv(cockpit.model), filename=f"cities_{cockpit.scenario}.csv",
                            label="Download the city table (CSV)", mime_type="text/csv")
