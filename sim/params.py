"""Typed, frozen, validated parameters of the contest model.

These dataclasses are the only thing `ContestModel` reads. They are plain
Python: no Hydra, no OmegaConf, so the model runs from a notebook with
`ContestModel(RunParams(scenario=...))`. The Hydra layer (`sim.shell.config`)
derives its ConfigStore schemas from these classes and converts a composed
config into them once, with `from_dict`.

Every numeric field declares its allowed range with `spec(...)`; a value out
of range raises `ParamError` naming the key and the range. Sources of the
defaults are given beside each field: a source article of `docs/sources.md` (S1 to S8), or
"assumption" with the reason.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from sim import layout


class ParamError(ValueError):
    """A parameter is missing, of the wrong type or out of its allowed range."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Lever:
    """A policy instrument's roles, declared once on its field (`spec(..., lever=Lever(...))`).

    The lists the model, the counterfactual, the strategies, the shocks and
    the cockpit use (`levers_with`) are derived from these declarations, so a
    new instrument is one field here plus its arithmetic where it acts.
    """

    spends: bool = False  # costs the treasury: the no-policy counterfactual sets it to 0
    paid_from: str = ""  # what bounds its spending: "annual_budget" (the city's fund), "itself" (a yearly commitment)
    shock: bool = True  # a planner may change it mid-run (`shocks`); structural keys are fixed for a run
    strategy: str = ""  # how a strategy moves it: "rate" (absolute steps of rate_step), "amount" (relative steps); "" never


def spec(default: Any, lo: float | None = None, hi: float | None = None, *, doc: str = "", unit: str = "",
         lever: Lever | None = None):
    """A dataclass field with an allowed closed range [lo, hi], a one-line doc, its unit ("yuan", "share of cost")
    and, for a policy instrument, its roles (`Lever`)."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "doc": doc, "unit": unit, "lever": lever})


def _check_ranges(obj: Any) -> None:
    """Raise ParamError for the first field of `obj` outside its declared range."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if lo is None and hi is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f.name, f"must be a number, got {value!r}")
        if math.isnan(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ParamError(f.name, f"{value!r} is out of range; allowed {_range_text(lo, hi)}")


def _range_text(lo: float | None, hi: float | None) -> str:
    if isinstance(lo, int) and isinstance(hi, int):  # integer keys: print them as integers, never 9.2e+18
        return f"[{lo}, {hi}]"
    if hi is None:
        return f">= {lo:g}"
    if lo is None:
        return f"<= {hi:g}"
    return f"[{lo:g}, {hi:g}]"


class Validated:
    """Mixin: float fields hold floats (an int given for one is converted), then every range is checked."""

    def __post_init__(self) -> None:
        for name in _float_fields(type(self)):
            value = getattr(self, name)
            if isinstance(value, int) and not isinstance(value, bool):
                # Frozen dataclass: set once, here. A float key must stay a float in plain
                # dicts too, or overrides applied to them would round it like an int key.
                object.__setattr__(self, name, float(value))
        _check_ranges(self)


_FLOAT_FIELDS: dict[type, tuple[str, ...]] = {}


def _float_fields(cls: type) -> tuple[str, ...]:
    if cls not in _FLOAT_FIELDS:
        hints = get_type_hints(cls)
        _FLOAT_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if hints[f.name] is float)
    return _FLOAT_FIELDS[cls]


def _as_enum(obj: Any, name: str, cls: type[enum.Enum]) -> None:
    """Hold field `name` as a member of `cls` (direct construction may give its value, e.g. kind="reactive")."""
    value = getattr(obj, name)
    if not isinstance(value, cls):
        try:
            object.__setattr__(obj, name, cls(value))  # frozen: set once, here
        except ValueError:
            raise ParamError(name, f"{value!r} is not allowed; choose one of: {', '.join(m.value for m in cls)}") from None


class Stacking(enum.Enum):
    """How a production's several subsidies combine (S6: Shenzhen stacks, capped)."""

    stack = "stack"  # all instruments add up, then the per-production cap applies
    largest = "largest"  # only the largest single instrument is paid


class StrategyKind(enum.Enum):
    """How a city revises its policy over time."""

    fixed = "fixed"
    reactive = "reactive"  # escalates when its share falls, de-escalates when it recovers or the fund overruns
    imitate = "imitate"  # moves its reward, cap and budget toward the leader's
    objective = "objective"  # hill-climbs its own jobs + tax + tourism - outlay over the levers it declares




