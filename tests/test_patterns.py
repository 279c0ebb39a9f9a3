"""Behaviour the brief and the planner expect, over 20 or more replicates (statistical, paired seeds, no timing)."""

import numpy as np
import pytest

from conftest import make_params
from sim import ContestModel, load_config
from sim.counterfactual import added_by_policy

pytestmark = pytest.mark.slow

SEEDS = range(20)
Z = "scenario.cities.zhengzhou.policy."


def zhengzhou_share(overrides, seeds=SEEDS, steps=48):
    """Zhengzhou's mean share of national output over the last 12 months, per seed."""
    return np.array([ContestModel(load_config("xian_vs_zhengzhou", [f"steps={steps}", f"seed={s}", *overrides]))
                     .run().summary()["final_share"]["zhengzhou"] for s in seeds])


def test_zhengzhou_share_rises_with_its_reward_rate_when_its_budget_can_pay():
    shares = [zhengzhou_share([f"{Z}reward_rate={r}", f"{Z}culture_rate=0", f"{Z}annual_budget=1e9"])
              for r in (0.0, 0.1, 0.2, 0.3)]
    means = [s.mean() for s in shares]
    assert means == sorted(means), means
    gain = shares[3] - shares[0]  # paired: same seeds
    assert gain.mean() > 3 * gain.std(ddof=1) / np.sqrt(len(gain)), gain


def test_the_budget_lever_matters_when_the_budget_binds():
    tight = zhengzhou_share([f"{Z}reward_rate=0.3", f"{Z}annual_budget=20e6"])
    ample = zhengzhou_share([f"{Z}reward_rate=0.3", f"{Z}annual_budget=200e6"])
    gain = ample - tight
    assert gain.mean() > 3 * gain.std(ddof=1) / np.sqrt(len(gain)), gain


def test_no_announced_fund_is_spent_in_its_first_month():
    for scenario in ("xian_vs_zhengzhou", "national", "zhejiang", "jiangsu", "subsidy_war"):
        model = ContestModel(load_config(scenario, ["steps=13", "counterfactual=false"])).run()
        table = model.city_table()
        first = table[table.step == 1].set_index("city")
        for c in model.scenario_params.cities:
            fund = c.policy.annual_budget * c.policy.budget_period_years
            if fund > 0:
                assert first.loc[c.id, "subsidy_paid"] <= fund / 12 / c.policy.budget_period_years + 1e-6
                assert table[(table.city == c.id) & (table.step <= 12)].budget_left.min() >= 0


EVEN = {"east": {}, "west": {}}


def east_shares(seeds, steps=60, agglomeration=None):
    """East's final share in the `symmetric` scenario (two identical cities, a closed contest)."""
    extra = [] if agglomeration is None else [f"scenario.behaviour.agglomeration={agglomeration}"]
    return np.array([ContestModel(load_config("symmetric", [f"steps={steps}", f"seed={s}", "counterfactual=false",
                                                            *extra])).run().summary()["final_share"]["east"]
                     for s in seeds])


def test_identical_cities_split_evenly_on_average():
    shares = east_shares(SEEDS)
    assert abs(shares.mean() - 0.5) < 0.05


def test_lock_in_rises_with_agglomeration_over_a_range_not_in_one_jump():
    levels = (0.1, 0.3, 0.4, 0.5, 0.7)
    tipped = []
    for a in levels:
        s = east_shares(SEEDS, agglomeration=a)
        tipped.append(float((np.maximum(s, 1 - s) >= 0.7).mean()))
    assert tipped[0] == 0.0 and tipped[-1] >= 0.9, tipped
    assert all(b >= a - 0.1 for a, b in zip(tipped, tipped[1:])), tipped  # rises (up to sampling noise)
    assert sum(0.05 < t < 0.95 for t in tipped) >= 1, f"a cliff, not a range: {tipped}"


def test_moderate_clustering_does_not_empty_the_loser():
    s = east_shares(SEEDS, agglomeration=0.2)  # twice the default
    assert np.minimum(s, 1 - s).mean() > 0.15


def test_reactive_cities_escalate_spend_more_and_shares_move_little():
    war, peace = [], []
    for s in SEEDS:
        w = ContestModel(load_config("subsidy_war", ["steps=60", f"seed={s}", "counterfactual=false"])).run()
        p = ContestModel(load_config("subsidy_war", ["steps=60", f"seed={s}", "counterfactual=false",
                                                     "scenario.cities.xian.strategy.kind=fixed",
                                                     "scenario.cities.zhengzhou.strategy.kind=fixed"])).run()
        war.append(w)
        peace.append(p)
    for city in ("xian", "zhengzhou"):
        escalated = [max(w.recorder.column("reward_rate")[:, w.city_ids.index(city)].max() - 0.1,
                         w.recorder.column("annual_budget")[:, w.city_ids.index(city)].max() / 50e6 - 1) > 0
                     for w in war]
        assert np.mean(escalated) >= 0.8, city
    spend = np.array([w.city_state.outlay_total[:2].sum() - p.city_state.outlay_total[:2].sum() for w, p in zip(war, peace)])
    assert spend.mean() > 0 and (spend > 0).mean() >= 0.8
    moved = np.array([w.summary()["final_share"]["zhengzhou"] - p.summary()["final_share"]["zhengzhou"]
                      for w, p in zip(war, peace)])
    assert abs(moved.mean()) < 0.05


