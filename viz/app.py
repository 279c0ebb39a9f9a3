"""The Drama Capital cockpit in the browser (`make serve`, or `solara run viz/app.py`).

Each browser session gets its own run: `Page` is a component, so the
`Cockpit` (run, twin, changes) lives in that session's state, never at
module level. The page has its own controls, in the planner's words:
Step (one month), Play/Pause, Reset, the seed, and per city its levers.

The run's views (month, banner, map, charts, changes, accounts, command)
are widgets whose text `LiveViews.refresh` replaces after each step, reset
or lever change; the component tree re-renders only where a control must
change: a city's sliders after its own change or a Reset (`mine`,
`resets`), and after each step only the sliders a strategy moves (`tick`).
"""

from __future__ import annotations

import html
import threading

import solara

from viz.adapter import DEFAULT_SCENARIO, cockpit_scenarios
from viz.cockpit import STRATEGIES, Cockpit, main_cities
from viz.components import LiveViews, RunViews

PLAY_INTERVAL_S = 0.25  # months shown per second while playing: four
ENSEMBLE_RUNS = 20  # the runs (and their twins) behind the page's bands (viz/bands.py)


@solara.component
def LeverSlider(cockpit: Cockpit, city: str, lever: str, value: float, pending: bool, mine: solara.Reactive[int],
                views: LiveViews):
    """One lever: its value and unit above the slider, its range beneath, its doc on hover; pending changes marked.

    `value` and `pending` are props, so a slider redraws exactly when what it
    shows changes; `mine` counts this city's lever changes, and `views` puts
    the change on the rest of the page (the change notes, the setup's run).
    """
    spec = cockpit.specs[lever]

    def move(new: float) -> None:
        if value != new and abs(new - round(value / spec.step) * spec.step) < 1e-9 * max(1.0, abs(new)):
            return  # the browser snapping an off-grid value to the slider's step, not the planner moving it
        cockpit.set_value(city, lever, new)
        mine.value += 1
        views.refresh()

    top = max(spec.slider_max, value)
    beyond = f"; up to {spec.hi:,.0f} from the command line" if spec.hi > top else ""
    flag = " <span class='pending-tag'>pending: from the next Step</span>" if pending else ""
    with solara.Column(gap="0px", classes=["lever", "pending" if pending else "applied"]):
        solara.HTML(tag="div", classes=["lever-head"], attributes={"title": spec.doc},
                    unsafe_innerHTML=f"{html.escape(spec.label)}: <b class='lever-value'>{html.escape(spec.show(value))}</b>{flag}")
        solara.SliderFloat("", value=value, min=spec.lo, max=top, step=spec.step, on_value=move, thumb_label=True)
        solara.HTML(tag="div", classes=["lever-range"], attributes={"title": spec.doc},
                    unsafe_innerHTML=html.escape(f"range {spec.lo:g} to {top:g} {spec.unit}{beyond}"))


@solara.component
def CityLevers(cockpit: Cockpit, city: str, name: str, open_: bool, views: LiveViews,
               tick: solara.Reactive[int], resets: solara.Reactive[int]):
    """A city's levers and strategy, in a panel that folds (its sliders exist only while it is open).

    Its sliders redraw after its own changes, after a Reset, and after each
    step only when its strategy may move its policy (not `fixed`). Folded
    panels keep the page's widget tree small, which keeps each step fast.
    """
    shown = solara.use_reactive(open_)
    mine = solara.use_reactive(0)
    with solara.Column(gap="0px", classes=["city-levers", f"city-{city}"]):
        arrow = "▾" if shown.value else "▸"
        solara.Button(f"{arrow} {name}", text=True, on_click=lambda: shown.set(not shown.value),
                      classes=["city-toggle"], style={"justify-content": "flex-start", "text-transform": "none"})
        if not shown.value:
            return
        resets.value  # noqa: B018
        if cockpit.model.params.scenario.city(city).strategy.kind.value != "fixed":
            tick.value  # noqa: B018
        mine.value  # noqa: B018 - after this city's own changes
        for lever in cockpit.specs:
            LeverSlider(cockpit, city, lever, cockpit.value(city, lever), (city, lever) in cockpit.pending, mine, views)

        def pick(kind: str) -> None:
            cockpit.set_strategy(city, kind)
            mine.value += 1
            views.refresh()

        solara.Select(label="strategy (from the next Reset once running)", values=STRATEGIES,
                      value=cockpit.strategy(city), on_value=pick, dense=True)


