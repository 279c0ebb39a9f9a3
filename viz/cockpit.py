"""One planner's session in the browser, without the browser: the run, its levers, its changes and its twin.

`Cockpit` holds what the page shows and lets a planner act on it:

- the levers: every instrument a city strategy may move (`STRATEGY_LEVERS`),
  with the label, unit, range and doc read from the parameter's own spec
  (`lever_specs`), never from a second list;
- changes before the run starts edit the run's setup (they are overrides in
  the reproduce command); changes once it runs are pending until the next
  Step, which applies them from that month as policy shocks
  (`ContestModel.add_shock`), recorded in the run's params and table;
- the twin: the same scenario and seed without any of the planner's
  changes, stepped alongside, so the page can show what the changes did
  (faint lines, added jobs, outlay per added job);
- seed and strategy changes, which cannot apply mid-run, wait for Reset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sim.model import ContestModel
from sim.params import (STRATEGY_LEVERS, PolicyParams, PolicyShock, RunParams, StrategyKind, apply_overrides, from_dict,
                        month_offset, StrategyParams, strategy_rate_bounds)
from viz.adapter import DEFAULT_SEED, base_params

RATE_LEVERS_WITH_BOUNDS = ("reward_rate", "culture_rate")  # the rates a strategy keeps within its bounds

M = 1e6
STRATEGIES = [k.value for k in StrategyKind]
# A slider spans up to this multiple of the scenario's largest value of its lever (a strategy's war chest,
# StrategyParams.max_budget_multiple, has the same default); larger values are still allowed from the command line.
SLIDER_MULTIPLE = 4.0


# Each lever in the planner's words: its name on the page and a help line (on hover and under the slider). The
# parameter's own doc (sim/params.py) keeps the sources; these say what the lever does in the model.
LEVER_HELP = {
    "reward_rate": ("reward rate", "Cash the city pays a production company per yuan a drama costs (10% pays "
                    "100,000 yuan on a 1 M yuan drama), while the year's fund lasts and up to the reward cap."),
    "reward_cap": ("reward cap", "The most the city pays for any one production, all its rewards together."),
    "culture_rate": ("local-culture bonus", "An extra reward, as a percent of cost, for dramas set in the city's "
                     "own culture and places; such dramas also bring culture-tourism spending to the city."),
    "aigc_support": ("AI production support", "The share of crew and studio costs the city pays back to companies "
                     "that produce with AI tools (AIGC), paid from the same annual fund as the rewards."),
    "annual_budget": ("annual fund", "What the city sets aside each year for rewards and AI support, released "
                      "month by month; when it is spent, payments wait for the next release."),
    "talent_programme": ("talent programme", "Spending a year on training and housing crews: it grows the city's "
                         "own pool of crew, which keeps wages down as companies arrive."),
    "studio_investment": ("studio investment", "Spending a year on building studio parks: new studio space opens "
                          "after the building time, so more companies can shoot in the city."),
}
# A city's strategy in the planner's words (the choice next to its levers).
STRATEGY_HELP = {
    "fixed": "keeps the levers where you set them",
    "reactive": "raises its reward and fund when its share falls, lowers them when it recovers or overspends",
    "imitate": "moves its reward, cap and fund toward the leading city's",
    "objective": "adjusts its levers, month by month, toward more jobs, tax and tourism for less outlay",
}
PERCENT = 0.01  # a share shows and is typed as a percent: 20 on the page is 0.20 in the model


@dataclass(frozen=True)
class LeverSpec:
    """One instrument as a slider shows it: in display units (percent for shares, M¥ for yuan), with its range."""

    name: str
    label: str  # "reward rate"
    unit: str  # "% of cost", "M¥", "M¥/yr"
    scale: float  # model units per display unit (0.01 for a share shown in percent, 1e6 for M¥)
    lo: float  # allowed range, display units (from the spec)
    hi: float
    slider_max: float  # where the slider ends, display units
    step: float
    doc: str  # the parameter's doc, with its sources (sim/params.py)
    help: str = ""  # what the lever does, in the planner's words

    def to_model(self, value: float) -> float:
        """A display value in model units (20 % -> 0.2), without float noise (0.29, not 0.29000000000000004)."""
        return float(f"{value * self.scale:.12g}")

    def to_display(self, value: float) -> float:
        """A model value in display units (0.2 -> 20 %)."""
        return float(f"{value / self.scale:.12g}")

    def show(self, value: float) -> str:
        """The value with its unit, e.g. '10% of cost' or '50.0 M¥/yr'."""
        if self.scale == PERCENT:
            return f"{round(value, 4):g}{self.unit}"
        return f"{value:,.1f} {self.unit}"


STEPS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0)


def _on_grid(value: float, step: float) -> bool:
    return abs(value / step - round(value / step)) < 1e-6


def _nice_step(span: float, values=()) -> float:
    """A round slider step near a hundredth of the span (0.01, 0.05, 0.1, 1, 5, ...), fine enough to hold `values`.

    A browser slider snaps its value to its step, so a step that misses a
    city's value (33 M on a step of 5) would move that value on its own.
    """
    raw = span / 100
    start = next((k for k, step in enumerate(STEPS) if step >= raw), len(STEPS) - 1)
    for step in STEPS[start::-1]:
        if all(_on_grid(v, step) for v in values):
            return step
    return STEPS[0]


def lever_specs(scenario: str) -> dict[str, LeverSpec]:
    """The slider of each lever in `STRATEGY_LEVERS`, from PolicyParams' own range, unit and doc.

    Yuan amounts show in million yuan. A share's slider spans its whole
    allowed range; an amount's spans up to SLIDER_MULTIPLE times the largest
    value any city of the scenario has (or, where none has any, times the
    largest annual budget), because the allowed range (up to 100 bn yuan)
    would leave a real budget at the slider's first pixel.
    """
    fields = {f.name: f for f in dataclasses.fields(PolicyParams)}
    cities = base_params(scenario)["scenario"]["cities"].values()
    budgets = max((c["policy"]["annual_budget"] for c in cities), default=0.0)
    out = {}
    for name in STRATEGY_LEVERS:
        meta = fields[name].metadata
        unit = meta["unit"]
        money = unit.startswith("yuan")
        share = unit.startswith("share of")
        scale = M if money else PERCENT if share else 1.0
        shown = unit.replace("yuan", "M¥") if money else unit.replace("share of", "% of") if share else unit
        lo, hi = meta["lo"] / scale, meta["hi"] / scale
        if money:
            largest = max((c["policy"][name] for c in cities), default=0.0) or budgets or M
            top = min(hi, SLIDER_MULTIPLE * largest / scale)
        else:
            top = hi
        lo, hi, top = (round(v, 9) for v in (lo, hi, top))  # 0.9 / 0.01 is 90.00000000000001
        values = [c["policy"][name] / scale for c in cities]
        label, help_ = LEVER_HELP.get(name, (name.replace("_", " "), meta["doc"]))
        out[name] = LeverSpec(name, label, shown, scale, lo, hi, top, _nice_step(top - lo, values), meta["doc"], help_)
    return out


def main_cities(params: RunParams, n: int = 3) -> list[str]:
    """The contest's main cities: the n with the most companies at the start (they are listed first)."""
    ranked = sorted(params.scenario.cities, key=lambda c: -c.firms)
    return [c.id for c in ranked[:n]]


