"""Orders of magnitude of the calibrated `national` scenario, rendered into docs/ODD.md section 7.18.

    .venv/bin/drama magnitudes               # print the section
    .venv/bin/drama magnitudes publish=true  # also rewrite it in docs/ODD.md (between its markers)

Every figure is computed by the model's own functions (`sim.economics`,
`sim.policy`, `sim.market`) on the scenario as configured, calibration
included, in its first month: what a typical company of each tier pays,
earns and may claim in each documented base. `tests/test_docs.py` checks
that the ODD shows what this prints.
"""

from __future__ import annotations

import sys

import numpy as np

from sim import ContestModel, economics, load_config, market
from sim.economics import FirmKinds
from sim.firms import PREMIUM, TRAFFIC
from sim.shell.atomic import write_text
from sim.shell.config import PROJECT_ROOT

ODD = PROJECT_ROOT / "docs" / "ODD.md"
BEGIN, END = "<!-- magnitudes:begin (.venv/bin/drama magnitudes publish=true) -->", "<!-- magnitudes:end -->"
PLACES = ("xian", "zhengzhou", "hengdian", "quzhou", "wujin", "rest")
THRESHOLD_DRAWS = 200_000  # Monte Carlo draws of premium companies for Wujin's investment threshold
THRESHOLD_SEED = 0  # a documentation estimate, not a model run: its own fixed generator


def _m(yuan: float) -> str:
    return f"{yuan / 1e6:.2f}"


def typical(model: ContestModel, tier: int) -> FirmKinds:
    """The mean company of a tier (crew_mean, the tier's rate and spend), as a chooser."""
    fp = model.scenario_params.firms
    t = np.array([tier], dtype=np.int8)
    rate = fp.rate_premium if tier == PREMIUM else fp.rate_traffic
    spend = fp.spend_premium if tier == PREMIUM else fp.spend_traffic
    return FirmKinds(np.array([fp.crew_mean]), np.array([rate]), np.array([spend]), model._tier_weights()[t],
                     model._award_probability(t))