@dataclass(frozen=True)
class PolicyParams(Validated):
    """A city's policy instruments (all seen in S6 and S7).

    Rewards are shares of a production's cost, each "up to" a cap in yuan, as
    the cities announce them; a production may claim only if it passes the
    city's review (`eligible_share`) and costs at least `min_investment`.
    """

    reward_rate: float = spec(0.1, 0.0, 1.0, lever=Lever(spends=True, paid_from="annual_budget", strategy="rate"), doc="cash reward as a share of a production's cost (default: MODEL-BRIEF planner example 'from 10 %')", unit="share of cost")
    reward_cap: float = spec(3.0e6, 0.0, 1.0e9, lever=Lever(strategy="amount"), doc="most paid for one production, all rewards together, yuan (S6: Shanghai, Shenzhen 3 M)", unit="yuan")
    stacking: Stacking = Stacking.stack
    min_investment: float = spec(0.0, 0.0, 1.0e9, lever=Lever(), doc="production cost needed to qualify for any reward, yuan (S7: Wujin 5 M)", unit="yuan")
    eligible_share: float = spec(0.1, 0.0, 1.0, lever=Lever(), doc="share of productions that pass the city's review for a reward (assumption: S8 Zhejiang approved 52 of 251 filed key projects, 21 %, and about half of productions are filed)", unit="share")
    award_bonus: float = spec(0.0, 0.0, 5.0, lever=Lever(), doc="extra reward for award-winning works, share of the reward (S6: Xi'an +20 %)", unit="share of the reward")
    culture_rate: float = spec(0.0, 0.0, 1.0, lever=Lever(spends=True, paid_from="annual_budget", strategy="rate"), doc="local-culture bonus as a share of a production's cost (assumption: S6 gives only Zhengzhou's cap; scenarios set 10 %, the common reward rate)", unit="share of cost")
    culture_cap: float = spec(0.0, 0.0, 1.0e9, lever=Lever(), doc="most paid as local-culture bonus for one production, yuan (S6: Zhengzhou 'up to 300,000 yuan')", unit="yuan")
    aigc_support: float = spec(0.0, 0.0, 0.9, lever=Lever(spends=True, paid_from="annual_budget", strategy="rate"), doc="share of crew and studio cost that AIGC/technology support pays back to firms, from the city's annual fund with its rewards, so never more than the fund (S6: Changzhou)", unit="share of cost")
    annual_budget: float = spec(50.0e6, 0.0, 1.0e11, lever=Lever(spends=True, paid_from="itself", strategy="amount"), doc="the fund per year for rewards and AIGC support, yuan, released in equal monthly parts (S6: Shanghai 50 M for 2025)", unit="yuan/yr")
    budget_period_years: int = spec(1, 1, 10, doc="years one fund covers; money left at the period's end lapses (S6: Fujian 30 M over 3 years)", unit="years")
    talent_programme: float = spec(0.0, 0.0, 1.0e10, lever=Lever(spends=True, paid_from="itself", strategy="amount"), doc="yuan per year on training and housing that grows the talent pool (default 0: none unless a scenario sets one)", unit="yuan/yr")
    studio_investment: float = spec(0.0, 0.0, 1.0e10, lever=Lever(spends=True, paid_from="itself", strategy="amount"), doc="yuan per year spent building studios (default 0: none unless a scenario sets one)", unit="yuan/yr")
    studio_cost_per_team: float = spec(2.0e6, 1.0, 1.0e9, doc="yuan to build space for one more team (assumption: no cost figure in the seeds)", unit="yuan")
    studio_lag_months: int = spec(12, 1, 120, doc="months from spending to usable studio space (assumption: a park takes about a year)", unit="months")

    def __post_init__(self) -> None:
        _as_enum(self, "stacking", Stacking)  # PolicyArrays tests `is Stacking.stack`: the text "stack" would not stack
        super().__post_init__()


@dataclass(frozen=True)
class StrategyParams(Validated):
    """How and how often a city revises its policy, and the bounds it keeps to."""

    kind: StrategyKind = StrategyKind.fixed  # default: the announced policy stays (assumption)
    review_months: int = spec(3, 1, 60, doc="months between policy reviews (assumption: quarterly)")
    rate_step: float = spec(0.02, 0.0, 1.0, doc="change of reward_rate at one review (assumption)")
    min_reward_rate: float = spec(0.0, 0.0, 1.0, doc="lowest reward_rate an objective city will offer (assumption: it may withdraw the reward; a reactive city never goes below its announced rate)")
    max_reward_rate: float = spec(0.5, 0.0, 1.0, doc="highest reward_rate the city will offer (assumption)")
    budget_step: float = spec(0.25, 0.0, 10.0, doc="relative change of the annual budget at one review (assumption)")
    max_budget_multiple: float = spec(4.0, 1.0, 100.0, doc="highest annual budget as a multiple of the announced one (assumption: a war chest of four years' funds)")
    imitation_speed: float = spec(0.25, 0.0, 1.0, doc="share of the gap to the leader's policy closed per review (assumption)")
    share_tolerance: float = spec(0.005, 0.0, 1.0, doc="change in share that a reactive city ignores (assumption)")
    job_value: float = spec(10_000.0, 0.0, 1.0e7, doc="yuan a month the objective credits per job (assumption: about one month's wage)")
    discount_rate: float = spec(0.08, 0.0, 1.0, doc="annual rate at which the city discounts its objective over the run (the `payoff` outcome, the subsidy game's default payoff). Assumption: China's social discount rate of 8 % for public projects (NDRC and Ministry of Construction, Economic Evaluation Methods and Parameters for Construction Projects, 3rd edition, 2006)")
    levers: str = "reward_rate,annual_budget"  # objective: comma-separated instruments it may move (STRATEGY_LEVERS)

    def __post_init__(self) -> None:
        _as_enum(self, "kind", StrategyKind)
        names = [x.strip() for x in self.levers.split(",") if x.strip()]
        bad = [x for x in names if x not in STRATEGY_LEVERS]
        if bad or not names:
            raise ParamError("levers", f"{self.levers!r}: choose a comma-separated list of {', '.join(STRATEGY_LEVERS)}")
        super().__post_init__()  # each value in its own range first, so the message names the key that is out
        if self.min_reward_rate > self.max_reward_rate:
            raise ParamError("min_reward_rate", f"{self.min_reward_rate} is above max_reward_rate {self.max_reward_rate}")

    @property
    def lever_names(self) -> tuple[str, ...]:
        """The instruments the objective strategy moves."""
        return tuple(x.strip() for x in self.levers.split(",") if x.strip())


