"""The sweep folder store: a merge stopped half way never doubles runs."""

import shutil

import pandas as pd

from experiments.batch.runs import RunResult
from experiments.batch.store import ResultStore


def result(run_id: int) -> RunResult:
    cities = pd.DataFrame({"run_id": run_id, "step": [1, 1, 2, 2], "city": ["a", "b", "a", "b"],
                           "share": [0.5, 0.5, 0.4, 0.6]})
    return RunResult(run_id, {"run_id": run_id, "status": "ok", "error": None, "capital": "b"}, cities)


def test_merge_stopped_before_removing_parts_does_not_duplicate(tmp_path, monkeypatch):
    design = pd.DataFrame({"run_id": range(4), "point_id": [0, 0, 1, 1], "replicate": [0, 1, 0, 1],
                           "seed": [1, 2, 1, 2], "x": [0.1, 0.1, 0.2, 0.2]})
    store = ResultStore(tmp_path)
    store.write_design(design, "tag")
    for i in range(4):
        store.add(result(i))
    monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: None)  # a kill after writing, before the clean-up
    store.merge(design)
    assert store.done() == {0, 1, 2, 3}
    monkeypatch.undo()
    runs = store.merge(design)  # the resumed sweep merges again
    cities = pd.read_parquet(tmp_path / "cities.parquet")
    assert runs.run_id.tolist() == [0, 1, 2, 3]
    assert len(cities) == 16 and not cities.duplicated(["run_id", "step", "city"]).any()
    assert not (tmp_path / "parts").exists()


def test_merge_with_cities_written_but_runs_not(tmp_path):
    design = pd.DataFrame({"run_id": range(2), "point_id": [0, 0], "replicate": [0, 1], "seed": [1, 2]})
    store = ResultStore(tmp_path)
    store.write_design(design, "tag")
    store.add(result(0))
    store._merge_cities()  # stopped after the city table, before the run table
    store.add(result(1))
    runs = store.merge(design)
    cities = pd.read_parquet(tmp_path / "cities.parquet")
    assert runs.run_id.tolist() == [0, 1] and len(cities) == 8