def render(scenario: str = "national", seed: int = 42) -> str:
    """The section's body: tables and lines computed on `scenario` at its start."""
    params = load_config(scenario, [f"seed={seed}", "steps=1", "counterfactual=false"])
    model = ContestModel(params)
    model.survey_places()
    sc, view, pol = model.scenario_params, model._view, model.policy
    fp, mk, b = sc.firms, sc.market, sc.behaviour
    ids = list(model.place_ids)
    rows = [ids.index(p) for p in PLACES if p in ids]
    n_j, _ = model._cluster_sizes()
    rho = model._rev_per_weight

    out = [f"Computed by `.venv/bin/drama magnitudes` on `{scenario}` as configured (its calibration "
           f"included), in its first month (2024-01, seed {seed}). A typical company has a crew of "
           f"{fp.crew_mean:g}; a traffic production's own spend is {_m(fp.spend_traffic)} M yuan at "
           f"{fp.rate_traffic:g} a month, a premium one's {_m(fp.spend_premium)} M at {fp.rate_premium:g}. "
           "Money in M yuan; `A` is the productivity of section 7.3 at the starting companies.", ""]
    out += ["| place | companies | A | a company's month | traffic: cost | traffic: revenue | traffic: claim "
            "| premium: cost | premium: revenue | premium: claim | profit a month, traffic / premium |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for j in rows:
        cells = []
        for tier in (TRAFFIC, PREMIUM):
            k = typical(model, tier)
            rate = k.rate * view.productivity[j]
            cost = economics.cost_per_production(view.wage[j:j + 1], view.rent[j:j + 1], k.crew, rate,
                                                 fp.overhead, k.spend)
            claim = economics.expected_claim(cost, np.array([j]), k.p_award, view.p_culture[j:j + 1], pol)
            revenue = rho * k.weight * view.revenue_uplift[j]
            profit = economics.expected_profit(k, view, pol, rho, fp.overhead, at=np.array([j]))
            cells.append((cost[0], revenue[0], claim[0] * view.outlook[j], profit[0]))
        month = view.wage[j] * fp.crew_mean + view.rent[j] + fp.overhead
        (tc, tr, tcl, tp), (pc, pr, pcl, pp) = cells
        out.append(f"| {ids[j]} | {int(n_j[j])} | {view.productivity[j]:.3f} | {_m(month)} | {_m(tc)} | {_m(tr)} "
                   f"| {_m(tcl)} | {_m(pc)} | {_m(pr)} | {_m(pcl)} | {_m(tp)} / {_m(pp)} |")
    out += ["", "*cost*: a production's cost (crews, studio and overhead for the time it takes, plus its spend: "
            "the investment a threshold tests); *revenue*: its expected share of the producers' pool; *claim*: "
            "the subsidy it may expect per production (the review pass rate, the category mix and the fund's "
            "payout outlook included); *profit*: the company's month at the place's utilisation.", ""]

    pool = market.producer_pool(mk, 2024, 1)
    weights = market.tier_weights(mk, 0.0)
    top = market.tier_weights(mk, mk.quality_shift_years)[PREMIUM]
    out += [f"- **The pool.** In January 2024 the producers' pool is {pool / 1e6:,.0f} M yuan a month "
            f"(`producer_share` {mk.producer_share:.3f} of the month's revenue); a unit of attention earns "
            f"{_m(rho)} M. The premium weight is {weights[PREMIUM]:g} and rises to at most {top:.1f}.",
            f"- **The industry's size.** {int(n_j.sum())} companies in January 2024, "
            f"{int(round(n_j.sum() * sc.units.enterprises_per_company)):,} related enterprises and "
            f"{int(round(model.firms.crew.sum() * sc.units.direct_jobs_per_crew)):,} direct jobs "
            f"through the units of account (section 6.1): {sc.units.enterprises_per_company:.1f} related enterprises "
            f"per company and {sc.units.direct_jobs_per_crew:.2f} direct jobs per crew member at work (the national "
            "fit).",
            ]
    xi, zz = ids.index("xian"), ids.index("zhengzhou")
    for j in (xi, zz):
        c = sc.cities[j]
        out.append(f"- **{c.name}'s fund** of {_m(c.policy.annual_budget)} M a year releases "
                   f"{_m(c.policy.annual_budget / 12)} M a month against {_m(model.city_state.expected_claims[j])} M "
                   f"its companies are expected to claim: its payout outlook is {view.outlook[j]:.2f}.")
    if "wujin" in ids:
        w = ids.index("wujin")
        rng = np.random.default_rng(THRESHOLD_SEED)
        crew = np.maximum(1.0, fp.crew_mean * rng.lognormal(-0.5 * fp.crew_spread**2, fp.crew_spread,
                                                            THRESHOLD_DRAWS))
        spend = fp.spend_premium * rng.lognormal(-0.5 * fp.spend_spread**2, fp.spend_spread, THRESHOLD_DRAWS)
        factor = spend / fp.spend_premium  # a company's spend factor, whichever its tier
        share = {}
        for tier, rate, mean in ((PREMIUM, fp.rate_premium, fp.spend_premium), (TRAFFIC, fp.rate_traffic,
                                                                                 fp.spend_traffic)):
            cost = economics.cost_per_production(view.wage[w], view.rent[w], crew, rate * view.productivity[w],
                                                 fp.overhead, factor * mean)
            share[tier] = float(np.mean(cost >= pol.min_investment[w]))
        out.append(f"- **Wujin's threshold** of {_m(pol.min_investment[w])} M: {share[PREMIUM]:.0%} of premium "
                   f"companies' productions qualify and {share[TRAFFIC]:.0%} of traffic ones (a Monte Carlo "
                   f"estimate over {THRESHOLD_DRAWS:,} draws of the crew and spend distributions).")
    move = model.move_cost[xi, zz]
    out.append(f"- **Moves and entry.** Xi'an to Zhengzhou costs {_m(move)} M; entry costs {_m(fp.entry_cost)} M; "
               f"the taste shock has scale {b.logit_scale:g} M; attachment to home is worth {b.home_pull:g} M; "
               f"the rest of the country's logsum term is {b.logit_scale * np.log(sc.outside.places):.2f} M.")
    return "\n".join(out) + "\n"


def section_in_odd(text: str) -> str:
    """The rendered part of section 7.18 as the ODD holds it."""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].lstrip("\n")


def help_page() -> str:
    """`.venv/bin/drama magnitudes --help`."""
    from sim.shell.help import Help

    return Help("magnitudes",
        "Print the model's orders of magnitude for national as configured, in its first month: for each "
        "place, its companies, productivity, a company's monthly cost, and a traffic and a premium "
        "production's cost, revenue, expected reward and profit, in M yuan, for setting beside the sources' "
        "figures. With publish=true it rewrites section 7.18 of docs/ODD.md between its markers.",
                usage="[publish=true]",
                options=[("publish=true", "also write the tracked files named above")],
                examples=["", "publish=true", "publish=false"]).text()


def main(argv: list[str]) -> None:
    publish = "publish=true" in argv
    unknown = [a for a in argv if a not in ("publish=true", "publish=false")]
    if unknown:
        raise SystemExit(f"error: {unknown[0]!r}: not an option; allowed publish=true")
    body = render()
    print(body)
    if publish:
        text = ODD.read_text()
        if BEGIN not in text or END not in text:
            raise SystemExit(f"error: {ODD.relative_to(PROJECT_ROOT)} has no {BEGIN} ... {END} markers")
        head, rest = text.split(BEGIN, 1)
        write_text(ODD, head + BEGIN + "\n" + body + END + rest.split(END, 1)[1])
        print(f"published (tracked file rewritten): {ODD.relative_to(PROJECT_ROOT)}")
    else:
        print("not published: add publish=true to rewrite docs/ODD.md section 7.18")


if __name__ == "__main__":
    main(sys.argv[1:])
