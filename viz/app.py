"""The Drama Capital cockpit in the browser (`make serve`, or `solara run viz/app.py`).

Each browser session gets its own run: `Page` is a component, so the
`Cockpit` (run, twin, ensemble, changes, saved runs) lives in that session's
state, never at module level. The page is two panes: the controls on the
left (scenario, run control, view, levers by city) and the answer on the
right (banner, map, bands, charts, comparisons, accounts, reproduce).
The page uses no Solara sidebar, so Solara shows no app bar or drawer (and
no unlabelled menu button), and both panes scroll on their own at 1024 x 768.

The run's views are widgets whose text `LiveViews.refresh` replaces after
each step, reset or change; the component tree re-renders only where a
control must change: a city's levers after its own change or a Reset
(`mine`, `resets`), and after each step only the levers a strategy moves
(`tick`).
"""

from __future__ import annotations

import html
import threading

import solara
import solara.server.settings

from viz.adapter import DEFAULT_SCENARIO, cockpit_scenarios, describe
from viz.cockpit import STRATEGIES, STRATEGY_HELP, Cockpit, main_cities
from viz.components import LiveViews, RunViews

# "This website runs on Solara" sits over the page's bottom right corner (the legend, the tables): off.
solara.server.settings.theme.show_banner = False

ENSEMBLE_RUNS = 20  # the runs (and their twins) behind the page's bands (viz/bands.py)
# Play's speeds: months shown per second (0: as fast as the server runs them).
SPEEDS = {"1 month a second": 1.0, "4 months a second": 4.0, "12 months a second": 12.0, "as fast as it runs": 0.0}
DEFAULT_SPEED = "4 months a second"

LAYOUT = ("div.cockpit-layout{display:flex;height:100vh;width:100%;overflow:hidden}"
          "div.controls-pane{flex:0 0 340px;width:340px;overflow-y:auto;padding:8px 10px;border-right:1px solid #ddd;"
          "background:#fafafa}"
          "div.main-pane{flex:1 1 auto;min-width:0;overflow:auto;padding:8px 14px}"
          "div.lever-help,div.strategy-help,div.scenario-description,div.view-help{font-size:11px;color:#444;"
          "margin:0 0 4px 0}"
          "div.lever-error,div.run-error{color:#b00020;font-size:12px}"
          "div.lever .v-input--slider .v-label{position:absolute;width:1px;height:1px;overflow:hidden;"
          "clip:rect(0 0 0 0)}"  # the slider's name, for screen readers: the lever's head shows it on screen
          "div.lever .v-text-field{margin-top:0;padding-top:0}")


@solara.component
def LeverSlider(cockpit: Cockpit, city: str, name: str, lever: str, value: float, pending: bool,
                mine: solara.Reactive[int], views: LiveViews):
    """One lever: its value and unit, a slider, a box to type the value (percent for shares), its help and range.

    `value` and `pending` are props, so a lever redraws exactly when what it
    shows changes; `mine` counts this city's lever changes, and `views` puts
    the change on the rest of the page (the change notes, the setup's run).
    """
    spec = cockpit.specs[lever]
    refused = solara.use_reactive("")

    def move(new: float) -> None:
        if value != new and abs(new - round(value / spec.step) * spec.step) < 1e-9 * max(1.0, abs(new)):
            return  # the browser snapping an off-grid value to the slider's step, not the planner moving it
        refused.set("")
        cockpit.set_value(city, lever, new)
        mine.value += 1
        views.refresh()

    def typed(text: str) -> None:
        new, why = cockpit.refusal(city, lever, text)
        refused.set(why)
        if new is not None and new != value:
            cockpit.set_value(city, lever, new)
            mine.value += 1
            views.refresh()

    top = max(spec.slider_max, value)
    beyond = f"; type up to {spec.hi:,.0f}" if spec.hi > top else ""
    flag = " <span class='pending-tag'>pending: from the next Step</span>" if pending else ""
    with solara.Column(gap="0px", classes=["lever", "pending" if pending else "applied"]):
        solara.HTML(tag="div", classes=["lever-head"], attributes={"title": spec.help},
                    unsafe_innerHTML=f"{html.escape(spec.label)}: <b class='lever-value'>{html.escape(spec.show(value))}</b>{flag}")
        solara.SliderFloat(f"{name}: {spec.label}", value=value, min=spec.lo, max=top, step=spec.step, on_value=move,
                           thumb_label=True)
        solara.HTML(tag="div", classes=["lever-range"],
                    unsafe_innerHTML=html.escape(f"slider {spec.lo:g} to {top:g} {spec.unit.strip()}{beyond}"))
        solara.InputText(f"{name}: {spec.label}, {spec.unit.strip()} (type a value, Enter)", value=f"{value:g}",
                         on_value=typed, continuous_update=False, classes=["lever-entry"])
        if refused.value:
            solara.HTML(tag="div", classes=["lever-error"], unsafe_innerHTML=html.escape(refused.value))
        solara.HTML(tag="div", classes=["lever-help"], unsafe_innerHTML=html.escape(spec.help))


