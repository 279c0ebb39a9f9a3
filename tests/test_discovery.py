"""PRIM scenario discovery finds a planted region of lever values."""

import numpy as np
import pandas as pd

from experiments.discovery import find_box, sweep_boxes


def test_prim_finds_the_planted_box():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"own_rate": rng.random(1_000), "rival_rate": rng.random(1_000), "noise": rng.random(1_000)})
    wins = ((x.own_rate > 0.6) & (x.rival_rate < 0.3)).to_numpy()
    box = find_box(x, wins, "zhengzhou")
    assert set(box.limits) == {"own_rate", "rival_rate"}  # the irrelevant lever is left free
    assert abs(box.limits["own_rate"][0] - 0.6) < 0.05 and abs(box.limits["rival_rate"][1] - 0.3) < 0.06
    assert box.density >= 0.8 and box.coverage >= 0.9
    assert wins.mean() <= box.mass < 1.25 * wins.mean()  # hardly larger than the planted region itself


def test_nothing_to_discover_when_a_city_always_or_never_wins():
    runs = pd.DataFrame({"status": "ok", "a": [0.1, 0.2, 0.3], "capital": ["xian"] * 3})
    boxes = sweep_boxes(runs, ["a"], ["xian", "zhengzhou"])
    assert boxes == {"xian": None, "zhengzhou": None}
