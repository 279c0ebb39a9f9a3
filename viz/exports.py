"""What the planner takes away from the page: a chart as SVG or PNG, the band table as CSV, and saved runs compared.

The SVG is the chart's own markup, made on the server when asked for; the
PNG is drawn by the browser from the chart on screen (png_button.vue), so
it is exactly what the planner sees. The band table is `Bands.table()`:
one row per place with each figure's median and 90 % band now, and what
the changes added, under summary.json's names.
"""

from __future__ import annotations

from pathlib import Path

import solara

from viz.charts import ADDED_TITLE, PANELS, charts
from viz.cockpit import Cockpit, main_cities
from viz.compare import comparison_html



@solara.component_vue(str(Path(__file__).with_name("png_button.vue")))
def PngButton(selector: str, filename: str, label: str):
    """A button that downloads the SVG matched by `selector` as a PNG (drawn by the browser)."""

CHART_CHOICES = {title: key for key, title, _, _ in PANELS} | {ADDED_TITLE: "added_jobs"}


def chart_svg(cockpit: Cockpit, key: str) -> str:
    """The chart `key` as the page shows it now, as a standalone SVG file ('' before the first month)."""
    _, made = charts(cockpit)
    found = {k: chart for k, _, chart in made}
    return found.get(key, "")


def band_table_csv(cockpit: Cockpit) -> str:
    """The ensemble's table now (viz/bands.py), with the cities' names: one row per place."""
    bands = cockpit.bands
    if bands is None or bands.steps == 0:
        return "no months run yet\n"
    table = bands.table()
    names = {c.id: c.name for c in cockpit.model.params.scenario.cities}
    table.insert(1, "name", [names.get(p, p) for p in table["city"]])
    year, month = cockpit.model.year_month(cockpit.model.steps - 1)
    table.insert(2, "month", f"{year}-{month:02d}")
    table.insert(3, "runs", bands.n)
    return table.to_csv(index=False)


@solara.component
def Exports(cockpit: Cockpit):
    """Pick a chart; download it as SVG or PNG; download the band table as CSV."""
    title = solara.use_reactive(PANELS[0][1])
    key = CHART_CHOICES[title.value]
    with solara.Card("Export"):
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select(label="chart to export", values=list(CHART_CHOICES), value=title, dense=True,
                          style={"min-width": "280px"})
            solara.FileDownload(lambda: chart_svg(cockpit, key), filename=f"{cockpit.scenario}_{key}.svg",
                                label="Chart (SVG)", mime_type="image/svg+xml")
            PngButton(selector=f".charts .chart-box[data-chart='{key}'] svg", filename=f"{cockpit.scenario}_{key}.png",
                      label="Chart (PNG)")
            solara.FileDownload(lambda: band_table_csv(cockpit), filename=f"{cockpit.scenario}_bands.csv",
                                label="Band table (CSV)", mime_type="text/csv")


@solara.component
def CompareRuns(cockpit: Cockpit):
    """Save the run as it stands; pick two saved runs; see them side by side with their difference."""
    count = solara.use_reactive(len(cockpit.saved))
    first = solara.use_reactive("")
    second = solara.use_reactive("")
    error = solara.use_reactive("")

    def keep() -> None:
        try:
            saved = cockpit.save_run()
        except ValueError as why:
            error.set(str(why))
            return
        error.set("")
        count.set(len(cockpit.saved))
        if not first.value:
            first.set(saved.name)
        else:
            second.set(saved.name)

    count.value  # noqa: B018 - redrawn when a run is saved
    names = [r.name for r in cockpit.saved]
    with solara.Card("Compare runs"):
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Button("Save this run", on_click=keep, outlined=True)
            solara.Select(label="run A", values=names, value=first, dense=True, style={"min-width": "140px"})
            solara.Select(label="run B", values=names, value=second, dense=True, style={"min-width": "140px"})
        if error.value:
            solara.HTML(tag="div", classes=["run-error"], unsafe_innerHTML=error.value)
        by_name = {r.name: r for r in cockpit.saved}
        if first.value in by_name and second.value in by_name:
            solara.HTML(tag="div", classes=["compare-wrap"], unsafe_innerHTML=comparison_html(
                by_name[first.value], by_name[second.value], main_cities(cockpit.model.params)))
        else:
            solara.HTML(tag="p", classes=["hint"], unsafe_innerHTML=(
                f"{len(names)} saved. Save a run, change something (Reset keeps your changes; Reset and clear changes "
                "drops them), run again and save again: the two show side by side, with B minus A."))
