"""The scenario library: every city file, every number sourced, scenarios built from the city files."""

import re

import pytest

from sim import ContestModel, load_config
from sim.shell.config import CONFIG_DIR, scenario_names

CITY_FILES = sorted((CONFIG_DIR / "city").glob("*.yaml"))
BRIEF_CITIES = {"xian", "zhengzhou", "hangzhou", "shanghai", "shenzhen", "nanning", "wujin", "quzhou", "hengdian",
                "jingzhou", "nanjing", "suzhou", "fuzhou", "sihong", "yangzhou"}
SOURCED = re.compile(r"#.*(\bS[1-8]\b|assumption|MODEL-BRIEF|public geography)")  # S1..S8: docs/sources.md
NUMBER = re.compile(r"^\s*[a-z_0-9]+:\s*-?[0-9.][0-9.e+-]*\s*(#|$)")


def test_every_city_in_the_brief_has_a_city_file():
    assert {p.stem for p in CITY_FILES} == BRIEF_CITIES


@pytest.mark.parametrize("path", CITY_FILES + sorted((CONFIG_DIR / "scenario").glob("*.yaml")), ids=lambda p: p.name)
def test_every_number_cites_a_seed_or_says_assumption(path):
    unsourced = []
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if NUMBER.match(line):
            # a comment on the line, or a comment block right above it, must name the source
            context = " ".join([line, *(ln for ln in lines[max(0, i - 4):i] if ln.strip().startswith("#"))])
            if not SOURCED.search(context):
                unsourced.append(f"{path.name}:{i + 1}: {line.strip()}")
    assert not unsourced, "numbers without a source or an assumption:\n" + "\n".join(unsourced)


def test_national_holds_every_city_and_steps_quickly():
    params = load_config("national", ["steps=3"])
    assert {c.id for c in params.scenario.cities} == BRIEF_CITIES
    assert set(ContestModel(params).run().city_table().city) == BRIEF_CITIES | {"rest"}  # and the rest of the country


def test_announced_policies_reach_the_params():
    national = load_config("national").scenario
    assert national.city("shanghai").policy.annual_budget == 50e6
    assert national.city("shanghai").policy.reward_cap == 3e6
    assert national.city("shenzhen").policy.stacking.value == "stack"
    assert national.city("xian").policy.award_bonus == 0.2
    assert national.city("fuzhou").policy.annual_budget * national.city("fuzhou").policy.budget_period_years == 30e6
    assert national.city("zhengzhou").policy.culture_cap == 300e3
    assert national.city("wujin").policy.min_investment == 5e6 and national.city("wujin").policy.reward_cap == 200e3
    assert national.city("quzhou").studio_capacity == 30
    assert national.city("jingzhou").policy.studio_investment > 0
    # The 2025 counts (centres of their read ranges) back-cast to January 2024 with the market's growth over the
    # 18 months to mid-2025 (configs/city/*.yaml).
    back = (63.43 / 50.4) ** 1.5
    for city, count in (("xian", 650), ("hengdian", 325), ("quzhou", 40)):
        assert abs(national.city(city).firms - count / back) <= 1.0, (city, national.city(city).firms, count / back)


def test_subsidy_war_is_reactive_on_both_sides():
    war = load_config("subsidy_war").scenario
    assert {c.strategy.kind.value for c in war.cities} == {"reactive"}
    assert set(scenario_names()) >= {"xian_vs_zhengzhou", "national", "zhejiang", "jiangsu", "subsidy_war", "symmetric"}


def _calibrated(name):
    import yaml

    def leaves(node, prefix=""):
        for k, v in node.items():
            yield from (leaves(v, f"{prefix}{k}.") if isinstance(v, dict) else [(f"{prefix}{k}", v)])
    return dict(leaves(yaml.safe_load((CONFIG_DIR / "calibration" / f"{name}.yaml").read_text())))


def _value(scenario_params, dotted):
    node = scenario_params
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


@pytest.mark.parametrize("scenario, fitted_in", [("subsidy_war", "national"), ("xian_vs_zhengzhou", "national"),
                                                ("zhejiang", "national"), ("jiangsu", "national")])
def test_scenarios_without_their_own_fit_inherit_one(scenario, fitted_in):
    calibrated = _calibrated(fitted_in)
    assert calibrated, fitted_in
    params = load_config(scenario).scenario
    for key, value in calibrated.items():
        if key.startswith("cities."):
            continue  # a city the inheriting scenario may not hold
        assert _value(params, key) == pytest.approx(value), key


def test_a_synthetic_contest_at_any_scale_keeps_its_population_roughly_stable():
    from sim.params import ParamError, RunParams
    from sim.synthetic import synthetic_scenario

    scenario = synthetic_scenario(firms=5_000, cities=20, seed=1)
    assert len(scenario.cities) == 20 and sum(c.firms for c in scenario.cities) == 5_000
    ratios = []
    for seed in range(5):
        model = ContestModel(RunParams(scenario=scenario, steps=60, seed=seed, counterfactual=False))
        for _ in range(60):
            model.step()
            ratios.append(model.n_firms / 5_000)
    assert 0.75 < min(ratios) and max(ratios) < 1.3, (min(ratios), max(ratios))  # month by month: no collapse, no boom
    with pytest.raises(ParamError, match="firms"):
        synthetic_scenario(firms=10, cities=20)


def test_whole_market_scenarios_start_at_one_national_scale():
    """Every scenario that models the whole market starts with `national`'s number of companies (docs/ODD.md 6.1):
    the rest of the country takes what its named cities do not."""
    def total(name):
        sc = load_config(name).scenario
        return sum(c.firms for c in sc.cities) + (sc.outside.firms if sc.outside.enabled else 0)

    national = total("national")
    for name in ("xian_vs_zhengzhou", "zhejiang"):
        assert abs(total(name) - national) <= 0.01 * national, (name, total(name), national)


def test_zhengzhou_start_follows_its_employment_through_the_fitted_units():
    """configs/city/zhengzhou.yaml derives Zhengzhou's starting companies from S5's 24,000 jobs (December
    2024, after +26.6 % that year) through the national fit's direct jobs per crew member: if a refit moves the
    ratio, the start must be derived again."""
    sc = load_config("national").scenario
    derived = 24_000 / 1.266 / (sc.firms.crew_mean * sc.units.direct_jobs_per_crew)
    assert abs(sc.city("zhengzhou").firms - derived) <= 0.05 * derived, (sc.city("zhengzhou").firms, derived)
