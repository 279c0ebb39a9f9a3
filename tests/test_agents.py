"""Firms and cities are real Mesa agents that read and write their rows."""

import pytest

from sim import City, ContestModel, Firm

from conftest import make_params


def test_agents_are_mesa_agents_with_their_state():
    model = ContestModel(make_params(steps=6))
    firms = model.agents_by_type[Firm]
    cities = model.agents_by_type[City]
    assert len(firms) == 120 and len(cities) == 2
    assert {c.city_id for c in cities} == {"east", "west"}
    model.run(6)
    firm = next(iter(model.agents_by_type[Firm]))
    assert firm.city.city_id in {"east", "west"}
    assert firm.tier in {"traffic", "premium"} and firm.crew >= 1
    assert firm.capital == model.firms.capital[firm.row]
    firm.capital = 123.0
    assert model.firms.capital[firm.row] == 123.0
    # the agents iterate like any AgentSet
    by_city = {c.city_id: 0 for c in cities}
    for f in model.agents_by_type[Firm]:
        by_city[f.city.city_id] += 1
    assert by_city == {c.city_id: c.firms for c in cities}


def test_exited_firms_leave_the_agent_set():
    params = make_params({"east": {"wage": 60000.0}, "west": {"wage": 60000.0}}, steps=12)
    model = ContestModel(params).run()
    assert model.exited_total > 0
    views = model.agents_by_type[Firm]
    assert {f.firm_id for f in views} == set(model.firms.id.tolist())
    assert sorted(f.row for f in views) == list(range(model.n_firms))


def test_firm_views_follow_the_table_as_firms_come_and_go():
    model = ContestModel(make_params(steps=24))
    first = {f.firm_id: f for f in model.agents_by_type[Firm]}
    model.run()
    assert model.entered_total > 0 and model.exited_total > 0
    now = {f.firm_id: f for f in model.agents_by_type[Firm]}
    assert set(now) == set(model.firms.id.tolist())
    for firm_id in first.keys() & now.keys():
        assert now[firm_id] is first[firm_id]  # a survivor keeps its agent
        assert now[firm_id].capital == model.firms.capital[model.firms.row_of(firm_id)]
    gone = next(f for i, f in first.items() if i not in now)
    with pytest.raises(LookupError, match="has exited"):
        gone.capital


def test_city_views_match_the_table():
    model = ContestModel(make_params(steps=4)).run()
    last = model.city_table().query("step == 4").set_index("city")
    for city in model.cities:
        assert city.share == pytest.approx(last.loc[city.city_id, "share"])
        assert city.budget_left == pytest.approx(last.loc[city.city_id, "budget_left"])
        assert city.reward_rate == pytest.approx(last.loc[city.city_id, "reward_rate"])
