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
from viz.cockpit import Cockpit, main_cities, scenario_posterior

CHINA = Path(__file__).parent / "data" / "china.geojson"
# Tableau's 20 categorical colours (matplotlib's tab20): 15 cities stay apart. Strong and light tones alternate.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
           "#dbdb8d", "#9edae5"]
LEADERS = 2  # the contest's leaders, by trailing share: drawn in full, the others muted


@lru_cache(maxsize=1)
def china_rings() -> list[np.ndarray]:
    """China's outline as lon/lat rings (Natural Earth via world-atlas; see tools/extract_china.mjs)."""
    geometry = json.loads(CHINA.read_text())["features"][0]["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [np.asarray(ring) for polygon in polygons for ring in polygon]


def city_colours(n: int) -> list[str]:
    """One categorical colour per city, the same on the map, in the charts and in the legend."""
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def month_label(model: ContestModel, step: int) -> str:
    """Step t (1 = the first month) as its date, "2026-03", the one date format of the page."""
    year, month = model.year_month(step - 1)
    return f"{year}-{month:02d}"


def leaders(model: ContestModel) -> list[int]:
    """Indices of the leading cities by 12-month trailing share (last month's share before a year of record)."""
    share = model.city_state.share[: model.n_cities]
    if model.steps:
        trailing = model.recorder.column("trailing_share")[-1][: model.n_cities]
        share = np.where(np.isfinite(trailing), trailing, share)
    return [int(j) for j in np.argsort(-share, kind="stable")[:LEADERS]]


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
    """Cities on China's outline: circle area by companies, a colour per city, the leaders named with their 12-month
    share (the capital test's trailing share, as the banner and the accounts give it; not this month's)."""
    model = cockpit.model
    n = model.n_cities
    firms = model.city_state.firms[:n]
    share = model.recorder.column("trailing_share")[-1][:n] if model.steps else model.city_state.share[:n]
    top = leaders(model)
    area = 40 + 1800 * firms / max(float(firms.max()), 1.0)  # px²
    labels = [f"{c.name} {share[j]:.0%}" if j in top and model.steps else c.name for j, c in enumerate(model.cities)]
    order = top + [int(j) for j in np.argsort(-firms, kind="stable") if j not in top]
    title = f"Production companies by city, {month_label(model, max(model.steps, 1))}"
    return svg.map_svg(china_rings(), np.array([c.lon for c in model.cities]), np.array([c.lat for c in model.cities]),
                       area, city_colours(n), labels, order, set(top), set(range(n)) - set(top), title=title,
                       outline=False)  # drawn once, as the map's background (MAP_STYLE)


# --------------------------------------------------------------------------- charts

PANELS = [("trailing_share", "share of productions (12-month)", 1.0, "{:.0%}"), ("firms", "production companies", 1.0, "{:,.0f}"),
          ("subsidy_paid", "rewards paid, M¥ a month", 1e6, "{:,.1f}"), ("budget_left", "budget left, M¥", 1e6, "{:,.0f}"),
          ("employment", "jobs", 1.0, "{:,.0f}"), ("cost_per_job", "outlay per job, ¥", 1.0, "{:,.0f}")]


def _columns(model: ContestModel, names: list[str]) -> dict[str, np.ndarray]:
    """(months, cities) arrays of the run's recorded columns."""
    return {name: model.recorder.column(name)[:, : model.n_cities] for name in names}


def charts_html(cockpit: Cockpit) -> str:
    """Six panels over time; the twin without the planner's changes as faint lines; policy changes marked."""
    model, twin = cockpit.model, cockpit.twin
    if model.steps == 0:
        return "<p class='hint'>Press Step or Play to run the model.</p>"
    names = [c.name for c in model.cities]
    colours = city_colours(len(names))
    top = set(leaders(model))
    x = np.arange(1, model.steps + 1, dtype=float)
    mine = _columns(model, [p[0] for p in PANELS])
    theirs = _columns(twin, [p[0] for p in PANELS]) if twin is not None and twin.steps else None
    shocks = [(float(month), text) for month, text in cockpit.shock_text() if month <= model.steps]
    changed = cockpit.changed_cities()
    out = []
    for column, title, scale, fmt in PANELS:
        series = []
        if theirs is not None:  # the leaders' and the changed cities' (faint lines for all 15 would hide the rest)
            for j, name in enumerate(names):
                if j not in top and model.city_ids[j] not in changed:
                    continue
                series.append(svg.Series(f"{name} without your changes", colours[j], x, theirs[column][:, j] / scale,
                                         faint=True, muted=j not in top))
        for j, name in enumerate(names):
            series.append(svg.Series(name, colours[j], x, mine[column][:, j] / scale, muted=j not in top))
        hlines = [(model.params.capital_threshold, f"capital threshold {model.params.capital_threshold:.0%}")] \
            if column == "trailing_share" else []
        out.append(svg.line_chart(title, series, x_label=lambda m: month_label(model, int(round(m))),
                                  y_label=lambda v, fmt=fmt: fmt.format(v), y_max=1.0 if column == "trailing_share" else None,
                                  hlines=hlines, vlines=shocks))
    key = svg.legend(names, colours, muted=set(range(len(names))) - top)
    faint = ("<p class='chart-note'>Dashed faint lines: the same run (same seed) without your changes, for the "
             "leaders and the cities you changed.</p>"
             if theirs is not None else "")
    return f"{key}{faint}<div class='charts'>{''.join(out)}</div>"


# --------------------------------------------------------------------------- accounts

ACCOUNT_COLUMNS = [("firms", "firms", "{:,.0f}"), ("productions", "dramas", "{:,.0f}"),
                   ("trailing_share", "12-mo share", "{:.1%}"), ("employment", "jobs", "{:,.0f}"),
                   ("reward_rate", "reward", "{:.2f}"), ("subsidy_total", "paid M¥", "{:,.1f}"),
                   ("budget_left", "left M¥", "{:,.1f}"), ("tax", "tax M¥/mo", "{:,.1f}"),
                   ("tourism", "tourism M¥/mo", "{:,.1f}"), ("cost_per_job", "¥ per job", "{:,.0f}"),
                   ("added_jobs", "added jobs", "{:+,.0f}"), ("cost_per_added_job", "¥ per added job", "{:,.0f}")]
# What each column means, shown under the table and on hover over its heading.
ACCOUNT_DEFINITIONS = {
    "firms": "production companies working in the city this month",
    "productions": "dramas the city's companies made this month",
    "trailing_share": "the city's share of national output over the last 12 months (the capital test)",
    "employment": "jobs: the crews of the city's companies, times the share of the month they could shoot",
    "reward_rate": "the city's reward per yuan of a production's cost (its strategy or your changes may move it)",
    "subsidy_total": "rewards paid since the start, million yuan",
    "budget_left": "what the reward fund can still pay this budget period: money on hand plus releases to come, M yuan",
    "tax": "tax on the city's companies' revenue this month, million yuan",
    "tourism": "culture-tourism spending brought by local-culture dramas this month, million yuan",
    "cost_per_job": "the treasury's outlay since the start (rewards, AIGC support, talent and studio programmes) "
                    "per job now, yuan",
    "added_jobs": "jobs now against the same run (same seed) without your changes; '-' when you changed nothing",
    "cost_per_added_job": "the extra outlay since the start against the run without your changes, per added job, "
                          "yuan ('-' unless your changes added at least one job)",
}
MILLIONS = {"subsidy_total", "budget_left", "tax", "tourism"}


def account_values(cockpit: Cockpit) -> dict[str, np.ndarray]:
    """This month's account of every city, by column (before the first month: what the run starts with)."""
    model, twin = cockpit.model, cockpit.twin
    n = model.n_cities
    nan = np.full(n, np.nan)
    if model.steps:
        last = {name: model.recorder.column(name)[-1][:n] for name in
                ("firms", "productions", "trailing_share", "employment", "reward_rate", "subsidy_total",
                 "budget_left", "tax", "tourism", "cost_per_job", "outlay_total")}
    else:
        last = {name: nan for name in ("productions", "trailing_share", "employment", "subsidy_total", "tax",
                                       "tourism", "cost_per_job", "outlay_total")}
        last.update(firms=model.city_state.firms[:n], reward_rate=model.policy.reward_rate[:n],
                    budget_left=(model.policy.annual_budget * model.policy.budget_period_years)[:n])
    added, per_added = nan, nan
    if twin is not None and twin.steps == model.steps and model.steps:
        added = last["employment"] - twin.recorder.column("employment")[-1][:n]
        extra = last["outlay_total"] - twin.recorder.column("outlay_total")[-1][:n]
        per_added = np.full(n, np.nan)
        np.divide(extra, added, out=per_added, where=added >= 1.0)
    last.update(added_jobs=added, cost_per_added_job=per_added)
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
    return (f"<table class='accounts'><caption>City accounts, {when}</caption>"
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
            + "".join(f"<td data-col='band-added-{k}'>{_banded(added[k][:, index[c]], fmt, scale, k == 'jobs')}</td>"
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
    done = "".join(f"<li class='shock'>{html.escape(text)}</li>" for _, text in cockpit.shock_text())
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


def reproduce_command(model: ContestModel, scenario: str) -> str:
    """The `python -m sim` command that recreates this run's city table up to the month shown.

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
    return " ".join(["python -m sim", *map(shlex.quote, head), *cached[1]])


def city_table_csv(model: ContestModel) -> str:
    """The run's city table so far, as CSV (the columns of cities.parquet)."""
    return model.city_table().to_csv(index=False)


# --------------------------------------------------------------------------- components

STYLE = ("div.seed-error{color:#b00020;font-size:13px}div.run-end{font-size:13px;color:#333}"
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


def banner_html(model: ContestModel) -> str:
    """Who is the capital now, and since when, as a coloured banner."""
    kind = "none" if model.capital.current is None else "capital"
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
        "banner": banner_html(c.model),
        "map": f"<div class='map-wrap' data-steps='{c.model.steps}'>{map_html(c)}</div>",
        "changes": changes_html(c),
        "charts": f"<div class='charts-wrap'>{charts_html(c)}</div>",
        "bands": bands_html(c),
        "accounts": f"<div class='accounts-wrap'>{accounts_html(c)}</div>",
        "command": f"<pre class='command'>{html.escape(reproduce_command(c.model, c.scenario))}</pre>",
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
    """The page's main column, laid out once: banner, map and changes, charts, accounts, reproduce panel."""
    cockpit, w = views.cockpit, views.widgets
    solara.Style(STYLE + map_style())
    solara.Column(children=[w["banner"]])
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        solara.Column(children=[w["map"]])
        with solara.Column(style={"min-width": "320px", "flex": "1"}):
            solara.HTML(tag="div", unsafe_innerHTML="<b>Policy changes</b>")
            solara.Column(children=[w["changes"]])
    solara.Column(children=[w["bands"], w["charts"], w["accounts"]])
    solara.HTML(tag="div", unsafe_innerHTML=account_terms_html(), classes=["accounts-key"])
    with solara.Card("Reproduce this run"):
        solara.HTML(tag="p", unsafe_innerHTML="Run this to recreate the city table shown (<code>cities.parquet</code> "
                                              "in the run folder):")
        solara.Column(children=[w["command"]])
        solara.FileDownload(lambda: city_table_csv(cockpit.model), filename=f"cities_{cockpit.scenario}.csv",
                            label="Download the city table (CSV)", mime_type="text/csv")
