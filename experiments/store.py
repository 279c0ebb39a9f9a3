"""A sweep's folder: the design, one file pair per finished run, merged tables at the end.

A run counts as finished once its `parts/runs-<id>.parquet` exists; it is
written after the run's city rows and renamed into place atomically, so a
sweep killed at any moment (even `kill -9`) keeps every finished run, and a
rerun into the same folder computes only the missing ones.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.evaluate import RunResult
from sim.atomic import write_parquet

_PART = re.compile(r"runs-(\d+)\.parquet$")


def _run_id(path: Path) -> int:
    """The run id in a part's file name (runs-0000012.parquet, cities-0000012.parquet)."""
    return int(re.search(r"-(\d+)\.parquet$", path.name).group(1))


class ResultStore:
    """Reads and writes one sweep folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.parts = self.folder / "parts"

    # ------------------------------------------------------------ design
    def has_design(self) -> bool:
        return (self.folder / "design.parquet").exists()

    def write_design(self, runs: pd.DataFrame, fingerprint: str) -> None:
        """Write the run table once, tagged with the sweep's fingerprint."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.parts.mkdir(exist_ok=True)
        table = pa.Table.from_pandas(runs, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"fingerprint": fingerprint.encode()})
        write_parquet(table, self.folder / "design.parquet")

    def design(self) -> tuple[pd.DataFrame, str]:
        """The run table and its fingerprint."""
        table = pq.read_table(self.folder / "design.parquet")
        return table.to_pandas(), (table.schema.metadata or {}).get(b"fingerprint", b"").decode()

    # ------------------------------------------------------------ runs
    def done(self) -> set[int]:
        """Ids of the runs already finished (merged or in parts)."""
        ids: set[int] = set()
        merged = self.folder / "runs.parquet"
        if merged.exists():
            ids.update(pd.read_parquet(merged, columns=["run_id"]).run_id.tolist())
        if self.parts.exists():
            ids.update(int(m.group(1)) for p in self.parts.iterdir() if (m := _PART.match(p.name)))
        return ids

    def add(self, result: RunResult) -> None:
        """Keep one finished run (city rows first, then the run row that marks it finished)."""
        self.parts.mkdir(parents=True, exist_ok=True)
        if result.cities is not None and len(result.cities):
            write_parquet(result.cities, self.parts / f"cities-{result.run_id:07d}.parquet")
        row = pd.DataFrame([result.row])
        write_parquet(row, self.parts / f"runs-{result.run_id:07d}.parquet")

    def merge(self, design: pd.DataFrame) -> pd.DataFrame:
        """Write runs.parquet (design columns + outcomes, by run_id) and cities.parquet; drop the parts.

        Parts of runs already in an earlier merge (left behind when a merge
        was stopped before it removed them) are skipped, so nothing doubles.
        """
        merged_path = self.folder / "runs.parquet"
        merged_ids: set[int] = set()
        frames = []
        if merged_path.exists():
            old = pd.read_parquet(merged_path)
            merged_ids = set(old.run_id.tolist())
            frames.append(old[[c for c in old.columns if c not in design.columns or c == "run_id"]])
        frames += [pd.read_parquet(p) for p in sorted(self.parts.glob("runs-*.parquet"))
                   if _run_id(p) not in merged_ids]
        results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"run_id": []})
        runs = design.merge(results, on="run_id", how="inner").sort_values("run_id").reset_index(drop=True)
        write_parquet(runs, merged_path)
        self._merge_cities()
        shutil.rmtree(self.parts, ignore_errors=True)
        return runs

    def _merge_cities(self) -> None:
        """Every city part not in cities.parquet yet, with what is there, into one cities.parquet ordered by run."""
        target = self.folder / "cities.parquet"
        merged = set(pq.read_table(target, columns=["run_id"]).column("run_id").to_pylist()) if target.exists() else set()
        sources = [p for p in sorted(self.parts.glob("cities-*.parquet")) if _run_id(p) not in merged]
        if target.exists():
            sources = [target, *sources]
        if not sources:
            return
        tables = [pq.read_table(p) for p in sources]
        table = pa.concat_tables(tables, promote_options="default")
        table = table.sort_by([("run_id", "ascending"), ("step", "ascending")])
        write_parquet(table, target)
