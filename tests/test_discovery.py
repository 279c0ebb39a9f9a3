"""PRIM scenario discovery finds a planted region of lever values."""

import numpy as np
import pandas as pd

from experiments.analysis.discovery import find_box, sweep_boxes


def test_prim_finds_the_planted_box():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"own_rate": rng.random(1_000), "rival_rate": rng.random(1_000), "noise": rng.random(1_000)})
    wins = ((x.own_rate > 0.6) & (x.rival_rate < 0.3)).to_numpy()
    box = find_box(x, wins, "zhengzhou")
    assert set(box.limits) == {"own_rate", "rival_rate"}  # the irrelevant lever is left free
    assert abs(box.limits["own_rate"][0] - 0.6) < 0.05 and abs(box.limits["rival_rate"][1] - 0.3) < 0.06
    assert box.density >= 0.8 and box.coverage >= 0.9
    assert wins.mean() <= box.mass < 1.25 * wins.mean()  # hardly larger than the planted region itself
    # real restrictions: tiny quasi-p-values, found again on random halves, and the noise scores lowest
    assert all(q < 1e-6 for q in box.qp.values()) and all(r >= 0.8 for r in box.reproducibility.values())
    assert min(box.scores, key=box.scores.get) == "noise"


def test_a_restriction_on_noise_is_flagged_by_its_quasi_p_value_or_its_reproducibility():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"own_rate": rng.random(400), "noise": rng.random(400)})
    wins = ((x.own_rate > 0.5) & (rng.random(400) < 0.7)).to_numpy()  # only own_rate matters, and not always
    box = find_box(x, wins, "zhengzhou")
    assert "own_rate" in box.limits and box.qp["own_rate"] < 1e-3
    if "noise" in box.limits:  # PRIM may peel a little noise off; the statistics must say it is not real
        assert box.qp["noise"] > box.qp["own_rate"] and box.reproducibility["noise"] < box.reproducibility["own_rate"]


def test_nothing_to_discover_when_a_city_always_or_never_wins():
    runs = pd.DataFrame({"status": "ok", "a": [0.1, 0.2, 0.3], "capital": ["xian"] * 3})
    boxes = sweep_boxes(runs, ["a"], ["xian", "zhengzhou"])
    assert boxes == {"xian": None, "zhengzhou": None}