def ensemble_seeds(seed: int, n: int) -> list[int]:
    """The seeds of the page's ensemble: n seeds spawned from the page's seed (numpy.random.SeedSequence)."""
    import numpy as np

    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n, dtype=np.uint32)]


def scenario_posterior(scenario: str) -> str | None:
    """The scenario's published posterior (its runs draw their parameter sets from it), or None."""
    from experiments.calibration.posterior import available

    return scenario if scenario in available() else None


class Cockpit:
    """A run the planner steers: the model, the twin without the planner's changes, and the changes made.

    With `runs` > 0 it also keeps an ensemble (viz/bands.py): `runs` seeds spawned from the page's seed, each
    with the parameter set it draws from the scenario's posterior where one is published, with the planner's
    setup and changes, beside their twins without them. It is made at the first Step (not on every lever move
    before the start) and follows every Step and change.
    """

    def __init__(self, scenario: str, seed: int = DEFAULT_SEED, runs: int = 0):
        self.runs = runs
        self.scenario = scenario
        self.specs = lever_specs(scenario)
        self.base = base_params(scenario)
        self.seed = seed  # the seed the next Reset uses
        self.setup: dict[str, float | str] = {}  # changes made before the run started: dotted key -> value
        self.pending: dict[tuple[str, str], float] = {}  # (city, lever) -> display value, applied at the next Step
        self.on_reset: dict[str, object] = {}  # seed and strategies, which apply at the next Reset
        self.show_bands = runs > 0  # the page's answer over the ensemble; False: the one run on screen
        self.saved: list = []  # runs the planner saved to compare (viz/compare.py); they outlive Reset
        self.reset()
        self.highlighted = main_cities(self.model.params)  # drawn in full on the map and the charts, in this order

    # ---------------------------------------------------------------- the run
    def reset(self, keep: bool = True) -> None:
        """A new run from month 0: with the planner's changes (the sliders' current values become its setup), or,
        with keep=False, the scenario as it is (a seed chosen for the next Reset still applies)."""
        if not keep:
            self.setup, self.pending = {}, {}
            self.on_reset = {k: v for k, v in self.on_reset.items() if k == "seed"}
        for (city, lever), value in self.pending.items():
            self.setup[self._policy_key(city, lever)] = self.specs[lever].to_model(value)
        for key, value in self.on_reset.items():
            if key == "seed":
                self.seed = int(value)
            else:
                self.setup[key] = value
        self.pending, self.on_reset = {}, {}
        self._rebuild()

    def step(self) -> None:
        """One month: pending changes apply from it (as policy shocks), then the run and its twin step."""
        m = self.model
        year, month = m.year_month(m.steps)
        for (city, lever), value in self.pending.items():
            m.add_shock(PolicyShock(f"{year}-{month:02d}", city, lever, self.specs[lever].to_model(value)))
        bands = self.bands
        if bands is not None:
            for shock in m.params.shocks[len(bands.ensemble.runs[0].shocks):]:
                bands.change(shock)
        self.pending = {}
        if m.params.shocks and self.twin is None:  # the first change of this run: start the twin, caught up
            self.twin = ContestModel(self._params({})).run(m.steps) if m.steps else ContestModel(self._params({}))
        m.step()
        if self.twin is not None:
            self.twin.step()
        if bands is not None:
            bands.step()

    @property
    def finished(self) -> bool:
        """Whether the run has reached its length (`steps`: the scenario's months, 60 by default)."""
        return self.model.steps >= self.model.params.steps

    def run_to_end(self) -> None:
        """Step to the run's last month (pending changes apply at the first of them)."""
        self.run_to(self.model.params.steps)

    def run_to(self, steps: int) -> None:
        """Step until `steps` months are done (at most the run's length; nothing when already there)."""
        while self.model.steps < min(steps, self.model.params.steps):
            self.step()

    def month_number(self, text: str) -> int:
        """Months done when the run has shown the month `text` ('2026-06'), checked against the run: a ValueError
        names the allowed range in one line."""
        from sim.params import month_offset

        m = self.model
        first, last = (f"{y}-{mo:02d}" for y, mo in (m.year_month(0), m.year_month(m.params.steps - 1)))
        import re

        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(text).strip()):
            raise ValueError(f"run to: {str(text).strip()!r} is not a month; allowed {first} to {last}, as YYYY-MM")
        steps = month_offset(m.params.start, str(text).strip()) + 1
        if not m.steps < steps <= m.params.steps:
            shown = f"{m.year_month(m.steps - 1)[0]}-{m.year_month(m.steps - 1)[1]:02d}" if m.steps else "none yet"
            raise ValueError(f"run to: {str(text).strip()} is outside the months still to run; allowed after the "
                             f"month shown ({shown}) up to {last}")
        return steps

    @property
    def bands(self):
        """The ensemble beside the run (None when `runs` is 0), made when first asked for and caught up to the run."""
        if self.runs <= 0:
            return None
        if self._bands is None:
            from viz.bands import Bands

            self._bands = Bands(self._params({}), self._params(self.setup), ensemble_seeds(self.seed, self.runs),
                                scenario_posterior(self.scenario))
            for shock in self.model.params.shocks:
                self._bands.change(shock)
            self._bands.run_to(self.model.steps)
        return self._bands

    def save_run(self, name: str | None = None):
        """Keep the run as it stands (its changes and the ensemble's figures) to compare with another."""
        from viz.compare import save

        saved = save(self, name)
        self.saved.append(saved)
        return saved

    def highlighted_indices(self) -> list[int]:
        """The highlighted cities' indices in the run's city order."""
        return [self.model.city_ids.index(c) for c in self.highlighted if c in self.model.city_ids]

    def set_highlighted(self, cities: list[str]) -> None:
        """The cities the map and charts draw in full (the planner's choice; the main cities when none is left)."""
        unknown = [c for c in cities if c not in self.model.city_ids]
        if unknown:
            raise ValueError(f"highlighted: no city {unknown[0]!r}; allowed: {', '.join(self.model.city_ids)}")
        self.highlighted = list(cities) or main_cities(self.model.params)

    # ---------------------------------------------------------------- levers
    def value(self, city: str, lever: str) -> float:
        """The lever's value as the slider shows it: pending if changed, else the run's current policy."""
        if (city, lever) in self.pending:
            return self.pending[(city, lever)]
        return self.current(city, lever)

    def current(self, city: str, lever: str) -> float:
        """The lever's value in the run now (after any shock or strategy move), in display units."""
        j = self.model.city_ids.index(city)
        return self.specs[lever].to_display(float(getattr(self.model.policy, lever)[j]))

    def refusal(self, city: str, lever: str, text: str) -> tuple[float | None, str]:
        """A value typed for a lever, in display units ('20', '20%', '12.5'): (value, '') when allowed, else
        (None, a one-line reason naming the lever and its allowed range)."""
        spec = self.specs[lever]
        raw = str(text).strip().removesuffix("%").strip().replace(",", "")
        lo, hi = spec.lo, spec.hi
        bounds = strategy_rate_bounds(self._strategy_params(city), lever)
        if bounds is not None:
            lo, hi = max(lo, spec.to_display(bounds[0])), min(hi, spec.to_display(bounds[1]))
        allowed = f"allowed {lo:g} to {hi:g} {spec.unit.strip()}"
        try:
            value = float(raw)
        except ValueError:
            return None, f"{spec.label}: {str(text).strip()!r} is not a number; {allowed}"
        if not lo <= value <= hi:
            return None, f"{spec.label}: {value:g} is outside the range; {allowed}"
        return value, ""

    def set_value(self, city: str, lever: str, value: float) -> None:
        """Move a lever: before the run starts it edits the setup; once it runs the change waits for the next Step."""
        spec = self.specs[lever]
        value = min(max(float(value), spec.lo), spec.hi)
        bounds = strategy_rate_bounds(self._strategy_params(city), lever)
        if bounds is not None:  # a strategy cannot hold a rate outside its own bounds (sim.params refuses it)
            value = min(max(value, spec.to_display(bounds[0])), spec.to_display(bounds[1]))
        if self.model.steps == 0:
            self.setup[self._policy_key(city, lever)] = spec.to_model(value)
            self._rebuild()
            return
        current = self.current(city, lever)
        if abs(value - current) <= 1e-12 * max(1.0, abs(current)):
            self.pending.pop((city, lever), None)  # moved back: nothing to change
        else:
            self.pending[(city, lever)] = value

    def strategy(self, city: str) -> str:
        key = self._strategy_key(city)
        if key in self.on_reset:
            return str(self.on_reset[key])
        return self.model.params.scenario.city(city).strategy.kind.value

    def set_strategy(self, city: str, kind: str) -> None:
        """A city's strategy: at once before the run starts, else from the next Reset."""
        key = self._strategy_key(city)
        if self.model.steps == 0:
            self.setup[key] = kind
            self._rebuild()
        else:
            self.on_reset[key] = kind

    def set_seed(self, seed: int) -> None:
        """The seed: at once before the run starts, else from the next Reset."""
        if self.model.steps == 0:
            self.seed = int(seed)
            self._rebuild()
        else:
            self.on_reset["seed"] = int(seed)

    def changed_cities(self) -> set[str]:
        """Cities whose policy or strategy the planner changed, in the setup or mid-run."""
        cities = {key.split(".")[2] for key in self.setup}
        return cities | {s.city for s in self.model.params.shocks}

    def pending_text(self) -> list[str]:
        """Each change still to apply, in words: 'Zhengzhou reward rate 0.10 → 0.20 from 2026-03'."""
        m = self.model
        year, month = m.year_month(m.steps)
        names = {c.id: c.name for c in m.params.scenario.cities}
        out = []
        for (city, lever), value in self.pending.items():
            spec = self.specs[lever]
            now = self.current(city, lever)
            out.append(f"{names[city]} {spec.label} {spec.show(now)} → {spec.show(value)} from {year}-{month:02d} "
                       "(next Step)")
        for key, value in self.on_reset.items():
            what = "seed" if key == "seed" else f"{names[key.split('.')[2]]} strategy"
            out.append(f"{what} → {value} at the next Reset")
        return out

    def setup_text(self) -> list[str]:
        """The changes made before the run started, in words: 'Zhengzhou reward rate 20% of cost from the start'."""
        names = {c.id: c.name for c in self.model.params.scenario.cities}
        out = []
        for key, value in self.setup.items():  # scenario.cities.<city>.policy.<lever> or .strategy.kind
            city, lever = key.split(".")[2], key.split(".")[-1]
            spec = self.specs.get(lever)
            if spec is not None:
                out.append(f"{names.get(city, city)} {spec.label} {spec.show(spec.to_display(value))} from the start")
            else:
                out.append(f"{names.get(city, city)} strategy {value} from the start")
        return out

    def shock_marks(self) -> list[tuple[int, str, str]]:
        """The mid-run changes as the charts mark them: (month number, 'Zhengzhou reward rate 20%', the full text)."""
        names = {c.id: c.name for c in self.model.params.scenario.cities}
        out = []
        for (month, text), s in zip(self.shock_text(), self.model.params.shocks):
            spec = self.specs.get(s.lever)
            value = spec.to_display(s.value) if spec else s.value
            unit = "%" if spec and spec.unit.startswith("%") else f" {spec.unit}" if spec else ""
            short = f"{names[s.city].split(' (')[0]} {spec.label if spec else s.lever} {value:g}{unit}"
            out.append((month, short, text))
        return out

    def shock_text(self) -> list[tuple[int, str]]:
        """The policy changes made mid-run: (month number, 'Zhengzhou reward rate 0.20 from 2026-03')."""
        names = {c.id: c.name for c in self.model.params.scenario.cities}
        out = []
        for s in self.model.params.shocks:
            spec = self.specs.get(s.lever)
            shown = spec.show(spec.to_display(s.value)) if spec else f"{s.value:g}"
            label = spec.label if spec else s.lever.replace("_", " ")
            out.append((month_offset(self.model.params.start, s.at) + 1, f"{names[s.city]} {label} {shown} from {s.at}"))
        return out

    # ---------------------------------------------------------------- params
    def _rebuild(self) -> None:
        """The run at month 0 from the seed and the setup; its twin without the setup when there is one."""
        self.model = ContestModel(self._params(self.setup))
        self.twin: ContestModel | None = ContestModel(self._params({})) if self.setup else None
        self._bands = None  # made at the first Step (viz/bands.py)

    def _params(self, setup: dict) -> RunParams:
        values = {"seed": self.seed, **setup}
        data = apply_overrides(self.base, values)
        for city, entry in data["scenario"]["cities"].items():  # a strategy chosen on the page keeps its rates
            bounds_of = from_dict(StrategyParams, entry["strategy"])
            for lever in RATE_LEVERS_WITH_BOUNDS:
                bounds = strategy_rate_bounds(bounds_of, lever)
                if bounds is not None and lever in entry.get("policy", {}):
                    entry["policy"][lever] = min(max(entry["policy"][lever], bounds[0]), bounds[1])
        return from_dict(RunParams, data)

    def _strategy_params(self, city: str) -> StrategyParams:
        """The city's strategy as it stands (with a kind chosen for the next Reset)."""
        strategy = self.model.params.scenario.city(city).strategy
        kind = self.setup.get(self._strategy_key(city), self.on_reset.get(self._strategy_key(city)))
        return dataclasses.replace(strategy, kind=StrategyKind(str(kind))) if kind is not None else strategy

    @staticmethod
    def _policy_key(city: str, lever: str) -> str:
        return f"scenario.cities.{city}.policy.{lever}"

    @staticmethod
    def _strategy_key(city: str) -> str:
        return f"scenario.cities.{city}.strategy.kind"
