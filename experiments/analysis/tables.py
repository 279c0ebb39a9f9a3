"""What a sweep's tables say: bands over replicates, capital grids, fiscal accounts and a summary in words.

Pure functions over the sweep's tables (runs.parquet, cities.parquet) and
its resolved config; `experiments.report` draws and writes them. Every
number in the summary sentences is read from the tables these functions
return, so the report never states a figure the tables do not hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from experiments.analysis.intervals import band, chance_text, wilson

BAND = (0.05, 0.95)  # the 90 % band over replicates
MAX_LEVELS = 12  # distinct values of a lever beyond which its bands are binned
BINS = 8  # quantile bins of such a lever
LIKELY = 0.8  # "becomes the capital" in the summary: in at least this share of a point's runs


@dataclass
class Sweep:
    """A finished sweep folder, read once."""

    folder: Path
    config: dict
    runs: pd.DataFrame
    cities_table: pd.DataFrame | None
    keys: list[str]  # varied keys, in the experiment's order
    cities: list[str]  # the scenario's city ids (the places that can become the capital)
    names: dict[str, str]  # place id -> name ("rest" -> the rest of the country's name)

    @property
    def threshold(self) -> float:
        return float(self.config.get("capital_threshold", 0.5))

    @property
    def is_grid(self) -> bool:
        """Two varied keys crossed on a full grid (what heat maps need)."""
        points = self.runs.groupby("point_id")[self.keys].first()
        return len(self.keys) == 2 and points[self.keys[0]].nunique() * points[self.keys[1]].nunique() == len(points)

    @property
    def experiment(self):
        """The sweep's ExperimentParams, rebuilt from its resolved config."""
        from experiments.batch.design import DesignKind, ExperimentParams, ParameterSpec

        exp = dict(self.config["experiment"])
        params = tuple(ParameterSpec(key=p["key"], values=tuple(p.get("values") or ()), low=p.get("low"),
                                     high=p.get("high")) for p in exp.pop("parameters"))
        exp["design"] = DesignKind(exp.get("design", "grid"))
        exp["outcomes"] = tuple(exp.get("outcomes", ()))
        return ExperimentParams(parameters=params, **exp)

    def points(self) -> pd.DataFrame:
        """The design's points in order: point_id and the varied keys."""
        return self.runs.groupby("point_id")[self.keys].first().reset_index()

    def label(self, key: str) -> str:
        """A varied key in words: 'scenario.cities.zhengzhou.policy.reward_rate' -> "Zhengzhou's reward rate"."""
        parts = key.split(".")
        what = parts[-1].replace("_", " ")
        if len(parts) >= 3 and parts[0] == "scenario" and parts[1] == "cities":
            return f"{self.names.get(parts[2], parts[2])}'s {what}"
        return what

    def owner(self, key: str) -> str | None:
        """The city whose lever `key` is, if it is one."""
        parts = key.split(".")
        return parts[2] if len(parts) >= 3 and parts[:2] == ["scenario", "cities"] else None


class SweepError(ValueError):
    """A folder that is not a finished, readable sweep, or one the report cannot use: one line, exit 2."""


def load_sweep(folder: Path) -> Sweep:
    """Read a sweep folder written by `experiments.sweep` (runs.parquet, config.yaml, cities.parquet if kept).

    Raises SweepError, naming the file, for a missing, unreadable or malformed one.
    """
    folder = Path(folder)
    for name in ("runs.parquet", "config.yaml"):
        if not (folder / name).is_file():
            raise SweepError(f"{folder} has no {name}: not a finished sweep folder (run experiments.sweep "
                             f"first, or finish it with resume=true)")
    config = _read_config(folder / "config.yaml")
    runs = _read_table(folder / "runs.parquet")
    cities_path = folder / "cities.parquet"
    cities_table = _read_table(cities_path) if cities_path.is_file() else None
    scenario = config["scenario"]
    cities = list(scenario["cities"])
    names = {c: (data.get("name") or c) for c, data in scenario["cities"].items()}
    if isinstance(scenario.get("outside"), dict) and scenario["outside"].get("enabled"):
        names["rest"] = scenario["outside"].get("name") or "rest of the country"
    keys = [p["key"] for p in config["experiment"]["parameters"]]
    missing = [c for c in ("run_id", "point_id", "status", *keys) if c not in runs.columns]
    if missing:
        raise SweepError(f"{folder / 'runs.parquet'}: no column {missing[0]!r}, which config.yaml's design needs; "
                         f"the table and the config are not from the same sweep")
    return Sweep(folder, config, runs, cities_table, keys, cities, names)


def _read_table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow's errors for a truncated or foreign file have no common base
        raise SweepError(f"{path}: cannot read it as a table ({' '.join(str(err).split())})") from None