@solara.component
def CityLevers(cockpit: Cockpit, city: str, name: str, open_: bool, views: LiveViews,
               tick: solara.Reactive[int], resets: solara.Reactive[int]):
    """A city's levers and strategy, in a panel that folds (its levers exist only while it is open).

    Its levers redraw after its own changes, after a Reset, and after each
    step only when its strategy may move its policy (not `fixed`). Folded
    panels keep the page's widget tree small, which keeps each step fast.
    """
    shown = solara.use_reactive(open_)
    mine = solara.use_reactive(0)
    with solara.Column(gap="0px", classes=["city-levers", f"city-{city}"]):
        arrow = "▾" if shown.value else "▸"
        solara.Button(f"{arrow} {name}", text=True, on_click=lambda: shown.set(not shown.value),
                      classes=["city-toggle"], style={"justify-content": "flex-start", "text-transform": "none"},
                      attributes={"aria-expanded": "true" if shown.value else "false"})
        if not shown.value:
            return
        resets.value  # noqa: B018
        if cockpit.model.params.scenario.city(city).strategy.kind.value != "fixed":
            tick.value  # noqa: B018
        mine.value  # noqa: B018 - after this city's own changes
        for lever in cockpit.specs:
            LeverSlider(cockpit, city, name, lever, cockpit.value(city, lever), (city, lever) in cockpit.pending, mine,
                        views)

        def pick(kind: str) -> None:
            cockpit.set_strategy(city, kind)
            mine.value += 1
            views.refresh()

        kind = cockpit.strategy(city)
        solara.Select(label=f"{name}: strategy (from the next Reset once running)", values=STRATEGIES, value=kind,
                      on_value=pick, dense=True)
        solara.HTML(tag="div", classes=["strategy-help"],
                    unsafe_innerHTML=html.escape(f"{kind}: {STRATEGY_HELP.get(kind, '')}"))


@solara.component
def RunControls(cockpit: Cockpit, views: LiveViews, resets: solara.Reactive[int], playing: solara.Reactive[bool],
                tick: solara.Reactive[int], speed: solara.Reactive[str], on_step, on_reset, on_run_to):
    """Step, Run to end, Play/Pause at a chosen speed, Reset with or without the changes, run to a month, the seed,
    and the month shown (a live view: it changes without a re-render). Only this card redraws after a step."""
    resets.value  # noqa: B018 - the seed field after a Reset
    tick.value  # noqa: B018 - after each step: the buttons follow the run to its end
    finished = cockpit.finished
    refused = solara.use_reactive("")
    goal = solara.use_reactive("")
    month = solara.use_reactive("")  # the month field, emptied after each run-to (the same month can be typed again)

    def seed(text: str) -> None:
        try:
            value = int(str(text).strip())
        except ValueError:
            refused.set(f"seed: {str(text).strip()!r} is not a whole number; the seed stays "
                        f"{cockpit.on_reset.get('seed', cockpit.seed)}")
            return
        if value < 0:
            refused.set(f"seed: {value} is below 0; the seed stays {cockpit.on_reset.get('seed', cockpit.seed)}")
            return
        refused.set("")
        cockpit.set_seed(value)
        views.refresh()

    def run_to(text: str | None) -> None:
        if not (text or "").strip():
            return  # the field emptied after a run-to
        try:
            steps = cockpit.month_number(text)
        except ValueError as error:
            goal.set(str(error))
            return
        goal.set("")
        on_run_to(steps)
        month.set("")

    with solara.Card("Run"):
        solara.Column(children=[views.widgets["month"]])
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.Button("Step", on_click=on_step, disabled=playing.value or finished, color="primary")
            solara.Button("Run to end", on_click=lambda: on_run_to(cockpit.model.params.steps),
                          disabled=playing.value or finished)
            solara.Button("Pause" if playing.value else "Play", on_click=lambda: playing.set(not playing.value),
                          disabled=finished and not playing.value)
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.Button("Reset", on_click=lambda: on_reset(True), disabled=playing.value,
                          attributes={"title": "start again from month 0 with your changes as the setup"})
            solara.Button("Reset and clear changes", on_click=lambda: on_reset(False), disabled=playing.value,
                          attributes={"title": "start again from month 0 with the scenario as it is"})
        solara.InputText("run to month (YYYY-MM, Enter)", value=month, on_value=run_to, continuous_update=False,
                         disabled=playing.value or finished)
        if goal.value:
            solara.HTML(tag="div", classes=["run-error"], unsafe_innerHTML=html.escape(goal.value))
        solara.Select(label="Play speed", values=list(SPEEDS), value=speed)
        solara.InputText("seed", value=str(cockpit.on_reset.get("seed", cockpit.seed)), on_value=seed,
                         continuous_update=False)
        if refused.value:
            solara.HTML(tag="div", classes=["seed-error"], unsafe_innerHTML=html.escape(refused.value))
        solara.HTML(tag="p", classes=["run-note"], unsafe_innerHTML=(
            "A lever moved before the first Step changes the setup; during the run it changes the city's policy "
            "from the next month (marked on the charts). Reset starts again from the setup and any pending changes; "
            "Reset and clear changes starts from the scenario as it is."))


