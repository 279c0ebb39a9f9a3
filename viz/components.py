"""Page components: capital banner, map, charts and the accounts table.

Each takes the model, reads Mesa's `update_counter` so it redraws after
every step, and draws with matplotlib (rendered on the server: the page
needs no chart library from outside).
"""

from __future__ import annotations

import html
import io
import json
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import solara  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

from sim.model import ContestModel  # noqa: E402

CHINA = Path(__file__).parent / "data" / "china.geojson"
COLORS = plt.get_cmap("tab20").colors


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes.

    The views reuse one Figure per model, so the bytes, not the figure
    object, are what the image element compares to know it must redraw.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


@lru_cache(maxsize=1)
def china_rings() -> list[np.ndarray]:
    """China's outline as lon/lat rings (Natural Earth via world-atlas; see tools/extract_china.mjs)."""
    geometry = json.loads(CHINA.read_text())["features"][0]["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [np.asarray(ring) for polygon in polygons for ring in polygon]


def city_names(model: ContestModel) -> dict[str, str]:
    return {c.city_id: c.name for c in model.cities}


def capital_text(model: ContestModel) -> str:
    """'Capital: X since YYYY-MM' or 'No capital yet'."""
    tracker = model.capital
    if tracker.current is None:
        window = model.params.capital_window
        if model.steps < window:
            return f"No capital yet: a capital needs {window} months of record (month {model.steps} of {window})"
        return f"No capital yet (no city holds {model.params.capital_threshold:.0%} of the last {window} months' output)"
    year, month = model.year_month(tracker.since - 1)
    return f"Capital: {city_names(model)[tracker.current]} since {year}-{month:02d}"


@solara.component
def CapitalBanner(model: ContestModel):
    """Who is the capital now, and since when."""
    update_counter.get()
    text = capital_text(model)
    if model.capital.current is None:
        solara.Info(text, dense=True)
    else:
        solara.Success(text, dense=True)


# Label positions tried around a city, in points from its centre (the first that fits is kept).
LABEL_SPOTS = [(6, 6, "left", "bottom"), (6, -6, "left", "top"), (-6, 6, "right", "bottom"),
               (-6, -6, "right", "top"), (8, 0, "left", "center"), (-8, 0, "right", "center"),
               (0, 9, "center", "bottom"), (0, -9, "center", "top")]
LEADERS = 2  # the contest's leaders, by trailing share: drawn in full, the others muted


def city_colours(n: int) -> list:
    """One categorical colour per city (tab20: distinct for up to 20), the same on the map and in the charts."""
    return [COLORS[i % len(COLORS)] for i in range(n)]


def leaders(model: ContestModel) -> list[int]:
    """Indices of the leading cities by 12-month trailing share (last month's share before a year of record)."""
    share = model.city_state.share[: model.n_cities]
    if model.steps:
        trailing = model.recorder.column("trailing_share")[-1][: model.n_cities]
        share = np.where(np.isfinite(trailing), trailing, share)
    return [int(j) for j in np.argsort(-share, kind="stable")[:LEADERS]]


def overlaps(a, b, pad: float = 1.0) -> bool:
    """Whether two display-space boxes overlap (with `pad` pixels between them)."""
    return not (a.x1 + pad <= b.x0 or b.x1 + pad <= a.x0 or a.y1 + pad <= b.y0 or b.y1 + pad <= a.y0)


class MapView:
    """The map figure of one model, drawn once; each step moves only the circles and labels.

    Circles: area by companies, one colour per city; the leaders in full, the
    others muted. Labels are placed so that no two overlap: the leaders first,
    then the larger cities, each at the first free spot around its circle; a
    label with no free spot is left off (the accounts table has every city).
    """

    def __init__(self, model: ContestModel):
        self.fig = Figure(figsize=(5.4, 3.8), dpi=80)
        FigureCanvasAgg(self.fig)  # a renderer for the labels' extents, the same that draws the PNG
        ax = self.ax = self.fig.subplots()
        for ring in china_rings():
            ax.fill(ring[:, 0], ring[:, 1], facecolor="#f2efe6", edgecolor="#8a8a8a", lw=0.6)
        lon = np.array([c.lon for c in model.cities])
        lat = np.array([c.lat for c in model.cities])
        self.colours = np.array([(*c, 1.0) for c in city_colours(len(model.cities))])
        self.points = ax.scatter(lon, lat, s=np.full(len(lon), 30.0), c=self.colours, edgecolors="black",
                                 linewidths=0.6, zorder=3)
        self.labels = [ax.annotate(c.name, (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8, zorder=4)
                       for c, x, y in zip(model.cities, lon, lat)]
        ax.set_xlim(73, 136)
        ax.set_ylim(17, 54)
        ax.set_aspect(1.2)
        ax.set_xticks([])
        ax.set_yticks([])
        self.title = ax.set_title("", fontsize=10)
        ax.text(0.01, 0.01, "circle area: production companies; leaders in full colour", transform=ax.transAxes,
                fontsize=7, color="0.35")
        self.fig.tight_layout()

    def update(self, model: ContestModel) -> Figure:
        firms = model.city_state.firms[: model.n_cities]  # the cities on the map (not the rest of the country)
        share = model.city_state.share[: model.n_cities]
        self.points.set_sizes(30 + 1500 * firms / max(firms.max(), 1.0))
        top = leaders(model)
        colours = self.colours.copy()
        muted = np.setdiff1d(np.arange(len(colours)), top)
        colours[muted, 3] = 0.35
        self.points.set_facecolors(colours)
        for j, (label, city) in enumerate(zip(self.labels, model.cities)):
            lead = j in top
            label.set_text(f"{city.name} {share[j]:.0%}" if lead else city.name)
            label.set_fontweight("bold" if lead else "normal")
            label.set_color("black" if lead else "0.35")
        radius = np.sqrt(self.points.get_sizes()) / 2  # points: a marker's size is its area in points^2
        self._place_labels(top + [int(j) for j in np.argsort(-firms, kind="stable") if j not in top], radius)
        year, month = model.year_month(max(model.steps - 1, 0))
        self.title.set_text(f"Production companies by city, {year}-{month:02d}")
        return self.fig

    def _place_labels(self, order: list[int], radius: np.ndarray) -> None:
        renderer = self.fig.canvas.get_renderer()
        frame = self.ax.get_window_extent(renderer)
        taken = []
        for j in order:
            label = self.labels[j]
            label.set_visible(True)
            for dx, dy, ha, va in LABEL_SPOTS:  # just outside the circle, in each direction in turn
                label.set_position((np.sign(dx) * (radius[j] * 0.7 + abs(dx) / 2), np.sign(dy) * (radius[j] * 0.7 + abs(dy) / 2)))
                label.set_ha(ha)
                label.set_va(va)
                box = label.get_window_extent(renderer)
                inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
                if inside and not any(overlaps(box, other) for other in taken):
                    taken.append(box)
                    break
            else:
                label.set_visible(False)


def map_figure(model: ContestModel) -> Figure:
    """Cities on China's outline: circle area by firms, a colour per city, the leaders highlighted, no label overlapping."""
    if model.__dict__.get("_map_view") is None:  # one view per model: the outline is drawn once
        model.__dict__["_map_view"] = MapView(model)
    return model.__dict__["_map_view"].update(model)


@solara.component
def CityMap(model: ContestModel):
    """The capital banner above the map (circle area: firms; the leaders in full colour)."""
    update_counter.get()
    CapitalBanner(model)
    solara.Image(png(map_figure(model)))


PANELS = [("trailing_share", "share of productions (12-month)", 1.0), ("firms", "firms", 1.0),
          ("subsidy_paid", "subsidies paid, M¥ a month", 1e6), ("budget_left", "budget left, M¥", 1e6),
          ("employment", "employment (jobs)", 1.0), ("cost_per_job", "outlay per job, ¥", 1.0)]


class ChartsView:
    """The six time-series panels of one model, laid out once; each step only replaces the line data."""

    def __init__(self, model: ContestModel):
        self.fig = Figure(figsize=(7.0, 7.6), dpi=80)
        self.axes = self.fig.subplots(3, 2, sharex=True).ravel()
        self.lines: list[list] = []
        names = [c.name for c in model.cities]
        colours = city_colours(len(names))
        # Month m (the step) is shown as its date, "2026-03", as everywhere on the page.
        as_date = FuncFormatter(lambda m, _: "{}-{:02d}".format(*model.year_month(int(round(m)) - 1)) if m >= 1 else "")
        for ax, (_, title, _) in zip(self.axes, PANELS):
            self.lines.append([ax.plot([], [], color=colours[i], lw=1.4, label=name)[0] for i, name in enumerate(names)])
            ax.set_title(title, fontsize=9)
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            ax.xaxis.set_major_formatter(as_date)
            ax.grid(alpha=0.3)
        threshold = model.params.capital_threshold
        self.axes[0].axhline(threshold, color="black", ls="--", lw=1)
        self.axes[0].text(0.02, threshold + 0.02, f"capital threshold {threshold:.0%}", transform=self.axes[0].get_yaxis_transform(),
                          fontsize=7, va="bottom")
        self.axes[0].set_ylim(0, 1)
        handles, labels = self.axes[0].get_legend_handles_labels()
        columns = min(len(labels), 5)
        rows = -(-len(labels) // columns)
        self.fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize=8, frameon=False)
        self.fig.tight_layout(rect=(0, 0.035 * rows + 0.01, 1, 1))

    def update(self, model: ContestModel) -> Figure:
        table = model.city_table()
        steps = table.step.to_numpy().reshape(-1, model.n_places)[:, 0]
        for p, (column, _, scale) in enumerate(PANELS):
            values = table[column].to_numpy(dtype=float).reshape(-1, model.n_places) / scale
            for j, line in enumerate(self.lines[p]):
                line.set_data(steps, values[:, j])
                line.set_marker("o" if len(steps) < 3 else "")  # one or two months: show the points
            ax = self.axes[p]
            ax.set_xlim(steps[0] - 0.5, steps[-1] + 0.5)
            if p > 0:
                finite = values[np.isfinite(values)]
                top = float(finite.max()) if finite.size else 1.0
                ax.set_ylim(0, top * 1.05 if top > 0 else 1.0)
        return self.fig


def charts_figure(model: ContestModel) -> Figure:
    """Six panels over time: share (with the capital threshold), firms, subsidies, budget left, jobs, cost per job."""
    if model.__dict__.get("_charts_view") is None:
        model.__dict__["_charts_view"] = ChartsView(model)
    return model.__dict__["_charts_view"].update(model)


@solara.component
def Charts(model: ContestModel):
    """Time series of the contest."""
    update_counter.get()
    if model.steps == 0:
        solara.Text("Press Step or Play to run the model.")
        return
    solara.Image(png(charts_figure(model)))


ACCOUNT_COLUMNS = [("firms", "firms", "{:,.0f}"), ("productions", "dramas", "{:,.0f}"),
                   ("trailing_share", "12-mo share", "{:.1%}"), ("employment", "jobs", "{:,.0f}"),
                   ("reward_rate", "reward", "{:.2f}"), ("subsidy_total", "paid M¥", "{:,.1f}"),
                   ("budget_left", "left M¥", "{:,.1f}"), ("tax", "tax M¥/mo", "{:,.1f}"),
                   ("tourism", "tourism M¥/mo", "{:,.1f}"), ("cost_per_job", "¥ per job", "{:,.0f}")]
# What each column means, shown under the table and on hover over its heading.
ACCOUNT_DEFINITIONS = {
    "firms": "production companies working in the city this month",
    "productions": "dramas the city's companies made this month",
    "trailing_share": "the city's share of national output over the last 12 months (the capital test)",
    "employment": "jobs: the crews of the city's companies, times the share of the month they could shoot",
    "reward_rate": "the city's reward per yuan of a production's cost (its strategy may move it)",
    "subsidy_total": "rewards paid since the start, million yuan",
    "budget_left": "what the reward fund can still pay this budget period: money on hand plus releases to come, M yuan",
    "tax": "tax on the city's companies' revenue this month, million yuan",
    "tourism": "culture-tourism spending brought by local-culture dramas this month, million yuan",
    "cost_per_job": "the treasury's outlay since the start (rewards, AIGC support, talent and studio programmes) "
                    "per job now, yuan",
}
MILLIONS = {"subsidy_total", "budget_left", "tax", "tourism"}


def accounts_html(model: ContestModel) -> str:
    """The current city accounts as an HTML table (one row per city)."""
    header = "".join(f"<th title='{html.escape(ACCOUNT_DEFINITIONS[column], quote=True)}'>{html.escape(label)}</th>"
                     for column, label, _ in ACCOUNT_COLUMNS)
    rows = []
    cs = model.city_state
    last = model.city_table().query(f"step == {model.steps}").set_index("city") if model.steps else None
    for j, city in enumerate(model.cities):
        cells = []
        for column, _, fmt in ACCOUNT_COLUMNS:
            if last is not None:
                value = last.loc[city.city_id, column]
            elif column == "reward_rate":
                value = model.policy.reward_rate[j]
            elif column == "firms":
                value = cs.firms[j]
            elif column == "budget_left":  # the fund opens in the first month: show what it will hold
                value = model.policy.annual_budget[j] * model.policy.budget_period_years[j]
            else:
                value = float("nan")
            if column in MILLIONS:
                value = value / 1e6
            text = "-" if value != value else fmt.format(value)
            cells.append(f"<td data-col='{column}'>{text}</td>")
        rows.append(f"<tr data-city='{city.city_id}'><th>{html.escape(city.name)}</th>{''.join(cells)}</tr>")
    year, month = model.year_month(max(model.steps - 1, 0))
    when = f"{year}-{month:02d}" if model.steps else "before the first month"
    terms = "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(ACCOUNT_DEFINITIONS[column])}</dd>"
                    for column, label, _ in ACCOUNT_COLUMNS)
    return (f"<table class='accounts'><caption>City accounts, {when}</caption>"
            f"<thead><tr><th>city</th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<dl class='accounts-terms'>{terms}</dl>")


TABLE_STYLE = ("div.accounts-wrap{overflow-x:auto}"
               "table.accounts{border-collapse:collapse;font-size:11px}"
               "table.accounts td,table.accounts th{border-bottom:1px solid #ddd;padding:2px 5px;text-align:right}"
               "table.accounts tbody th{text-align:left}table.accounts caption{text-align:left;font-weight:bold}"
               "dl.accounts-terms{font-size:11px;display:grid;grid-template-columns:max-content 1fr;gap:0 8px}"
               "dl.accounts-terms dt{font-weight:bold}dl.accounts-terms dd{margin:0}")


@solara.component
def AccountsTable(model: ContestModel):
    """City accounts this month."""
    update_counter.get()
    solara.Style(TABLE_STYLE)
    solara.HTML(tag="div", unsafe_innerHTML=accounts_html(model), classes=["accounts-wrap"])


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


def reproduce_command(model) -> str:
    """The `python -m sim` command that recreates this run's city table up to the month shown.

    The scenario, the seed, the months run and every key whose value differs
    from the scenario's own (the sliders moved before Reset).
    """
    from sim.params import to_dict
    from viz.adapter import base_params

    name = getattr(model, "scenario_name", model.scenario_params.name)
    base = _flat(base_params(name))
    mine = _flat(to_dict(model.params))
    changed = [f"{k}={_literal(v)}" for k, v in mine.items() if k not in ("seed", "steps") and base.get(k) != v]
    return " ".join(["python -m sim", f"scenario={name}", f"seed={model.params.seed}", f"steps={max(model.steps, 1)}",
                     *changed])


def city_table_csv(model) -> str:
    """The run's city table so far, as CSV (the columns of cities.parquet)."""
    return model.city_table().to_csv(index=False)


@solara.component
def ReproducePanel(model: ContestModel):
    """The command that recreates the run shown, and the city table to download."""
    update_counter.get()
    with solara.Card("Reproduce this run"):
        solara.Markdown("Run this to recreate the city table shown (`cities.parquet` in the run folder):")
        solara.Preformatted(reproduce_command(model))
        if model.steps:
            year, month = model.year_month(model.steps - 1)
            solara.FileDownload(lambda: city_table_csv(model), filename=f"cities_{year}-{month:02d}.csv",
                                label="Download the city table (CSV)", mime_type="text/csv")