@dataclass(frozen=True)
class CityParams(Validated):
    """One city: identity, endowments and its starting policy."""

    id: str = "city"
    name: str = ""
    lon: float = spec(110.0, 70.0, 140.0, doc="longitude, degrees east (default: assumption, central China; scenarios give each city's own)")
    lat: float = spec(32.0, 15.0, 55.0, doc="latitude, degrees north (default: assumption, central China; scenarios give each city's own)")
    firms: int = spec(100, 0, 1_000_000, doc="production companies at the start (default: assumption, a placeholder city; scenarios set their own)")
    wage: float = spec(9000.0, 1.0, 1.0e6, doc="yuan per crew member per month at the city's endowed size (default: assumption, no wage in the seeds)")
    rent: float = spec(60_000.0, 0.0, 1.0e8, doc="yuan per team per month for studio space at reference occupancy (default: assumption, no rent in the seeds)")
    studio_capacity: float = spec(150.0, 0.0, 1.0e7, doc="teams the studios can host at once (S8: Quzhou factory 30 teams)")
    talent: float = spec(5000.0, 0.0, 1.0e8, doc="crew, actors and writers available (default: assumption, a placeholder city)")
    culture: float = spec(0.5, 0.0, 1.0, doc="cultural-tourism resources, index (default: assumption, middling)")
    ecommerce: float = spec(0.5, 0.0, 1.0, doc="e-commerce ecosystem, index (S7: Wujin's 300+ e-commerce firms)")
    approval: float = spec(0.5, 0.0, 1.0, doc="administrative/approval efficiency, index (default: assumption, middling)")
    policy: PolicyParams = field(default_factory=PolicyParams)
    strategy: StrategyParams = field(default_factory=StrategyParams)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", self.id) or self.id == OUTSIDE_ID:
            raise ParamError("id", f"{self.id!r} is not a city id; use lowercase ASCII letters, digits, '_' (e.g. 'xian'; {OUTSIDE_ID!r} is reserved)")
        super().__post_init__()
        for lever in ("reward_rate", "culture_rate"):
            bounds = strategy_rate_bounds(self.strategy, lever)
            value = getattr(self.policy, lever)
            if bounds is not None and not bounds[0] <= value <= bounds[1]:
                lo, hi = bounds
                raise ParamError(f"policy.{lever}", f"{value!r} is outside what the city's {self.strategy.kind.value} "
                                                    f"strategy will offer; allowed {_range_text(lo, hi)} "
                                                    f"({_bounds_source(self.strategy, lever)})")


def strategy_rate_bounds(s: StrategyParams, lever: str) -> tuple[float, float] | None:
    """The range a city's strategy keeps a rate lever in, which its announced value must lie in too (None: no bound).

    The bounds are those `sim.strategies` applies. A start outside them would
    not be a policy the strategy could hold: a reactive city never cuts below
    its announced rate, so one announced above `max_reward_rate` would keep
    offering more than its own maximum for the whole run; an objective city
    would jump into its bounds at its first review of that lever, a move no
    `rate_step` allows. A fixed city has no strategy bounds.
    """
    if s.kind is StrategyKind.fixed:
        return None
    if lever == "reward_rate":
        # Only the objective strategy offers less than its announced rate on purpose (down to min_reward_rate).
        return (s.min_reward_rate if s.kind is StrategyKind.objective else 0.0), s.max_reward_rate
    if lever == "culture_rate" and s.kind is StrategyKind.objective and lever in s.lever_names:
        return 0.0, s.max_reward_rate
    return None


def _bounds_source(s: StrategyParams, lever: str) -> str:
    if lever == "reward_rate" and s.kind is StrategyKind.objective:
        return "its strategy.min_reward_rate to strategy.max_reward_rate"
    if lever == "reward_rate":
        return "up to its strategy.max_reward_rate"
    return f"up to its strategy.max_reward_rate, as {lever} is one of its strategy.levers"


OUTSIDE_ID = "rest"  # the rest of the country, when a scenario enables it


@dataclass(frozen=True)
class OutsideParams(Validated):
    """The rest of the country: one more place firms can work, with no city policy and no single cluster.

    With it, the modelled cities compete with everyone else, and a city's
    share is a share of national output.
    """

    enabled: bool = False  # default off: a closed contest between the scenario's cities (the scenarios switch it on)
    name: str = "Rest of China"
    firms: int = spec(0, 0, 1_000_000, doc="production companies elsewhere at the start (assumption: scenarios size it to the modelled cities' published share)")
    wage: float = spec(8500.0, 1.0, 1.0e6, doc="yuan per crew member-month elsewhere (assumption: between the modelled cities' wages)")
    rent: float = spec(55_000.0, 0.0, 1.0e8, doc="yuan per team-month elsewhere (assumption: as above)")
    cluster: float = spec(300.0, 0.0, 1.0e6, doc="firms in the typical cluster elsewhere, for agglomeration (S8: Hengdian's 300+ related enterprises, the base S8 sets beside Quzhou's 40)")
    places: int = spec(3, 1, 10_000, doc="alike production bases the rest of the country stands for (assumption: a few large bases such as Hengdian, Hangzhou, Shanghai); adds logit_scale x ln(places) to its utility, the logsum of that many places")
    idle_share: float = spec(0.15, 0.0, 10.0, doc="idle trained crew members elsewhere per crew member at work, where founders are born (assumption: the named cities' files hold talent of about 1.1 to 1.25 times their crews at work, so about 0.15 idle)")
    distance_km: float = spec(1000.0, 0.0, 5000.0, doc="typical move between a modelled city and elsewhere, km (assumption: about the distance between neighbouring provincial capitals twice over)")
    culture: float = spec(0.5, 0.0, 1.0, doc="cultural-tourism resources elsewhere, index (assumption: middling)")
    ecommerce: float = spec(0.5, 0.0, 1.0, doc="e-commerce ecosystem elsewhere, index (assumption: middling)")
    approval: float = spec(0.5, 0.0, 1.0, doc="approval efficiency elsewhere, index (assumption: middling)")


