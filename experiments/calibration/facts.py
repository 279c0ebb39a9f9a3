"""The published facts (MODEL-BRIEF's table) and how each is measured in a simulated run.

Every fact of the brief is listed here once: either with a measure on a run
(city table + params) and a tolerance, for the scenarios that cover it, or
with the reason it is an input or cannot be matched. The calibration loss,
the statistical test and docs/calibration.md all read this one registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.outcomes import Outcome
from sim.params import RunParams

Measure = Callable[[pd.DataFrame, RunParams], float]

CREW_TEAM = 30.0  # people per team used for the cost-per-team-month index (S5: 24,000 / 800)


@dataclass(frozen=True)
class Fact:
    """A published fact and its role.

    `fitted` facts make the calibration loss; `held-out` facts are measured
    the same way on the validation replicates but never enter the loss, so
    they judge the fit; `input` facts set a parameter (`reason` says which);
    `out of scope` facts have no model counterpart (`reason` says why).
    """

    id: str
    text: str
    source: str
    target: float | None = None
    tolerance: float | None = None  # the fact holds when |simulated mean - target| <= tolerance
    scenarios: tuple[str, ...] = ()
    measure: Measure | None = None
    kind: str = "fitted"  # fitted (in the loss) | held-out (reported, never in the loss) | input | out of scope
    brief: str = ""  # the row of MODEL-BRIEF.md's fact table this entry answers (its first cell)
    unit: str = ""
    reason: str = ""
    upper_bound: bool = False  # a qualitative "less than target" fact: holds when simulated < target
    lower_bound: bool = False  # a "at least target" fact: holds when simulated >= target
    if_missed: str = ""  # why the model may not reach it together with the others (shown when it is missed)
    held_out_in: tuple[str, ...] = ()  # scenarios (among `scenarios`) where a fitted fact is held out instead

    def role(self, scenario: str) -> str:
        """The fact's role in `scenario`'s calibration: its kind, or held-out where the scenario holds it out."""
        return "held-out" if scenario in self.held_out_in else self.kind

    def holds(self, value: float) -> bool:
        """Whether a simulated value reproduces the fact."""
        if self.upper_bound:
            return value < self.target
        if self.lower_bound:
            return value >= self.target
        return abs(value - self.target) <= self.tolerance

    def error(self, value: float) -> float:
        """Normalised miss: 0 when the fact holds exactly, 1 at the edge of its tolerance.

        For a "below the target" fact it is 0 at a full tolerance below the
        target and 1 at the target itself, so it holds exactly when the error
        is under 1, as for the others (and the loss rewards a clear margin).
        """
        if self.upper_bound:
            return max(0.0, (value - self.target) / self.tolerance + 1.0)
        if self.lower_bound:  # 0 a full tolerance above the target, 1 at it
            return max(0.0, (self.target - value) / self.tolerance + 1.0)
        return (value - self.target) / self.tolerance


def _year(table: pd.DataFrame, year: int) -> pd.DataFrame:
    return table[table.date.dt.year == year]


def _city(table: pd.DataFrame, city: str) -> pd.DataFrame:
    return table[table.city == city]


def xian_national_share_2025(table: pd.DataFrame, params: RunParams) -> float:
    """Xi'an's productions in 2025 over the national total (the modelled cities make `coverage` of it)."""
    t = _year(table, 2025)
    return float(_city(t, "xian").productions.sum() / max(t.productions.sum(), 1) * params.scenario.market.coverage)


def firms_in_2025(city: str) -> Measure:
    def measure(table: pd.DataFrame, params: RunParams) -> float:
        return float(_city(_year(table, 2025), city).firms.mean())
    measure.__doc__ = f"Mean number of production companies in {city} over 2025."
    return measure


def december_2024(city: str, column: str) -> Measure:
    def measure(table: pd.DataFrame, params: RunParams) -> float:
        rows = _city(_year(table, 2024), city).sort_values("step")
        return float(rows[column].iloc[-1])
    measure.__doc__ = f"{column} in {city} in December 2024."
    return measure


def national_in(year: int, column: str) -> Measure:
    def measure(table: pd.DataFrame, params: RunParams) -> float:
        t = _year(table, year)
        return float(t.groupby("step")[column].sum().mean())
    measure.__doc__ = f"National {column} (every place, the rest of the country included), mean over {year}."
    return measure


# The documented bases of 30 or more companies (S5 and S8: Xi'an 600+, Zhengzhou 800+ enterprises,
# Hengdian 300+, Quzhou ~40; Hangzhou is named as a hub in S1).
DOCUMENTED_BASES = ("xian", "zhengzhou", "hengdian", "quzhou", "hangzhou")


def bases_kept(table: pd.DataFrame, params: RunParams) -> float:
    """The smallest share of its starting companies that a documented base (of the scenario's) holds in the run's
    last month: 1 when every one keeps all it had, 0 when one has vanished."""
    first, last = table.step.min(), table.step.max()
    kept = []
    for city in DOCUMENTED_BASES:
        rows = _city(table, city)
        if len(rows) and rows.firms[rows.step == first].iloc[0] > 0:
            kept.append(rows.firms[rows.step == last].iloc[0] / rows.firms[rows.step == first].iloc[0])
    return float(min(kept)) if kept else float("nan")


def productions_per_company_2025(city: str) -> Measure:
    def measure(table: pd.DataFrame, params: RunParams) -> float:
        t = _city(_year(table, 2025), city)
        return float(t.productions.sum() / max(t.firms.mean(), 1e-9))
    measure.__doc__ = f"Productions per company in {city} over 2025 (a year's output of an average company)."
    return measure


def growth_2024(city: str, column: str) -> Measure:
    def measure(table: pd.DataFrame, params: RunParams) -> float:
        rows = _city(_year(table, 2024), city).sort_values("step")
        return float(rows[column].iloc[-1] / max(rows[column].iloc[0], 1e-9) - 1.0)
    measure.__doc__ = f"Growth of {column} in {city} from January to December 2024."
    return measure


def zhengzhou_cost_ratio(table: pd.DataFrame, params: RunParams) -> float:
    """Zhengzhou's cost of a team-month (30 crew + a studio slot) over Xi'an's, mean over 2025."""
    t = _year(table, 2025)
    cost = {c: float((_city(t, c).wage * CREW_TEAM + _city(t, c).rent).mean()) for c in ("xian", "zhengzhou")}
    return cost["zhengzhou"] / cost["xian"]


def xian_turnover_ratio(table: pd.DataFrame, params: RunParams) -> float:
    """Xi'an's productions per company over Zhengzhou's, 2025 (below 1: Zhengzhou turns over faster)."""
    t = _year(table, 2025)
    per_firm = {c: float(_city(t, c).productions.sum() / max(_city(t, c).firms.sum(), 1)) for c in ("xian", "zhengzhou")}
    return per_firm["xian"] / max(per_firm["zhengzhou"], 1e-9)


def quzhou_h1_2025(column: str) -> Measure:
    def measure(table: pd.DataFrame, params: RunParams) -> float:
        t = _city(table[(table.date >= "2025-01-01") & (table.date < "2025-07-01")], "quzhou")
        value = float(t[column].sum())
        if column == "revenue":  # the model pays producers their share; the source reports gross revenue
            value /= params.scenario.market.producer_share
        return value
    measure.__doc__ = f"Quzhou's {column} from January to June 2025."
    return measure


def producer_share_2024(table: pd.DataFrame, params: RunParams) -> float:
    """Producers' revenue in 2024 over the national market that year (the contest's share of it)."""
    from sim.market import annual_revenue

    return float(_year(table, 2024).revenue.sum() / annual_revenue(params.scenario.market, 2024))


# A synthetic fact with a known answer (not from the brief): scenario `recovery`'s two cities contest
# a quarter of the market, so at the true producer share of 0.3 their producers earn 0.3 x 0.25 of it.
RECOVERY = (
    Fact("recovery_producer_share", "Synthetic: producers earn 0.3 x 0.25 of the 2024 market", "none (synthetic)",
         0.3 * 0.25, 0.005, ("recovery",), producer_share_2024, unit="share",
         reason="synthetic check with a known parameter (configs/scenario/recovery.yaml)"),
)

FACTS: tuple[Fact, ...] = (
    Fact("xian_share", "Xi'an share of national micro-short-drama output", "S5", 0.60, 0.08,
         ("xian_vs_zhengzhou", "national"), xian_national_share_2025, unit="share", kind="held-out",
         brief="Xi'an share of national micro-short-drama output",
         reason="measured in 2025 as Xi'an's share of all national productions (the rest of the country is modelled); "
                "held out: with the national scale set by the national totals and the named cities' sourced counts, "
                "Xi'an's 600 companies are about 45 % of the country's, so fitting ~60 % would only tune the pull "
                "that empties the other documented bases",
         if_missed="Xi'an's ~60 % of the nation's dramas needs its 600 companies to out-produce the rest of the "
                   "country's (Zhengzhou's, Hengdian's 300+, Hangzhou's and the others') by about half again, while "
                   "the model's companies produce at their tier's rate wherever they are; the claim may count dramas "
                   "shot in Xi'an by crews from elsewhere, which the model does not separate"),
    Fact("xian_firms", "Xi'an companies: 600+", "S5", 650.0, 100.0, ("xian_vs_zhengzhou", "national"),
         firms_in_2025("xian"), unit="companies", brief="Xi'an companies", reason="'600+' read as 600 to 750; mean over 2025"),
    Fact("zhengzhou_firm_growth", "Zhengzhou related enterprises: +25.4 % a year", "S5", 0.254, 0.10,
         ("xian_vs_zhengzhou", "national"), growth_2024("zhengzhou", "firms"), unit="per year",
         brief="Zhengzhou related enterprises / growth",
         reason="growth of production companies over 2024"),
    Fact("zhengzhou_firms", "Zhengzhou related enterprises: 800+ (level)", "S5", 875.0, 125.0,
         ("xian_vs_zhengzhou", "national"), december_2024("zhengzhou", "related_enterprises"), unit="enterprises",
         kind="held-out", brief="Zhengzhou related enterprises / growth",
         reason="related enterprises (companies x units.enterprises_per_company, the national registry's ratio) in "
                "December 2024 (S5 gives no date: read as the end of 2024), '800+' read as 800 to 1,000",
         if_missed="Zhengzhou's own count of its industry has about 30 jobs per enterprise (24,000 / 800), the "
                   "national registry about 2.6 (219,000 / 84,900): the two count different enterprises, and one "
                   "ratio maps the model to the national count, which the national totals set"),
    Fact("zhengzhou_job_growth", "Zhengzhou employment: +26.6 % a year", "S5", 0.266, 0.10,
         ("xian_vs_zhengzhou", "national"), growth_2024("zhengzhou", "direct_jobs"), unit="per year", kind="held-out",
         brief="Zhengzhou employment / growth", reason="growth of direct jobs over 2024"),
    Fact("zhengzhou_jobs", "Zhengzhou employment: 24,000 (level)", "S5", 24_000.0, 4_000.0,
         ("xian_vs_zhengzhou", "national"), december_2024("zhengzhou", "direct_jobs"), unit="jobs", kind="held-out",
         brief="Zhengzhou employment / growth",
         reason="direct jobs (crews at work x units.direct_jobs_per_crew) in December 2024 (S5 gives neither a date "
                "nor a kind of job: read as direct jobs at the end of 2024); Zhengzhou's starting "
                "companies are derived from this count (configs/city/zhengzhou.yaml), so it checks the derivation "
                "and the year's growth"),
    Fact("zhengzhou_lower_cost", "Zhengzhou edge: lower production cost", "S5", 1.0, 0.05,
         ("xian_vs_zhengzhou", "national"), zhengzhou_cost_ratio, unit="Zhengzhou / Xi'an", upper_bound=True,
         held_out_in=("national",), brief="Zhengzhou edge",
         reason="holds when Zhengzhou's team-month cost is below Xi'an's"),
    Fact("zhengzhou_fast_turnover", "Zhengzhou edge: fast turnover", "S5", 1.0, 0.05, ("xian_vs_zhengzhou", "national"),
         xian_turnover_ratio, unit="Xi'an / Zhengzhou productions per company", upper_bound=True, kind="held-out",
         brief="Zhengzhou edge", reason="holds when Zhengzhou's companies make more productions each than Xi'an's",
         if_missed="a company's output rate is set by its tier (firms.rate_traffic, rate_premium), not its city; "
                   "Zhengzhou's companies are not faster unless its studios and crews are less congested than "
                   "Xi'an's, and the fitted Xi'an keeps spare capacity"),
    Fact("hengdian_firms", "Hengdian enterprises: 300+", "S8", 325.0, 75.0, ("zhejiang", "national"),
         firms_in_2025("hengdian"), unit="companies", brief="Hengdian vs Quzhou enterprises", reason="mean over 2025",
         if_missed="one cluster pull serves every base: a pull strong enough to hold Hengdian's 300+ against "
                   "Xi'an draws Quzhou below its ~40, and the fit trades the two"),
    Fact("quzhou_firms", "Quzhou enterprises: ~40", "S8", 40.0, 15.0, ("zhejiang", "national"),
         firms_in_2025("quzhou"), unit="companies", brief="Hengdian vs Quzhou enterprises",
         reason="mean over 2025: the smallest documented base with a count, so it pins how strongly the large "
                "clusters draw companies from small ones",
         if_missed="the fitted cluster pull draws companies from small bases such as Quzhou's to the large "
                   "clusters, and S8 names Quzhou's talent shortage, which its small talent pool carries"),
    Fact("quzhou_dramas", "Quzhou factory: 150 dramas expected in H1 2025", "S8", 150.0, 50.0, ("zhejiang",),
         quzhou_h1_2025("productions"), unit="dramas", brief="Quzhou factory",
         reason="all Quzhou productions, January to June 2025, against S8's forecast ('is expected to produce 150'), "
                "not a count: the wide tolerance (50) carries a forecast's error"),
    Fact("quzhou_revenue", "Quzhou factory: > 500 M yuan revenue expected in H1 2025", "S8", 500e6, 250e6, ("zhejiang",),
         quzhou_h1_2025("revenue"), unit="yuan", kind="held-out", brief="Quzhou factory",
         reason="producers' revenue divided by market.producer_share, to compare with gross revenue",
         if_missed="a Quzhou drama earns about 10 M yuan gross in the model against the source's 3.3 M (over "
                   "500 M for 150 dramas); revenue per production follows the national pool by tier and hit, and "
                   "why Quzhou's come out near three times the national average is not yet diagnosed"),
    Fact("quzhou_teams", "Quzhou factory: 30 teams", "S8", kind="input", brief="Quzhou factory",
         reason="configs/city/quzhou.yaml studio_capacity: 30"),
    Fact("market", "National market 50.4 B yuan (2024), ~63.4 B (2025)", "S1, S5", kind="input",
         brief="national market", reason="scenario.market.revenue_2024 and revenue_2025 drive the producer pool"),
    Fact("national_enterprises", "National enterprises: 84,900", "S8", 84_900.0, 12_000.0, ("national",),
         national_in(2024, "related_enterprises"), unit="enterprises", brief="national enterprises / jobs",
         reason="registered related enterprises (companies x units.enterprises_per_company), every place, mean over "
                "2024; with the direct jobs it fits the units' two ratios"),
    Fact("national_jobs", "National direct jobs: ~219,000", "S1", 219_000.0, 30_000.0, ("national",),
         national_in(2024, "direct_jobs"), unit="jobs", brief="national enterprises / jobs",
         reason="direct jobs (crews at work x units.direct_jobs_per_crew), every place, mean over 2024"),
    Fact("bases_persist", "Documented bases persist: Hengdian, Quzhou, Xi'an, Zhengzhou and Hangzhou are all active "
                          "in 2025", "S5, S8, S1", 0.5, 0.25, ("national", "zhejiang", "xian_vs_zhengzhou"),
         bases_kept, unit="share of starting companies", lower_bound=True,
         held_out_in=("zhejiang", "xian_vs_zhengzhou"),
         reason="the smallest share of its starting companies that any documented base of the scenario keeps at the "
                "end of the calibration run (120 months): the sources describe every one as an active "
                "base, so none should lose more than half within ten years without a stated cost or policy reason. "
                "Fitted in national, a pattern as in pattern-oriented modelling (Grimm et al. 2005): the 2024-25 "
                "levels leave the cluster pull loose (searched on them alone, its good points ranged from 0.08 to "
                "1.2, and above about 0.4 Quzhou and the small bases lost most of their companies in ten years); "
                "held out in the regional scenarios, and judged again on fresh seeds by tests/test_patterns.py"),
    Fact("wujin_output", "Wujin: an independent producer's 13th production of the year", "S7", 13.0, 5.0,
         ("jiangsu",), productions_per_company_2025("wujin"), unit="productions a year", kind="held-out",
         reason="an average Wujin company's productions over 2025 (the brief's agents: '13 dramas in ~6 months' by one "
                "independent producer, read as a typical company's year, 8 to 18)"),
    Fact("users", "Users: 576 M (2023) -> 662 M -> 696 M (mid-2025)", "S7, S2, S8", kind="out of scope",
         brief="users",
         reason="there are no viewers in the model: demand is the exogenous market pool"),
    Fact("zhejiang_filings", "Zhejiang H1 2025: 251 key projects filed, 52 approved", "S8", kind="input",
         brief="Zhejiang H1 2025",
         reason="sets the scale of PolicyParams.eligible_share (21 % of filed key projects approved, about half of "
                "productions filed: 0.1 of productions may claim a city's reward)"),
    Fact("sihong_tourism", "Sihong tourism, Jan-Sep 2025: 8.713 M visitors, 8.12 B yuan, +8.9 % / +11.5 %", "S2",
         kind="input", brief="Sihong tourism after a hit drama",
         reason="these months precede Sihong's first drama (November 2025) and S2 attributes none of the rise to "
                "dramas; the rise only sets the scale of the assumed economy.tourism_per_culture_production in the "
                "jiangsu scenario (with an assumed hit rate); visitors are not represented"),
)


MEASURED = ("fitted", "held-out")


def facts_for(scenario: str) -> tuple[Fact, ...]:
    """The measurable facts a scenario covers, fitted and held-out (the synthetic check's for `recovery`)."""
    return tuple(f for f in FACTS + RECOVERY if f.kind in MEASURED and scenario in f.scenarios)


def fitted_for(scenario: str) -> tuple[Fact, ...]:
    """The facts the calibration of `scenario` fits (the loss); the held-out ones judge the fit."""
    return tuple(f for f in facts_for(scenario) if f.role(scenario) == "fitted")


def held_out_for(scenario: str) -> tuple[Fact, ...]:
    """The facts that judge `scenario`'s fit: measured on the validation replicates, never searched on."""
    return tuple(f for f in facts_for(scenario) if f.role(scenario) == "held-out")


def measure_facts(table: pd.DataFrame, params: RunParams) -> dict[str, float]:
    """Every fact the run's scenario covers, measured on its city table."""
    return {f.id: f.measure(table, params) for f in facts_for(params.scenario.name)}


def loss(values: dict[str, float], scenario: str, facts: tuple[Fact, ...] | None = None) -> float:
    """Sum of squared normalised misses over the scenario's fitted facts (or `facts`; 0: every one hit exactly)."""
    return float(sum(f.error(values[f.id]) ** 2 for f in (fitted_for(scenario) if facts is None else facts)))


def loss_of_runs(runs: pd.DataFrame, scenario: str, by: str = "point_id") -> pd.Series:
    """Loss of each design point, from the mean of its ok replicates' fact columns."""
    facts = fitted_for(scenario)
    ok = runs[runs.status == "ok"]
    means = ok.groupby(by)[[f"fact.{f.id}" for f in facts]].mean()
    values = means.apply(lambda row: loss({f.id: row[f"fact.{f.id}"] for f in facts}, scenario), axis=1)
    return values.reindex(runs[by].unique()).fillna(np.inf)


# The facts as one outcome of a run: experiments.batch.runs.REGISTRY adds it to the model's own outcomes.
FACTS_OUTCOME = Outcome(
    "facts", "every published fact the run's scenario covers (experiments/calibration/facts.py), one column each",
    lambda model, added: measure_facts(model.city_table(), model.params), prefix="fact",
    undefined="NaN where a fact's measure has no data in the run (e.g. a run shorter than the fact's year)")
