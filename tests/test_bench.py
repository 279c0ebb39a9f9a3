"""The benchmarks' reference and floor compute what they claim (correctness only: no timing here)."""

import numpy as np
import pytest
from scipy import stats

from benchmarks.floor import NumpyFloor
from benchmarks.reference import ReferenceModel
from sim import ContestModel, load_config
from sim.choice import logit_choice, logit_probabilities
from sim.economics import expected_profit, location_utility


@pytest.fixture(scope="module")
def national():
    """The national scenario (15 cities and the rest of the country) after 3 months, every firm reconsidering."""
    model = ContestModel(load_config("national", ["scenario.behaviour.reconsider_rate=1.0", "counterfactual=false"]))
    model.run(3)
    model.survey_places()
    return model


def _utilities(model):
    f, b = model.firms, model.scenario_params.behaviour
    rows = np.arange(len(f))
    profit = expected_profit(model._kinds(rows), model._view, model.policy, model._rev_per_weight,
                             model.scenario_params.firms.overhead)
    return location_utility(profit, b.horizon_months, model.move_cost[f.city], model._view.pull)


def test_the_per_agent_reference_computes_the_models_utilities(national):
    reference = ReferenceModel(national, seed=0)
    firms = list(reference.agents)
    assert len(firms) == national.n_firms
    vectorised = _utilities(national)
    some = firms[:: max(len(firms) // 200, 1)]
    for firm in some:
        got = [firm.utility(j) for j in range(national.n_places)]
        assert got == pytest.approx(vectorised[firm.row], rel=1e-9, abs=1e-9)


def test_the_reference_and_the_numpy_pass_make_statistically_the_same_choices(national):
    utility = _utilities(national)
    scale = national.scenario_params.behaviour.logit_scale
    expected = logit_probabilities(utility, scale).sum(axis=0)
    rounds = 10
    rng = np.random.default_rng(5)
    vectorised = sum(np.bincount(logit_choice(utility, scale, rng), minlength=national.n_places)
                     for _ in range(rounds))
    agents = np.zeros(national.n_places)
    for k in range(rounds):
        reference = ReferenceModel(national, seed=k)
        reference.step()
        agents += np.bincount([a.city for a in reference.agents], minlength=national.n_places)
    # Pool the places where too few choices are expected for the chi-square approximation.
    big = expected * rounds >= 5
    for counts in (vectorised, agents):
        observed = np.append(counts[big], counts[~big].sum())
        wanted = np.append(expected[big], expected[~big].sum()) * rounds
        keep = wanted > 0
        assert stats.chisquare(observed[keep], wanted[keep]).pvalue > 1e-4
    table = np.vstack([np.append(vectorised[big], vectorised[~big].sum()),
                       np.append(agents[big], agents[~big].sum())])
    table = table[:, table.sum(axis=0) > 0]
    assert stats.chi2_contingency(table).pvalue > 1e-4


def test_the_floor_draws_a_logit_choice_for_the_share_that_reconsiders():
    floor = NumpyFloor(firms=20_000, places=10, mover_share=0.05, seed=1)
    chosen = [floor.step() for _ in range(20)]
    sizes = np.array([len(c) for c in chosen])
    assert abs(sizes.mean() - 1_000) < 40  # 5 % of 20,000 a month
    assert all(c.min() >= 0 and c.max() < 10 for c in chosen)