@solara.component
def RunControls(cockpit: Cockpit, views: LiveViews, resets: solara.Reactive[int], playing: solara.Reactive[bool],
                tick: solara.Reactive[int], on_step, on_reset, on_end):
    """Step, Run to end, Play/Pause, Reset, the seed and the month shown (a live view: it changes without a
    re-render), and the month the run ends. Only this card redraws after a step (its buttons stop at the end)."""
    resets.value  # noqa: B018 - the seed field after a Reset
    tick.value  # noqa: B018 - after each step: the buttons follow the run to its end
    finished = cockpit.finished
    refused = solara.use_reactive("")

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

    with solara.Card("Run"):
        solara.Column(children=[views.widgets["month"]])
        with solara.Row():
            solara.Button("Step", on_click=on_step, disabled=playing.value or finished, color="primary")
            solara.Button("Run to end", on_click=on_end, disabled=playing.value or finished)
            solara.Button("Pause" if playing.value else "Play", on_click=lambda: playing.set(not playing.value),
                          disabled=finished and not playing.value)
            solara.Button("Reset", on_click=on_reset, disabled=playing.value)
        solara.InputText("seed", value=str(cockpit.on_reset.get("seed", cockpit.seed)), on_value=seed,
                         continuous_update=False)
        if refused.value:
            solara.HTML(tag="div", classes=["seed-error"], unsafe_innerHTML=html.escape(refused.value))
        solara.HTML(tag="p", classes=["run-note"], unsafe_innerHTML=(
            "A lever moved before the first Step changes the setup; during the run it changes the city's policy "
            "from the next month (marked on the charts). Reset starts again from the setup and any pending changes."))


@solara.component
def ContestCockpit(scenario: str):
    """The cockpit for one scenario: controls and levers in the sidebar, the run's views in the main column."""
    cockpit = solara.use_memo(lambda: Cockpit(scenario, runs=ENSEMBLE_RUNS), dependencies=[])
    views = solara.use_memo(lambda: LiveViews(cockpit), dependencies=[])
    lock = solara.use_memo(threading.Lock, dependencies=[])
    tick = solara.use_reactive(0)
    resets = solara.use_reactive(0)
    playing = solara.use_reactive(False)

    def advance() -> None:
        with lock:
            had_pending = bool(cockpit.pending)
            cockpit.step()
            views.refresh()
        tick.value += 1  # only the sliders a strategy moves listen
        if had_pending:
            resets.value += 1  # the pending marks on the sliders clear

    def reset() -> None:
        with lock:
            cockpit.reset()
            views.refresh()
        tick.value += 1
        resets.value += 1

    def run_to_end() -> None:
        with lock:
            had_pending = bool(cockpit.pending)
            cockpit.run_to_end()
            views.refresh()
        tick.value += 1
        if had_pending:
            resets.value += 1

    def play(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            if cockpit.finished:  # the run's last month: Play stops there
                playing.set(False)
                return
            advance()
            cancel.wait(PLAY_INTERVAL_S)

    solara.use_thread(play, dependencies=[playing.value])

    names = {c.id: c.name for c in cockpit.model.params.scenario.cities}
    first = main_cities(cockpit.model.params)
    with solara.Sidebar():
        RunControls(cockpit, views, resets, playing, tick, advance, reset, run_to_end)
        solara.HTML(tag="div", classes=["levers-title"],
                    unsafe_innerHTML="<b>Levers by city</b> (the contest's main cities first; click a city to fold it)")
        for k, city in enumerate(first + [c for c in names if c not in first]):
            CityLevers(cockpit, city, names[city], k < 2, views, tick, resets)
    RunViews(views)


@solara.component
def Page():
    """The app: a scenario picker, then the cockpit for the picked scenario."""
    scenario = solara.use_reactive(DEFAULT_SCENARIO)
    solara.Title("Drama Capital")
    with solara.Sidebar():
        with solara.Card("Scenario"):
            solara.Select(label="scenario", value=scenario, values=cockpit_scenarios())
    ContestCockpit(scenario.value).key(f"cockpit-{scenario.value}")