def _read_config(path: Path) -> dict:
    """The sweep's resolved config, checked for the parts the report reads (so a bad file is named, not traced)."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise SweepError(f"{path}: cannot read it ({getattr(err, 'strerror', None) or err})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SweepError(f"{path}: not valid YAML{where} ({getattr(err, 'problem', None) or 'unreadable'})") from None
    if config is None:
        raise SweepError(f"{path}: empty; it should hold the sweep's resolved config (rerun the sweep to write it)")
    if not isinstance(config, dict):
        raise SweepError(f"{path}: not a mapping of settings but a {type(config).__name__}")
    scenario, experiment = config.get("scenario"), config.get("experiment")
    if not isinstance(scenario, dict) or not isinstance(scenario.get("cities"), dict) or not scenario["cities"]:
        raise SweepError(f"{path}: no scenario.cities; it is not a sweep's resolved config")
    for city, data in scenario["cities"].items():
        if not isinstance(data, dict):
            raise SweepError(f"{path}: scenario.cities.{city} is not a mapping of the city's settings")
    if not isinstance(experiment, dict) or not isinstance(experiment.get("parameters"), list):
        raise SweepError(f"{path}: no experiment.parameters; it is not a sweep's resolved config")
    for i, p in enumerate(experiment["parameters"]):
        if not isinstance(p, dict) or not isinstance(p.get("key"), str):
            raise SweepError(f"{path}: experiment.parameters.{i} has no key")
    if not isinstance(experiment.get("outcomes", []), list):
        raise SweepError(f"{path}: experiment.outcomes is not a list")
    return config


def fmt_value(value) -> str:
    """A lever value as text: numbers in short form (with thousands separators from 10,000, never 1.94803e+08),
    categories (a strategy kind) as they are."""
    if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, bool):
        return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:g}"
    return str(value)


# --------------------------------------------------------------------------- bands and grids


def outcome_bands(sweep: Sweep, outcome: str, key: str) -> pd.DataFrame:
    """Median and 90 % band of a per-city outcome at each value of one varied key, over all ok runs there.

    Columns: value, city, median, low, high, runs. Runs at the other varied
    keys' values are pooled (the figure says so). A numeric key with more than
    MAX_LEVELS distinct values (a sampled design, where every point has its
    own) is binned into BINS quantile bins, each at the median of its values:
    a band per exact value would hold one point's replicates and zig-zag.
    """
    ok = sweep.runs[sweep.runs.status == "ok"]
    at = ok[key]
    if pd.api.types.is_numeric_dtype(at) and at.nunique() > MAX_LEVELS:
        bins = pd.qcut(at, BINS, duplicates="drop")
        at = at.groupby(bins, observed=True).transform("median")
    rows = []
    for place in sweep.names:
        column = f"{outcome}.{place}"
        if column not in ok:
            continue
        for value, group in ok[column].groupby(at):
            x = group.dropna().to_numpy(dtype=float)
            if len(x) == 0:
                continue
            rows.append({"value": value, "city": place, "median": float(np.median(x)),
                         "low": float(np.quantile(x, BAND[0])), "high": float(np.quantile(x, BAND[1])), "runs": len(x)})
    return pd.DataFrame(rows, columns=["value", "city", "median", "low", "high", "runs"])


def months_to_capital(sweep: Sweep) -> pd.DataFrame:
    """Per design point and city: median months until the city became the (final) capital, among runs where it did."""
    ok = sweep.runs[sweep.runs.status == "ok"]
    rows = []
    for point, group in ok.groupby("point_id"):
        for city in sweep.cities:
            won = group[group.capital == city]["capital_step"].dropna()
            rows.append({"point_id": point, "city": city, "runs_won": len(won), "runs": len(group),
                         "median_months": float(won.median()) if len(won) else np.nan})
    return pd.DataFrame(rows)


def crossings(sweep: Sweep) -> pd.DataFrame:
    """Per design point: how many runs saw a challenger overtake the first leader (with the 95 % Wilson interval of
    that chance) and, among them, the median and 90 % band of the crossing month (from the start)."""
    ok = sweep.runs[sweep.runs.status == "ok"]
    rows = []
    for point, group in ok.groupby("point_id"):
        months = group["crossing_step"].dropna().to_numpy(dtype=float)
        low, high = wilson(len(months), len(group))
        band_low, band_high = band(months)
        rows.append({"point_id": point, "runs": len(group), "runs_crossed": len(months),
                     "P(crossing)": len(months) / len(group) if len(group) else np.nan,
                     "P(crossing) low": low, "P(crossing) high": high,
                     "median_month": float(np.median(months)) if len(months) else np.nan,
                     "month_low": band_low, "month_high": band_high})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- fiscal accounts


def fiscal_table(sweep: Sweep) -> pd.DataFrame:
    """Per design point and city, medians over runs: subsidy paid a year, outlay per job, per added job, return per yuan.

    From the city rows (cities.parquet) when the sweep kept every month:
    subsidy paid (yuan a year, over the run), outlay per job at the end, and
    return per yuan (tax plus tourism over the run, over the outlay). Outlay
    per added job (against each city's no-policy run, same seed) needs the
    outcome `marginal_cost_per_job` in the sweep; without it the column is
    empty and the report says how to get it.
    """
    ok = sweep.runs[sweep.runs.status == "ok"]
    out = []
    table = sweep.cities_table
    every_month = table is not None and len(table) and table.groupby(["run_id", "city"]).step.diff().dropna().eq(1).all()
    per_run = None
    if every_month:
        t = table[table.run_id.isin(ok.run_id) & table.city.isin(sweep.cities)]
        last = t.sort_values("step").groupby(["run_id", "city"]).last()
        sums = t.groupby(["run_id", "city"])[["subsidy_paid", "tax", "tourism"]].sum()
        months = t.groupby(["run_id", "city"]).step.count()
        per_run = pd.DataFrame({
            "subsidy_per_year": sums.subsidy_paid / months * 12.0,
            "outlay_per_job": last.outlay_total / last.employment.where(last.employment >= 1.0),
            "return_per_yuan": (sums.tax + sums.tourism) / last.outlay_total.where(last.outlay_total > 0),
        }).reset_index()
    for point, group in ok.groupby("point_id"):
        for city in sweep.cities:
            row = {"point_id": point, **{k: group[k].iloc[0] for k in sweep.keys}, "city": city, "runs": len(group)}
            if per_run is not None:
                mine = per_run[per_run.run_id.isin(group.run_id) & (per_run.city == city)]
                for column in ("subsidy_per_year", "outlay_per_job", "return_per_yuan"):
                    row[column] = float(mine[column].median()) if mine[column].notna().any() else np.nan
            column = f"marginal_cost_per_job.{city}"
            row["outlay_per_added_job"] = float(group[column].median()) if column in group and group[column].notna().any() else np.nan
            out.append(row)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- the summary in words


def summary_sentences(sweep: Sweep, probability: pd.DataFrame, level: float = LIKELY) -> list[str]:
    """Plain-language findings, every number read from `probability` (the capital_probability table)."""
    sentences = []
    described = probability.assign(point=[
        " and ".join(f"{sweep.label(k)} {fmt_value(row[k])}" for k in sweep.keys) for _, row in probability.iterrows()])
    for city in sweep.cities:
        name, column = sweep.names[city], f"P(capital={city})"
        best = described.loc[described[column].idxmax()]
        if best[column] == 0:
            sentences.append(f"{name} is the capital in none of the runs, at any design point.")
            continue
        runs = int(best["runs_ok"])
        chance = chance_text(int(round(best[column] * runs)), runs)
        if best[column] < 0.5:
            sentences.append(f"{name} is the capital in at most {chance} at any design point "
                             f"(with {best['point']}).")
            continue
        box = _winning_box(sweep, probability, city, level)
        if box is not None:
            sentences.append(box)
        else:
            sentences.append(f"{name} becomes the capital in {chance} at best, with {best['point']}.")
    none = probability["P(capital=none)"] if "P(capital=none)" in probability else pd.Series(dtype=float)
    undecided = int((none > 0.5).sum())
    if undecided:
        sentences.append(f"At {undecided} of {len(probability)} design points no city holds "
                         f"{sweep.threshold:.0%} of output in most runs.")
    return sentences


def _share_of_runs(p: float) -> str:
    return "every run" if p == 1 else f"at least {p:.0%} of runs"


def _winning_box(sweep: Sweep, probability: pd.DataFrame, city: str, level: float) -> str | None:
    """'X becomes the capital in at least 80 % of runs once its L reaches a [while Y's M stays at or below b]'.

    Stated only when it holds at every design point in the box, so the
    sentence is a fact about the table, not an extrapolation.
    """
    column, name = f"P(capital={city})", sweep.names[city]
    own = [k for k in sweep.keys if sweep.owner(k) == city]
    if len(sweep.keys) == 1:
        key = sweep.keys[0]
        values = sorted(probability[key].unique())
        for v in values:
            region = probability[probability[key] >= v]
            if (region[column] >= level).all():
                worst = region[column].min()
                return (f"{name} becomes the capital in {_share_of_runs(worst)} once {sweep.label(key)} "
                        f"reaches {fmt_value(v)}.")
        return None
    if not sweep.is_grid:
        return None
    x = own[0] if own else sweep.keys[0]
    y = next(k for k in sweep.keys if k != x)
    best = None  # (rival bound, own threshold, worst probability in the box)
    for y_bound in sorted(probability[y].unique()):
        rows = probability[probability[y] <= y_bound]
        for x_min in sorted(probability[x].unique()):
            box = rows[rows[x] >= x_min]
            if len(box) and (box[column] >= level).all():
                best = (y_bound, x_min, box[column].min())
                break
        else:
            break  # a larger rival bound cannot hold if this one does not
    if best is None:
        return None
    y_bound, x_min, worst = best
    own_label = f"its {sweep.label(x).split(chr(39) + 's ', 1)[-1]}" if own else sweep.label(x)
    return (f"{name} becomes the capital in {_share_of_runs(worst)} once {own_label} reaches "
            f"{fmt_value(x_min)} while {sweep.label(y)} stays at or below {fmt_value(y_bound)}.")