@dataclass(frozen=True)
class MarketParams(Validated):
    """The national micro-short-drama market."""

    revenue_2024: float = spec(50.4e9, 0.0, 1.0e14, doc="yuan, 2024 (S5: 504.4亿 in 2024; S1: 504亿)")
    revenue_2025: float = spec(63.43e9, 0.0, 1.0e14, doc="yuan, 2025 (S5: 634.3亿 in 2025)")
    growth_after: float = spec(0.256, -0.9, 2.0, doc="growth from 2025 to 2026 (S1: 千亿 = 100 B by 2027, i.e. (100/63.43)^(1/2)-1)")
    saturation: float = spec(150.0e9, 1.0, 1.0e14, doc="yuan a year the market tends to (logistic ceiling after 2025; assumption: S8's 696 M users are already most of China's internet users, so growth must slow; 1.5 x S1's 100 B for 2027)")
    producer_share: float = spec(0.25, 0.0, 1.0, doc="share of revenue left to producers after platforms and paid traffic (assumption: not in the seeds; about a quarter leaves traffic-tier work near break-even in 2024)")
    coverage: float = spec(1.0, 0.0, 1.0, doc="share of the national market the modelled places compete for (1 with the rest of the country modelled; a closed contest of a few cities takes its own)")
    premium_weight: float = spec(7.0, 0.01, 1000.0, doc="revenue per premium production relative to a traffic one in 2024 (assumption: premium works cost about 7 times as much and earn alike; at least 0.01, so revenue per unit of attention stays finite)")
    quality_shift: float = spec(0.1, 0.0, 2.0, doc="yearly growth of the premium weight (assumption: S2/S5 say reward shifts to quality, no figure)")
    quality_shift_years: float = spec(10.0, 0.0, 100.0, doc="years the shift to quality lasts (assumption: a decade)")
    hit_spread: float = spec(0.6, 0.0, 3.0, doc="log-normal sigma of one production's revenue around its expectation (assumption: hits and flops; a few works earn most)")


@dataclass(frozen=True)
class FirmParams(Validated):
    """Production companies: size, output, costs, entry and exit."""

    crew_mean: float = spec(30.0, 1.0, 10_000.0, doc="people per company (S5: Zhengzhou 24,000 jobs / 800 enterprises)")
    crew_spread: float = spec(0.3, 0.0, 3.0, doc="log-normal sigma of crew size (assumption)")
    premium_share: float = spec(0.2, 0.0, 1.0, doc="share of the starting companies in the premium tier (assumption); a new company picks the tier that pays better where it would work")
    rate_traffic: float = spec(0.83, 0.0, 30.0, doc="productions per month, traffic tier (S8: 150 dramas by 30 teams in 6 months)")
    rate_premium: float = spec(0.4, 0.0, 30.0, doc="productions per month, premium tier (assumption: about twice as long per work)")
    spend_traffic: float = spec(0.25e6, 0.0, 1.0e9, doc="cast, post-production and equipment per traffic production, yuan (assumption: with crews and studio a traffic drama costs about 0.7 M, a fifth of S8's 3.3 M revenue per Quzhou drama)")
    spend_premium: float = spec(4.0e6, 0.0, 1.0e9, doc="the same per premium production, yuan (assumption: with crews and studio a premium work costs about 5 M, S7's investment threshold, so about half of them qualify in Wujin)")
    spend_spread: float = spec(0.2, 0.0, 3.0, doc="log-normal sigma of a company's spend per production (assumption: some companies shoot for less; the efficient ones survive)")
    overhead: float = spec(50_000.0, 0.0, 1.0e8, doc="fixed yuan per month a company pays even when idle (assumption)")
    start_capital_months: float = spec(6.0, 0.0, 120.0, doc="starting capital in months of costs (assumption)")
    exit_patience: int = spec(6, 1, 120, doc="months over which a company averages its profit, and months that average may stay negative before it exits (assumption)")
    exit_hazard: float = spec(0.2, 0.0, 1.0, doc="chance per month that a company past its patience, and still losing this month, closes (assumption: closures spread over months, so the survivors' recovering profits stop an exodus; 1 closes them all at once)")
    entry_rate: float = spec(0.1, 0.0, 1.0, doc="would-be entrants per month as a share of companies (assumption: free entry: many more would-be entrants than enter, so entry follows expected profit; those that expect to lose stay out)")
    entry_floor: float = spec(2.0, 0.0, 1.0e5, doc="would-be entrants per month however few companies there are (assumption)")
    entry_cost: float = spec(1.0e6, 0.0, 1.0e9, doc="yuan a new company must expect to recover over the planning horizon to enter (assumption: a studio set-up and first production)")
    award_prob_traffic: float = spec(0.01, 0.0, 1.0, doc="chance a traffic production wins an award (assumption)")
    award_prob_premium: float = spec(0.1, 0.0, 1.0, doc="chance a premium production wins an award (assumption)")
    culture_theme_max: float = spec(0.3, 0.0, 1.0, doc="share of local-culture productions where culture = 1 (assumption)")