def test_gross_moves_are_of_the_order_of_net_moves_and_firms_exit():
    gross, net, exits = [], [], []
    for s in SEEDS:
        table = ContestModel(load_config("xian_vs_zhengzhou", [f"seed={s}", "counterfactual=false"])).run().city_table()
        year = table.groupby([table.date.dt.year, "city"])[["moved_in", "moved_out"]].sum()
        gross.append(year.moved_in.sum())
        net.append((year.moved_in - year.moved_out).abs().sum() / 2)
        exits.append(table.exited.sum())
    assert np.sum(gross) <= 5 * np.sum(net), (np.sum(gross), np.sum(net))
    assert min(exits) > 0


def test_firm_population_stays_bounded_over_three_quarters_of_a_century():
    params = make_params(EVEN, steps=924, seed=3)  # 2024-01 to 2100-12, the last month the calendar allows
    model = ContestModel(params)
    sizes = []
    for _ in range(params.steps):
        model.step()
        sizes.append(model.n_firms)
    late = np.array(sizes[-240:])
    assert late.max() < 4 * np.array(sizes[100:220]).mean() * (params.scenario.market.saturation / 63.43e9)
    assert late.max() < 20_000


def test_counterfactual_adds_nothing_for_a_city_without_instruments():
    params = load_config("xian_vs_zhengzhou", ["steps=24", "seed=3", f"{Z}reward_rate=0", f"{Z}culture_rate=0",
                                               f"{Z}annual_budget=0"])
    model = ContestModel(params).run()
    added = added_by_policy(model, force=True)
    assert added["added_jobs"]["zhengzhou"] == 0.0 and added["added_productions"]["zhengzhou"] == 0.0
    assert added["marginal_cost_per_job"]["zhengzhou"] is None


def test_a_funded_policy_adds_jobs_on_average():
    added = [added_by_policy(ContestModel(load_config("xian_vs_zhengzhou", [f"seed={s}", f"{Z}annual_budget=200e6",
                                                                            f"{Z}reward_rate=0.3"])).run(),
                             cities=["zhengzhou"])["added_jobs"]["zhengzhou"] for s in SEEDS]
    assert np.mean(added) > 2 * np.std(added, ddof=1) / np.sqrt(len(added))


def test_an_overcrowded_market_sheds_companies_over_months_not_at_once():
    # `national` starts with more companies than 2024's market pays for: closures must spread out, and
    # the survivors' recovering profits must stop the exodus well above an empty industry.
    worst, low = [], []
    for seed in range(6):
        table = ContestModel(load_config("national", ["steps=24", f"seed={seed}", "counterfactual=false"])).run() \
            .city_table()
        months = table.groupby("step")[["firms", "exited"]].sum()
        start = months.firms.iloc[0] + months.exited.iloc[0]
        worst.append(float((months.exited / (months.firms + months.exited)).max()))
        low.append(float(months.firms.min() / start))
    assert max(worst) < 0.3, worst
    assert min(low) > 0.4, low


@pytest.mark.slow
def test_every_spending_instrument_is_bounded_by_what_the_city_committed():
    """20 seeds with Zhengzhou's AIGC support at 20 % (it once cost 548 M a year, unbudgeted), a talent programme
    and a studio park: each year's payout of each instrument is at most its committed fund, and no fund is spent
    in its first month."""
    from sim import load_config

    z = "scenario.cities.zhengzhou.policy"
    for seed in range(20):
        params = load_config("xian_vs_zhengzhou", [f"seed={seed}", "steps=24", "counterfactual=false",
                                                   f"{z}.aigc_support=0.2", f"{z}.talent_programme=2e7",
                                                   f"{z}.studio_investment=3e7"])
        table = ContestModel(params).run().city_table()
        for c in params.scenario.cities:
            rows = table[table.city == c.id]
            year = rows.date.dt.year
            cash = (rows.subsidy_paid + rows.aigc_spent).groupby(year).sum()
            assert (cash <= c.policy.annual_budget * (1 + 1e-9) + 1e-6).all(), (seed, c.id, cash.max())
            assert (rows.talent_spent.groupby(year).sum() <= c.policy.talent_programme * (1 + 1e-9) + 1e-6).all()
            assert (rows.studio_spent.groupby(year).sum() <= c.policy.studio_investment * (1 + 1e-9) + 1e-6).all()
            first = rows.iloc[0]
            assert first.budget_left > 0 or c.policy.annual_budget == 0, (seed, c.id)
        zz = table[table.city == "zhengzhou"]
        assert zz.aigc_spent.sum() > 0  # the support is paid (not switched off by the fund rule)
