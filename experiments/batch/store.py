"""A sweep's folder: the design, one file pair per finished run, merged tables at the end.

A run counts as finished once its `parts/runs-<id>.parquet` exists; it is
written after the run's city rows and renamed into place atomically, so a
sweep killed at any moment (even `kill -9`) keeps every finished run, and a
rerun into the same folder computes only the missing ones.

The merged tables are checked before a rerun trusts them (`check_merged`): a
table that is missing where a finished sweep has one, unreadable, or short of
runs of the design is set aside under a new name (never deleted), and the
runs it held are computed again.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from experiments.batch.runs import RunResult
from sim.shell.atomic import atomic, write_parquet

_PART = re.compile(r"runs-(\d+)\.parquet$")
_CITY_PART = re.compile(r"cities-(\d+)\.parquet$")
MERGED = ("runs.parquet", "cities.parquet")


class UnreadableDesign(Exception):
    """design.parquet exists but cannot be read as a design."""


@dataclass
class Repair:
    """What `check_merged` found and did: the problems, the tables set aside, the runs to compute again."""

    problems: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)  # new names of the tables moved out of the way
    redo: set[int] = field(default_factory=set)  # runs kept in parts/ that are incomplete, so computed again


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
        """The run table and its fingerprint; UnreadableDesign if the file is not a design."""
        try:
            table = pq.read_table(self.folder / "design.parquet")
            runs = table.to_pandas()
        except Exception as err:  # noqa: BLE001 - pyarrow raises OSError, ArrowInvalid, ... for a damaged file
            raise UnreadableDesign(_reason(err)) from err
        if not {"run_id", "point_id", "replicate", "seed"} <= set(runs.columns):
            raise UnreadableDesign("it has no run_id, point_id, replicate and seed columns")
        return runs, (table.schema.metadata or {}).get(b"fingerprint", b"").decode()

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

    def part_ids(self, kind: str = "runs") -> set[int]:
        """Ids of the runs with a `kind` part (runs or cities) in parts/."""
        if not self.parts.is_dir():
            return set()
        pattern = _PART if kind == "runs" else _CITY_PART
        return {int(m.group(1)) for p in self.parts.iterdir() if (m := pattern.match(p.name))}

    # ------------------------------------------------------------ checking the merged tables
    def check_merged(self, design: pd.DataFrame, keep_every: int, steps: int, complete: bool) -> Repair:
        """Check runs.parquet and cities.parquet against the design before a rerun trusts them.

        A table is broken when it cannot be read, holds runs the design does
        not have, or lacks runs it should hold (and parts/ does not hold them
        either): runs.parquet every run of the design; cities.parquet every
        `ok` run that kept city rows (keep_every > 0 and at least keep_every
        months). A missing table is broken where a finished sweep would have
        it (`complete`: the manifest says so). If either is broken, both are
        renamed `<name>.broken-<UTC time>` and every run not kept whole in
        parts/ is computed again, so the merge rebuilds both from parts alone.
        """
        design_ids = set(design.run_id.tolist())
        run_parts, city_parts = self.part_ids("runs"), self.part_ids("cities")
        problems: list[str] = []
        runs_path, cities_path = (self.folder / name for name in MERGED)
        ok_ids: set[int] = set()
        if runs_path.exists():
            try:
                runs = pq.read_table(runs_path).to_pandas()
                if not {"run_id", "status"} <= set(runs.columns):
                    raise ValueError("it has no run_id and status columns")
            except Exception as err:  # noqa: BLE001 - pyarrow raises OSError, ArrowInvalid, ... for a damaged file
                problems.append(f"runs.parquet is unreadable ({_reason(err)})")
            else:
                ids = set(runs.run_id.tolist())
                if len(ids) != len(runs) or not ids <= design_ids:
                    problems.append("runs.parquet holds runs twice or runs not in the design")
                elif missing := design_ids - ids - run_parts:
                    problems.append(f"runs.parquet lacks {len(missing)} runs of the design")
                ok_ids = set(runs.run_id[runs.status == "ok"].tolist())
        elif complete or cities_path.exists():  # a merge writes runs.parquet first, and a finished sweep has it
            problems.append("runs.parquet is missing")
        if not problems:
            expected = _keeping_cities(design, ok_ids, keep_every, steps)
            if cities_path.exists():
                try:
                    city_ids = _run_ids_of(cities_path)
                except Exception as err:  # noqa: BLE001
                    problems.append(f"cities.parquet is unreadable ({_reason(err)})")
                else:
                    if not city_ids <= design_ids:
                        problems.append("cities.parquet holds runs not in the design")
                    elif missing := expected - city_ids - city_parts:
                        problems.append(f"cities.parquet lacks the rows of {len(missing)} runs")
            elif missing := expected - city_parts:
                problems.append(f"cities.parquet is missing (the rows of {len(missing)} runs)")
        if not problems:
            return Repair()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        set_aside = [self._set_aside(self.folder / name, stamp) for name in MERGED if (self.folder / name).exists()]
        return Repair(problems, set_aside, self._incomplete_parts(run_parts, city_parts, keep_every, steps, design))

    def _set_aside(self, path: Path, stamp: str) -> str:
        """Rename a broken table out of the way (kept for whoever wants to look at it); returns its new name."""
        target = path.with_name(f"{path.name}.broken-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
        path.rename(target)
        return target.name

    def _incomplete_parts(self, run_parts: set[int], city_parts: set[int], keep_every: int, steps: int,
                          design: pd.DataFrame) -> set[int]:
        """Runs in parts/ that cannot be merged alone: an unreadable row, or an ok run whose city rows are gone
        (a merge stopped while it removed parts/ removes them in no particular order)."""
        incomplete = set()
        for run_id in sorted(run_parts):
            try:
                row = pd.read_parquet(self.parts / f"runs-{run_id:07d}.parquet")
                ok = set(row.run_id[row.status == "ok"].tolist())
            except Exception:  # noqa: BLE001 - a part that cannot be read is computed again
                incomplete.add(run_id)
                continue
            if run_id not in city_parts and _keeping_cities(design, ok, keep_every, steps):
                incomplete.add(run_id)
        return incomplete

    def add(self, result: RunResult) -> None:
        """Keep one finished run (city rows first, then the run row that marks it finished).

        Parts are written uncompressed from Arrow (a few hundred rows each: compressing them costs more than it
        saves, and the merge compresses the whole); the merged tables are written as before.
        """
        self.parts.mkdir(parents=True, exist_ok=True)
        cities = result.cities
        if cities is not None and len(cities):
            if not isinstance(cities, pa.Table):
                cities = pa.Table.from_pandas(cities, preserve_index=False)
            atomic(self.parts / f"cities-{result.run_id:07d}.parquet",
                   lambda p: pq.write_table(cities, p, compression="none"))
        row = pa.Table.from_pylist([result.row])
        atomic(self.parts / f"runs-{result.run_id:07d}.parquet", lambda p: pq.write_table(row, p, compression="none"))

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
        # One small file each: read without a thread pool (faster for a few rows), as pandas reads them.
        frames += [pq.read_table(p, use_threads=False).to_pandas() for p in sorted(self.parts.glob("runs-*.parquet"))
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
        tables = [pq.read_table(p, use_threads=False) for p in sources]
        table = pa.concat_tables(tables, promote_options="default")
        table = table.sort_by([("run_id", "ascending"), ("step", "ascending")])
        write_parquet(table, target)


def _keeping_cities(design: pd.DataFrame, ok_ids: set[int], keep_every: int, steps: int) -> set[int]:
    """The ok runs among `ok_ids` that kept city rows: months are numbered from 1, so a run keeps rows when it
    lasts at least keep_every months (`steps` may be a varied key, a column of the design)."""
    if keep_every <= 0 or not ok_ids:
        return set()
    if "steps" not in design.columns:
        return set(ok_ids) if steps >= keep_every else set()
    months = design.set_index("run_id")["steps"]
    return {i for i in ok_ids if i in months.index and round(float(months[i])) >= keep_every}


def _run_ids_of(path: Path) -> set[int]:
    """The run ids of a merged table, reading every page (a damaged page anywhere raises), one batch at a time."""
    ids: set[int] = set()
    for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):
        ids.update(pc.unique(batch.column("run_id")).to_pylist())
    return ids


def _reason(err: BaseException) -> str:
    """An exception as a short phrase for a one-line message."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = re.sub(r"^Could not open Parquet input source '[^']*': ", "", text).split(". ")[0].rstrip(".")
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