@dataclass(frozen=True)
class BehaviourParams(Validated):
    """Location choice, agglomeration and congestion: the free behavioural parameters."""

    reconsider_rate: float = spec(0.05, 0.0, 1.0, doc="share of companies that reconsider their city each month (assumption)")
    horizon_months: float = spec(12.0, 1.0, 240.0, doc="months of expected profit weighed against a move (assumption)")
    moving_cost: float = spec(1.0e6, 0.0, 1.0e9, doc="fixed yuan one move costs a company, however short (assumption: about two months of a traffic company's costs: lost shooting time, new premises, crews to rehire)")
    moving_cost_per_km: float = spec(1000.0, 0.0, 1.0e6, doc="further yuan per km of the move (assumption: crews and sets travel, ties to the old city are lost; Xi'an-Zhengzhou, 430 km, adds about 0.4 M)")
    logit_scale: float = spec(0.5, 1e-6, 1e3, doc="scale of the Gumbel taste shock, million yuan (assumption: half the fixed moving cost, so few firms move without reason while entrants still spread over places)")
    agglomeration: float = spec(0.06, 0.0, 2.0, doc="elasticity of output with cluster size (Arthur 1989); 0.06: the mean of 729 estimates in Melo, Graham & Noland (2009), within Rosenthal & Strange's (2004) 0.04-0.11")
    cluster_ref: float = spec(100.0, 1.0, 1.0e6, doc="cluster size at which productivity is 1 (assumption)")
    home_pull: float = spec(3.0, 0.0, 100.0, doc="utility of working in the place a company was founded in, million yuan: founders' homes, their crews and networks stay there (assumption for the size: three fixed moving costs, so a company leaves home only for about 3 M yuan more over its horizon; entrepreneurs strongly prefer and do better at home: Figueiredo, Guimaraes & Woodward 2002; Dahl & Sorenson 2012)")
    cluster_pull: float = spec(0.05, 0.0, 100.0, doc="utility per log firm in the city beyond output: shared crews, equipment, million yuan (assumption)")
    talent_pull: float = spec(0.05, 0.0, 100.0, doc="utility per log of spare talent, million yuan (assumption)")
    facility_pull: float = spec(0.05, 0.0, 100.0, doc="utility per log of spare studio slots, million yuan (assumption)")
    rent_elasticity: float = spec(0.5, 0.0, 10.0, doc="elasticity of rent with occupancy of the endowed studios (assumption: private conversions make supply partly elastic)")
    reference_occupancy: float = spec(0.8, 0.01, 10.0, doc="occupancy at which rent equals the listed rent (assumption)")
    wage_elasticity: float = spec(0.3, 0.0, 10.0, doc="elasticity of wage with crew demand over the city's endowed pool (assumption: crews moving in must be paid to come)")
    talent_migration: float = spec(0.1, 0.0, 1.0, doc="share of a crew shortage filled each month by crews moving in (assumption; S1: 647 k jobs nationally to draw from)")
    talent_attrition: float = spec(0.01, 0.0, 1.0, doc="share of idle crews leaving each month (assumption)")
    studio_supply_rate: float = spec(0.05, 0.0, 1.0, doc="monthly growth of private studio space per unit of occupancy above reference (assumption: sets are converted quickly)")
    trainee_cost: float = spec(20_000.0, 1.0, 1.0e8, doc="yuan of talent programme per crew member added (assumption)")
    ecommerce_uplift: float = spec(0.2, 0.0, 5.0, doc="extra revenue per production where ecommerce = 1 (S7 dual stream; size assumed)")
    approval_uplift: float = spec(0.2, 0.0, 5.0, doc="extra output where approval = 1 (assumption)")


@dataclass(frozen=True)
class EconomyParams(Validated):
    """What a city earns back from the industry."""

    tax_rate: float = spec(0.06, 0.0, 1.0, doc="local tax take on company revenue (assumption)")
    tourism_per_culture_production: float = spec(1.0e6, 0.0, 1.0e10, doc="tourism yuan per local-culture production (assumption scaled on S2 Sihong's 2025 tourism rise, which S2 does not attribute to dramas)")


@dataclass(frozen=True)
class UnitsParams(Validated):
    """How the model's units map to what the sources count (docs/ODD.md 6.1, "Units of account").

    A model company is a production company with a standing crew (firms.crew_mean people at work). The sources
    count other things: registered enterprises with short drama in their business scope, and direct jobs, which
    include everyone a production hires for a shoot. The two ratios turn the model's state into those observables;
    the national fit sets them against the national totals (S1 and S8).
    """

    direct_jobs_per_crew: float = spec(5.0, 1.0, 100.0, doc="direct jobs per crew member at work: cast, extras, writers, editors and ad buyers hired per production besides the standing crew (fitted in national to S1's ~219,000 direct jobs in 2024; the default is that fit, rounded)", unit="jobs per crew member")
    enterprises_per_company: float = spec(60.0, 1.0, 10_000.0, doc="registered related enterprises per production company: distributors, marketing and traffic buyers, MCNs, one-person studios and shells with short drama in their scope (fitted in national to S8's 84,900 in 2024; the default is that fit, rounded)", unit="enterprises per company")