@solara.component
def ViewControls(cockpit: Cockpit, views: LiveViews):
    """Bands over the ensemble or the one run on screen, and which cities the map and charts highlight."""
    bands = solara.use_reactive(cockpit.show_bands)
    names = {c.id: c.name for c in cockpit.model.params.scenario.cities}
    ids = {name: c for c, name in names.items()}
    chosen = solara.use_reactive([names[c] for c in cockpit.highlighted])

    def switch(on: bool) -> None:
        bands.set(on)
        cockpit.show_bands = on
        views.refresh()

    def highlight(picked: list[str]) -> None:
        cockpit.set_highlighted([ids[n] for n in picked])
        chosen.set([names[c] for c in cockpit.highlighted])
        views.refresh()

    with solara.Card("View"):
        solara.Switch(label=f"Bands over {cockpit.runs} runs (off: the one run on screen)", value=bands.value,
                      on_value=switch)
        solara.HTML(tag="div", classes=["view-help"], unsafe_innerHTML=(
            f"On: medians and 90 % bands over {cockpit.runs} runs and the same runs without your changes. "
            "Off: the one run whose reproduce command is at the bottom of the page."))
        solara.SelectMultiple("Highlighted cities", values=chosen.value, all_values=list(ids), on_value=highlight,
                              dense=True)


@solara.component
def ContestCockpit(name: str, scenario: solara.Reactive[str]):
    """The cockpit for the scenario `name`: controls and levers in the left pane, the run's views in the main pane;
    a new cockpit (its own run) when the picker (`scenario`) names another."""
    cockpit = solara.use_memo(lambda: Cockpit(name, runs=ENSEMBLE_RUNS), dependencies=[name])
    views = solara.use_memo(lambda: LiveViews(cockpit), dependencies=[cockpit])
    lock = solara.use_memo(threading.Lock, dependencies=[])
    tick = solara.use_reactive(0)
    resets = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(DEFAULT_SPEED)

    def advance(steps: int | None = None) -> None:
        with lock:
            had_pending = bool(cockpit.pending)
            cockpit.run_to(cockpit.model.steps + 1 if steps is None else steps)
            views.refresh()
        tick.value += 1  # only the levers a strategy moves listen
        if had_pending:
            resets.value += 1  # the pending marks on the levers clear

    def reset(keep: bool) -> None:
        with lock:
            cockpit.reset(keep=keep)
            views.refresh()
        tick.value += 1
        resets.value += 1

    def play(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            if cockpit.finished:  # the run's last month: Play stops there
                playing.set(False)
                return
            advance()
            rate = SPEEDS[speed.value]
            cancel.wait(1.0 / rate if rate else 0.0)

    solara.use_thread(play, dependencies=[playing.value])

    names = {c.id: c.name for c in cockpit.model.params.scenario.cities}
    first = main_cities(cockpit.model.params)
    with solara.Div(classes=["cockpit-layout"]):
        with solara.Div(classes=["controls-pane"]):
            ScenarioPicker(scenario)
            RunControls(cockpit, views, resets, playing, tick, speed, lambda: advance(), reset, advance).key(
                f"run-{name}")
            ViewControls(cockpit, views).key(f"view-{name}")
            solara.HTML(tag="div", classes=["levers-title"],
                        unsafe_innerHTML="<b>Levers by city</b> (the contest's main cities first; click a city to "
                                         "fold it)")
            for k, city in enumerate(first + [c for c in names if c not in first]):
                CityLevers(cockpit, city, names[city], k < 2, views, tick, resets).key(f"levers-{name}-{city}")
        with solara.Div(classes=["main-pane"]):
            RunViews(views).key(f"views-{name}")


@solara.component
def ScenarioPicker(scenario: solara.Reactive[str]):
    """The scenario list (the contests of real cities; the checks stay on the command line) and what it asks."""
    items = [{"text": f"{name}: {describe(name)}", "value": name} for name in cockpit_scenarios()]
    with solara.Card("Scenario"):
        solara.v.Select(label="scenario", items=items, v_model=scenario.value, on_v_model=scenario.set, dense=True,
                        hide_details=True)
        solara.HTML(tag="div", classes=["scenario-description"], unsafe_innerHTML=html.escape(describe(scenario.value)))


@solara.component
def Page():
    """The app: the cockpit for the picked scenario (a new one, with its own run, when the scenario changes)."""
    scenario = solara.use_reactive(DEFAULT_SCENARIO)
    solara.Title("Drama Capital")
    solara.Style(LAYOUT)
    ContestCockpit(scenario.value, scenario).key(f"cockpit-{scenario.value}")
