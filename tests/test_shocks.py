"""Policy shocks: a planner's change to a city's policy while the run goes on (params.shocks)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.shell.config import compose_run, load_config, to_params
from sim.counterfactual import spends, without_policy
from sim.model import ContestModel
from sim.params import ParamError, PolicyShock, RunParams, from_dict, to_dict


@pytest.fixture(scope="module")
def base() -> RunParams:
    return dataclasses.replace(load_config("xian_vs_zhengzhou"), steps=30, counterfactual=False)


def rows(model: ContestModel, city: str):
    t = model.city_table()
    return t[t.city == city].set_index("date")


def test_a_shock_sets_the_lever_from_its_month_on_and_is_counted_there(base):
    shock = PolicyShock("2025-07", "zhengzhou", "reward_rate", 0.25)
    z = rows(ContestModel(dataclasses.replace(base, shocks=(shock,))).run(), "zhengzhou")
    before, after = z.loc[:"2025-06-01"], z.loc["2025-07-01":]
    assert (before.reward_rate == base.scenario.city("zhengzhou").policy.reward_rate).all()
    assert (after.reward_rate == 0.25).all()  # the city's strategy is fixed: the new rate stays
    assert z.policy_shocks.sum() == 1 and z.loc["2025-07-01", "policy_shocks"] == 1


def test_a_shock_to_the_current_value_changes_nothing(base):
    same = PolicyShock("2025-03", "xian", "annual_budget", base.scenario.city("xian").policy.annual_budget)
    plain = ContestModel(base).run().city_table()
    shocked = ContestModel(dataclasses.replace(base, shocks=(same,))).run().city_table()
    assert shocked.drop(columns="policy_shocks").equals(plain.drop(columns="policy_shocks"))


def test_a_budget_shock_changes_the_releases_from_its_month(base):
    budget = base.scenario.city("zhengzhou").policy.annual_budget
    shock = PolicyShock("2025-01", "zhengzhou", "annual_budget", 3 * budget)
    plain = rows(ContestModel(base).run(), "zhengzhou")
    z = rows(ContestModel(dataclasses.replace(base, shocks=(shock,))).run(), "zhengzhou")
    assert (z.loc[:"2024-12-01"].subsidy_paid == plain.loc[:"2024-12-01"].subsidy_paid).all()
    # A new period opens in 2025-01 with three times the money to come (12 releases at the new budget).
    assert z.loc["2025-01-01", "budget_left"] + z.loc["2025-01-01", "subsidy_paid"] == pytest.approx(3 * budget, rel=1e-9)
    assert (z.annual_budget.loc["2025-01-01":] == 3 * budget).all()
    assert (z.budget_left >= 0).all()


def test_doubling_reward_and_budget_mid_run_adds_jobs_over_replicates(base):
    """Zhengzhou doubles its reward and budget in 2025-01: more paid, more jobs (paired over 20 seeds)."""
    pol = base.scenario.city("zhengzhou").policy
    shocks = (PolicyShock("2025-01", "zhengzhou", "reward_rate", 2 * pol.reward_rate),
              PolicyShock("2025-01", "zhengzhou", "annual_budget", 2 * pol.annual_budget))
    paid, jobs = [], []
    for seed in np.random.SeedSequence(14).generate_state(20):
        p = dataclasses.replace(base, seed=int(seed))
        a = rows(ContestModel(p).run(), "zhengzhou").loc["2025-01-01":]
        b = rows(ContestModel(dataclasses.replace(p, shocks=shocks)).run(), "zhengzhou").loc["2025-01-01":]
        paid.append(b.subsidy_paid.sum() / a.subsidy_paid.sum())
        jobs.append(b.employment.mean() - a.employment.mean())
    assert 1.5 < np.mean(paid) <= 2.0 + 1e-9  # the fund binds: paid follows the doubled budget
    assert np.mean(jobs) > 2 * np.std(jobs) / np.sqrt(len(jobs))  # more jobs, beyond the seeds' noise


def test_shocks_compose_from_the_command_line_and_round_trip():
    cfg = compose_run(["steps=24", "shocks=[{at:2025-01,city:zhengzhou,lever:reward_rate,value:0.2}]"])
    params = to_params(cfg)
    assert params.shocks == (PolicyShock("2025-01", "zhengzhou", "reward_rate", 0.2),)
    assert from_dict(RunParams, to_dict(params)) == params


@pytest.mark.parametrize(("shock", "key"), [
    ({"at": "2025-13", "city": "xian", "lever": "reward_rate", "value": 0.2}, "shocks[0].at"),
    ({"at": "2023-12", "city": "xian", "lever": "reward_rate", "value": 0.2}, "shocks[0].at"),
    ({"at": "2025-01", "city": "wuhan", "lever": "reward_rate", "value": 0.2}, "shocks[0].city"),
    ({"at": "2025-01", "city": "xian", "lever": "studio_lag_months", "value": 2}, "shocks[0].lever"),
    ({"at": "2025-01", "city": "xian", "lever": "reward_rate", "value": 1.5}, "shocks[0].value"),
    ({"at": "2025-01", "city": "xian", "lever": "reward_rate", "valu": 0.2}, "shocks[0].valu"),
])
def test_bad_shocks_name_their_key(base, shock, key):
    data = to_dict(base)
    data["shocks"] = [shock]
    with pytest.raises(ParamError) as err:
        from_dict(RunParams, data)
    assert err.value.key == key
    assert "\n" not in str(err.value)


def test_the_counterfactual_drops_the_citys_own_shocks(base):
    shocks = (PolicyShock("2025-01", "zhengzhou", "reward_rate", 0.3), PolicyShock("2025-01", "xian", "reward_rate", 0.3))
    cf = without_policy(dataclasses.replace(base, shocks=shocks), "zhengzhou")
    assert [s.city for s in cf.shocks] == ["xian"]
    # A city with no policy of its own still spends once a shock gives it a reward.
    off = without_policy(base, "zhengzhou")
    assert not spends(off, "zhengzhou")
    assert spends(dataclasses.replace(off, shocks=shocks[:1]), "zhengzhou")


@pytest.mark.parametrize(("override", "start"), [
    ("shocks=[{at:2025-01,city:xian,levr:reward_rate,value:0.2}]", "shocks[].levr: unknown key; allowed here: at, city, lever, value"),
    ("shocks=[{at:2025-01,city:xian,lever:reward_rate,value:abc}]", "shocks[].value: "),
])
def test_command_line_errors_inside_a_shock_name_the_list(override, start):
    from sim.shell.config import describe_error

    with pytest.raises(Exception) as err:
        compose_run([override])
    assert describe_error(err.value).startswith(start)


def test_a_shock_added_while_running_gives_the_table_of_a_run_that_had_it_from_the_start(base):
    shock = PolicyShock("2025-03", "xian", "reward_rate", 0.2)
    live = ContestModel(base)
    for _ in range(10):
        live.step()
    live.add_shock(shock)
    live.run(base.steps - 10)
    assert live.params.shocks == (shock,)
    planned = ContestModel(dataclasses.replace(base, shocks=(shock,))).run()
    assert live.city_table().equals(planned.city_table())
    with pytest.raises(ParamError, match="simulated already; the next month is 2026-07"):
        live.add_shock(PolicyShock("2025-04", "xian", "reward_rate", 0.3))
    with pytest.raises(ParamError, match=r"shocks\[1\].city"):
        live.add_shock(PolicyShock("2027-01", "wuhan", "reward_rate", 0.3))


def test_a_shock_after_the_run_s_last_month_is_refused():
    with pytest.raises(ParamError) as err:
        load_config("xian_vs_zhengzhou", ["shocks=[{at:2040-01,city:xian,lever:reward_rate,value:0.2}]"])
    assert str(err.value) == ("shocks[0].at: 2040-01 is after the run's last month 2028-12; "
                              "allowed 2024-01 to 2028-12")
    # The last month itself is still in the run.
    last = load_config("xian_vs_zhengzhou", ["shocks=[{at:2028-12,city:xian,lever:reward_rate,value:0.2}]"])
    assert last.last_month == "2028-12" and last.shocks[0].at == "2028-12"


def test_a_live_model_takes_changes_past_its_planned_months(base):
    """The cockpit steps on past `steps`; a change made there is a shock after the planned run, and applies."""
    live = ContestModel(base).run()
    shock = PolicyShock("2026-07", "xian", "reward_rate", 0.3)  # base runs 30 months: 2024-01 to 2026-06
    live.add_shock(shock)
    live.step()
    assert rows(live, "xian").loc["2026-07-01", "reward_rate"] == 0.3


@pytest.mark.parametrize(("second", "refused"), [
    ({"value": 0.9}, True),  # 0.2 and 0.9 for one lever of one city in one month: which?
    ({"value": 0.2}, True),  # the same value twice is still two shocks for one slot
    ({"lever": "annual_budget", "value": 1e8}, False),
    ({"city": "zhengzhou"}, False),
    ({"at": "2025-02"}, False),
])
def test_two_shocks_to_one_lever_of_one_city_in_one_month_are_refused(base, second, refused):
    first = {"at": "2025-01", "city": "xian", "lever": "reward_rate", "value": 0.2}
    data = to_dict(base)
    data["shocks"] = [first, {"at": "2024-06", "city": "zhengzhou", "lever": "reward_rate", "value": 0.3},
                      {**first, **second}]
    if not refused:
        assert len(from_dict(RunParams, data).shocks) == 3
        return
    with pytest.raises(ParamError) as err:
        from_dict(RunParams, data)
    assert err.value.key == "shocks[2].at"
    assert "shocks[0]" in err.value.message and "one value per city, lever and month" in err.value.message


def test_a_shock_keeps_within_the_city_s_strategy_bounds():
    # A shock becomes the announced rate, which a reactive city never cuts: above its maximum it would stay there.
    war = load_config("subsidy_war", ["shocks=[{at:2025-01,city:xian,lever:reward_rate,value:0.5}]"])
    assert war.scenario.city("xian").strategy.max_reward_rate == 0.5
    with pytest.raises(ParamError) as err:
        load_config("subsidy_war", ["shocks=[{at:2025-01,city:xian,lever:reward_rate,value:0.7}]"])
    assert err.value.key == "shocks[0].value"
    assert "reactive" in err.value.message and "[0, 0.5]" in err.value.message
    # A fixed city keeps whatever rate it is given.
    assert load_config("xian_vs_zhengzhou", ["shocks=[{at:2025-01,city:xian,lever:reward_rate,value:0.7}]"]).shocks