@dataclass(frozen=True)
class SyntheticParams(Validated):
    """A generated contest (`sim.synthetic`): this many similar cities sharing this many companies.

    With `firms` above 0 the scenario's cities and the size of its market are
    made from these keys (a scenario cannot also list cities); 0 leaves the
    scenario's own cities.
    """

    firms: int = spec(0, 0, 600_000, doc="companies at the start, shared evenly by the cities (0: not a generated contest; at most 600,000, where the scaled market reaches its 1e14 yuan bound)")
    cities: int = spec(20, 1, 1_000, doc="cities in the generated contest")
    seed: int = spec(0, 0, 2**32 - 1, doc="which city gets which cost (the cities' costs are shuffled by it)")

    @property
    def enabled(self) -> bool:
        return self.firms > 0


@dataclass(frozen=True)
class ScenarioParams(Validated):
    """A contest: the cities, the rest of the country, and the shared market and behaviour."""

    name: str = "custom"
    description: str = ""
    cities: tuple[CityParams, ...] = ()
    outside: OutsideParams = field(default_factory=OutsideParams)
    market: MarketParams = field(default_factory=MarketParams)
    firms: FirmParams = field(default_factory=FirmParams)
    behaviour: BehaviourParams = field(default_factory=BehaviourParams)
    economy: EconomyParams = field(default_factory=EconomyParams)
    units: UnitsParams = field(default_factory=UnitsParams)
    synthetic: SyntheticParams = field(default_factory=SyntheticParams)

    def __post_init__(self) -> None:
        if self.synthetic.enabled:
            self._generate()
        if not self.cities:
            raise ParamError("cities", "a scenario needs at least one city")
        ids = [c.id for c in self.cities]
        if len(set(ids)) != len(ids):
            raise ParamError("cities", f"city ids must be unique, got {ids}")
        super().__post_init__()

    def _generate(self) -> None:
        """Make the cities (unless given) and size the market from the `synthetic` keys (frozen: set once, here).

        Cities given beside the keys are kept: that is how `dataclasses.replace`
        edits a generated contest (e.g. its no-policy counterfactual). From
        config files and overrides, listing cities is refused (`check_input`).
        """
        g = self.synthetic
        if not self.cities:
            if g.cities > g.firms:
                raise ParamError("synthetic.firms", f"{g.firms} is out of range; allowed at least one company "
                                                    f"per city ({g.cities})")
            generated = tuple(CityParams(**numbers, policy=PolicyParams()) for numbers in
                              layout.city_numbers(g.firms, g.cities, g.seed))
            object.__setattr__(self, "cities", generated)
        flat = layout.market_revenue(g.firms, MarketParams().revenue_2024)
        # A stationary market: flat revenue and no shift of revenue toward premium work, so the contest's
        # population settles rather than trending as the real market's tiers do.
        object.__setattr__(self, "market", dataclasses.replace(
            self.market, revenue_2024=flat, revenue_2025=flat, saturation=flat, growth_after=0.0, quality_shift=0.0))

    @staticmethod
    def check_input(data: dict) -> None:
        """Refuse plain data that lists cities for a generated contest (they would be ignored or stale)."""
        # The synthetic keys first, each in its own range: synthetic.firms=600001 beside listed cities is an
        # out-of-range company count, not a generated contest that also lists cities.
        firms = from_dict(SyntheticParams, data.get("synthetic") or {}, "synthetic").firms
        if data.get("cities") and firms > 0:
            raise ParamError("cities", "a generated contest (synthetic.firms > 0) makes its own cities; "
                                       "set synthetic.cities and synthetic.firms instead")

    def city(self, city_id: str) -> CityParams:
        """The city with this id (KeyError naming the known ids otherwise)."""
        for c in self.cities:
            if c.id == city_id:
                return c
        raise KeyError(f"unknown city {city_id!r}; known: {[c.id for c in self.cities]}")


def levers_with(**roles) -> tuple[str, ...]:
    """The policy instruments whose declared `Lever` roles match, in PolicyParams' order: e.g.
    levers_with(spends=True), or levers_with(strategy=...) for any truthy value with `strategy=True`."""
    out = []
    for f in dataclasses.fields(PolicyParams):
        lever = f.metadata.get("lever")
        if lever is None:
            continue
        if all(bool(getattr(lever, k)) if v is True else getattr(lever, k) == v for k, v in roles.items()):
            out.append(f.name)
    return tuple(out)


# Instruments a strategy may move (PolicyArrays columns); `objective` names a subset in `levers`.
STRATEGY_LEVERS = levers_with(strategy=True)
# Instruments a policy shock may change mid-run (the structural keys, such as the budget period or the studio lag,
# are fixed for a run).
SHOCK_LEVERS = levers_with(shock=True)
# The instruments that cost the treasury money (the no-policy counterfactual switches them off).
SPENDING = levers_with(spends=True)


@dataclass(frozen=True)
class PolicyShock(Validated):
    """A planner's mid-run change: from month `at` on, `city`'s instrument `lever` is `value`.

    It applies before the month's budgets open, and becomes the city's
    announced policy (a strategy revises it from there, within bounds set by
    it). A shock to annual_budget changes the monthly releases from that
    month on; money already released stays in the fund.
    """

    at: str = ""  # "YYYY-MM": the first month with the new value
    city: str = ""
    lever: str = "reward_rate"
    value: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", self.at):
            raise ParamError("at", f"{self.at!r} is not a month; use YYYY-MM")
        if self.lever not in SHOCK_LEVERS:
            raise ParamError("lever", f"{self.lever!r} is not allowed; choose one of: {', '.join(SHOCK_LEVERS)}")
        f = next(f for f in dataclasses.fields(PolicyParams) if f.name == self.lever)
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        if math.isnan(self.value) or self.value < lo or self.value > hi:
            raise ParamError("value", f"{self.value!r} is out of range for {self.lever}; allowed {_range_text(lo, hi)}")


