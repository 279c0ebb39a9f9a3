"""Same seed, same tables; another seed, other tables."""

import pandas as pd

from sim import ContestModel

from conftest import make_params


def table(seed: int) -> pd.DataFrame:
    params = make_params(seed=seed, steps=24, cities={"east": {"strategy": {"kind": "reactive"}},
                                                      "west": {"strategy": {"kind": "objective"}}})
    return ContestModel(params).run().city_table()


def test_same_seed_gives_identical_tables():
    pd.testing.assert_frame_equal(table(11), table(11))


def test_another_seed_gives_other_tables():
    assert not table(11).equals(table(12))


def test_summary_is_deterministic():
    a = ContestModel(make_params(seed=5)).run().summary()
    b = ContestModel(make_params(seed=5)).run().summary()
    assert a == b