def month_offset(start: str, month: str) -> int:
    """Months from `start` to `month` (both "YYYY-MM"): 0 for the first month of a run."""
    (y0, m0), (y1, m1) = (int(x) for x in start.split("-")), (int(x) for x in month.split("-"))
    return 12 * (y1 - y0) + (m1 - m0)


def add_months(month: str, n: int) -> str:
    """The month `n` months after `month` ("YYYY-MM")."""
    y, m = (int(x) for x in month.split("-"))
    total = 12 * y + (m - 1) + n
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


# The calendar a run may cover (start and last month). The sources give figures for 2023-2026 and the market is
# extrapolated from them (flat before 2024, logistic after 2025); 2000-2100 is generous for planners and keeps
# the model's calendar sound: pandas dates end in 2262 and have no year 0, and the market is computed year by
# year from 2025 (a run in 9999 recursed through 8,000 years).
FIRST_MONTH = "2000-01"
LAST_MONTH = "2100-12"


@dataclass(frozen=True)
class RunParams(Validated):
    """Everything one run needs."""

    scenario: ScenarioParams
    steps: int = spec(60, 1, 1200, doc="months to simulate (default: 2024-01 to 2028-12)")
    seed: int = spec(42, 0, 2**63 - 1, doc="root seed of the run's random generator")
    start: str = "2024-01"  # first month, YYYY-MM, from FIRST_MONTH (2000-01); the run's last month is at most LAST_MONTH (2100-12)
    capital_threshold: float = spec(0.5, 0.5, 1.0, doc="trailing-window production share that makes a city the capital (assumption: a majority of output)")
    capital_window: int = spec(12, 1, 120, doc="months in the trailing window for the capital test (assumption: one year evens out seasons)")
    capital_margin: float = spec(0.1, 0.0, 1.0, doc="lead over the runner-up's trailing share that a capital needs besides the threshold (assumption: ten points of national output, e.g. 55 % against 45 %, several times the seed-to-seed spread of a city's share, so a capital is not a coin toss between two cities near 50 %)")
    counterfactual: bool = True  # also run each city without its own policy (same seed) to report what its policy added
    shocks: tuple[PolicyShock, ...] = ()  # mid-run policy changes, e.g. shocks=[{at:2026-01,city:zhengzhou,lever:reward_rate,value:0.3}]

    def __post_init__(self) -> None:
        calendar = f"allowed {FIRST_MONTH} to {LAST_MONTH} (the sources cover 2023-2026)"
        if not isinstance(self.start, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", self.start):
            raise ParamError("start", f"{self.start!r} is not a month; use YYYY-MM, {calendar}")
        if not FIRST_MONTH <= self.start <= LAST_MONTH:  # same-width YYYY-MM strings order as months do
            raise ParamError("start", f"{self.start} is out of range; {calendar}")
        super().__post_init__()
        most = month_offset(self.start, LAST_MONTH) + 1
        if self.steps > most:
            raise ParamError("steps", f"{self.steps} months from {self.start} end in {self.last_month}, after "
                                      f"{LAST_MONTH}; allowed [1, {most}] from this start")
        ids = [c.id for c in self.scenario.cities]
        seen: dict[tuple[str, str, str], int] = {}
        for i, shock in enumerate(self.shocks):
            if shock.city not in ids:
                raise ParamError(f"shocks[{i}].city", f"{shock.city!r} is not a city of the scenario; known: {', '.join(ids)}")
            if month_offset(self.start, shock.at) < 0:
                raise ParamError(f"shocks[{i}].at", f"{shock.at} is before the run starts ({self.start})")
            first = seen.setdefault((shock.city, shock.lever, shock.at), i)
            if first != i:
                # Applied in order, the last would win: a silent choice between two values the planner gave.
                raise ParamError(f"shocks[{i}].at", f"{shock.at} is also the month of shocks[{first}] to {shock.city}'s "
                                                    f"{shock.lever}; allowed one value per city, lever and month")
            bounds = strategy_rate_bounds(self.scenario.city(shock.city).strategy, shock.lever)
            if bounds is not None and not bounds[0] <= shock.value <= bounds[1]:
                # A shock becomes the city's announced policy, which its strategy's bounds hold as at the start.
                strategy = self.scenario.city(shock.city).strategy
                raise ParamError(f"shocks[{i}].value", f"{shock.value!r} is outside what {shock.city}'s {strategy.kind.value} "
                                                       f"strategy will offer as {shock.lever}; allowed {_range_text(*bounds)} "
                                                       f"({_bounds_source(strategy, shock.lever)})")

    @property
    def last_month(self) -> str:
        """The run's last month, "YYYY-MM"."""
        return add_months(self.start, self.steps - 1)

    def check_whole(self) -> None:
        """Checks of a run given as plain data (config files, the command line, sweeps) that a live model relaxes.

        A shock dated after the run's last month would never apply. It is not
        refused on construction: a live model (the cockpit) steps on past
        `steps` and records the changes made there as shocks in its params.
        """
        for i, shock in enumerate(self.shocks):
            if shock.at > self.last_month:  # both valid YYYY-MM of the same width
                raise ParamError(f"shocks[{i}].at", f"{shock.at} is after the run's last month {self.last_month}; "
                                                    f"allowed {self.start} to {self.last_month}")


# ---------------------------------------------------------------------------
# Building frozen params from plain dicts (the one crossing from config land).


def from_dict(cls: type, data: Any, path: str = "") -> Any:
    """Build dataclass `cls` from nested plain data, naming the full key on any error.

    `cities` may be given as a mapping id -> city fields (as in the YAML
    files) or as a sequence of city mappings with an `id` each.
    """
    if dataclasses.is_dataclass(data):
        return data
    if not isinstance(data, dict):
        raise ParamError(path or cls.__name__, f"expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ParamError(_join(path, unknown[0]), f"unknown key; allowed: {', '.join(sorted(names))}")
    check_input = getattr(cls, "check_input", None)
    if check_input is not None:
        try:
            check_input(data)
        except ParamError as err:
            raise ParamError(_join(path, err.key), err.message) from None
    kwargs = {}
    for name, value in data.items():
        key = _join(path, name)
        kwargs[name] = _convert(hints[name], value, key)
    try:
        obj = cls(**kwargs)
        check_whole = getattr(obj, "check_whole", None)
        if check_whole is not None:
            check_whole()
        return obj
    except ParamError as err:
        raise ParamError(_join(path, err.key), err.message) from None
    except TypeError as err:  # a required field is missing
        raise ParamError(path or cls.__name__, str(err)) from None


def _convert(hint: Any, value: Any, key: str) -> Any:
    origin = getattr(hint, "__origin__", None)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, key)
    if origin is tuple:  # tuples of params: cities (a mapping by id, or a list) and shocks (a list)
        item = hint.__args__[0]
        if isinstance(value, dict) and item is CityParams:
            items = []
            for city_id, fields in value.items():
                fields = dict(fields or {})
                if fields.setdefault("id", city_id) != city_id:
                    raise ParamError(_join(key, city_id) + ".id", f"must equal its key {city_id!r}")
                items.append(from_dict(item, fields, _join(key, city_id)))
            return tuple(items)
        if not isinstance(value, (list, tuple)):
            raise ParamError(key, f"expected a list, got {type(value).__name__}")
        return tuple(from_dict(item, v, f"{key}[{i}]") for i, v in enumerate(value))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if isinstance(value, hint):
            return value
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(m.value for m in hint)
            raise ParamError(key, f"{value!r} is not allowed; choose one of: {allowed}") from None
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(key, f"must be a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise ParamError(key, f"must be a whole number, got {value!r}")
        return int(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ParamError(key, f"must be true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ParamError(key, f"must be text, got {value!r}")
        return value
    return value


def apply_overrides(base: Mapping, values: Mapping[str, Any]) -> dict:
    """Copy of a plain RunParams dict with dotted keys set (e.g. 'scenario.cities.xian.policy.reward_rate')."""
    data = copy.deepcopy(dict(base))
    for key, value in values.items():
        node = data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            if not isinstance(node, dict) or part not in node:
                raise ParamError(key, f"no such config key ({'.'.join(parts[: i + 1])} does not exist)")
            node = node[part]
        if not isinstance(node, dict) or parts[-1] not in node:
            raise ParamError(key, "no such config key")
        if isinstance(node[parts[-1]], int) and not isinstance(node[parts[-1]], bool) and isinstance(value, float):
            value = int(round(value))  # samplers give floats; integer keys take the nearest whole number
        node[parts[-1]] = value.item() if hasattr(value, "item") else value  # numpy scalars -> Python
    return data


def with_values(params: Any, values: Mapping[str, Any]) -> Any:
    """Params (frozen dataclasses) with dotted keys set, as `apply_overrides` then `from_dict` give, without the
    round trip through plain data: each changed dataclass is replaced, and so validated; cities are found by id."""
    for key, value in values.items():
        params = _with_value(params, key.split("."), value, key)
    return params


def _with_value(obj: Any, parts: list[str], value: Any, key: str) -> Any:
    name, rest = parts[0], parts[1:]
    if isinstance(obj, tuple):  # the scenario's cities, keyed by id
        index = next((i for i, c in enumerate(obj) if getattr(c, "id", None) == name), None)
        if index is None:
            raise ParamError(key, f"no such config key ({name} is not a city here)")
        return (*obj[:index], _with_value(obj[index], rest, value, key), *obj[index + 1:]) if rest else obj
    if not dataclasses.is_dataclass(obj) or name not in {f.name for f in dataclasses.fields(obj)}:
        raise ParamError(key, "no such config key")
    current = getattr(obj, name)
    if rest:
        return dataclasses.replace(obj, **{name: _with_value(current, rest, value, key)})
    if isinstance(current, int) and not isinstance(current, bool) and isinstance(value, float):
        value = int(round(value))  # samplers give floats; integer keys take the nearest whole number
    try:
        return dataclasses.replace(obj, **{name: value.item() if hasattr(value, "item") else value})
    except ParamError as err:  # the field names itself; the caller knows it by its whole key
        raise ParamError(key, err.message) from None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def to_dict(obj: Any) -> Any:
    """Plain nested data (Enums as values, cities keyed by id) from params."""
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if f.name == "cities" and isinstance(v, tuple):
                if getattr(obj, "synthetic", None) and obj.synthetic.enabled:
                    out[f.name] = {}  # made from the synthetic keys again when read back
                else:
                    out[f.name] = {c.id: {k: x for k, x in to_dict(c).items() if k != "id"} for c in v}
            else:
                out[f.name] = to_dict(v)
        return out
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    return obj
