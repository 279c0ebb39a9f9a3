"""Calibration as a posterior: an ensemble of parameter sets compatible with the published facts.

Method: approximate Bayesian computation by sequential Monte Carlo
(ABC-SMC, pyabc). The priors are uniform on each fitted parameter's
plausible range (log-uniform for a log-scale one) and on each starting size
the sources leave open (a range read from the source's words, e.g. "600+").
The distance of a run from the facts is its largest normalised miss over the
scenario's fitted facts (experiments/calibration/facts.py, Fact.error): below 1 exactly
when every fitted fact holds in that run. Each generation's tolerance is the
previous generation's median distance (pyabc's default), and the search stops
when it reaches `min_epsilon` (1: every accepted run reproduces every fitted
fact), after `generations`, or after `max_simulations` runs.

The runs go through the sweep engine's evaluators (a local process pool or
Dask): `EvaluatorSampler` is a pyabc sampler that proposes a batch in this
process, runs the batch in parallel and then lets pyabc accept and weight
each particle in proposal order. Every proposal k draws its numbers from
its own seed (SeedSequence([root_seed, generation, k])), so the posterior does not depend
on which worker finished first, nor on how many runs a batch holds:
the first `population` accepted proposals of a generation, in proposal order,
are the same whatever the batches were.

A posterior is a weighted table of parameter sets (`Posterior`), saved as
`posterior.csv` in the calibration's run folder and, with publish=true, as
configs/calibration/<scenario>.posterior.csv, where `load_posterior(name)`
finds it. `Posterior.draws(seeds)` gives each replicate seed one parameter set
(drawn by weight from that seed alone), so replicate r of every design point
of a sweep meets the same parameters: the comparison between policies stays
paired while the answer spreads over what the facts leave loose.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.batch.design import ParameterSpec
from experiments.batch.runs import RunTask
from experiments.calibration.facts import Fact, fitted_for
from sim.params import ParamError
from sim.shell.config import CONFIG_DIR

POSTERIOR_SUFFIX = ".posterior.csv"  # configs/calibration/<scenario>.posterior.csv
WEIGHT = "weight"
# The per-city keys a starting size scales with the companies: the city files size talent pools and studio slots
# for their companies plus a spare share, so a city started larger keeps the same spare share.
SCALED_WITH_FIRMS = ("talent", "studio_capacity")


@dataclass(frozen=True)
class StartingSize:
    """A city's starting companies, which the sources leave open within [low, high] (and why)."""

    city: str
    low: int
    high: int
    reason: str = ""

    @property
    def key(self) -> str:
        return f"scenario.cities.{self.city}.firms"


@dataclass(frozen=True)
class PosteriorParams:
    """How hard the ABC-SMC search works."""

    population: int = 200  # parameter sets kept per generation (the posterior's size)
    generations: int = 8  # most SMC generations
    min_epsilon: float = 1.0  # stop once the tolerance reaches this largest normalised miss (1: every fitted fact holds)
    max_simulations: int = 8000  # most model runs in all
    root_seed: int = 11
    check_draws: int = 100  # posterior predictive check: parameter sets drawn (with fresh seeds) and run once each

    def __post_init__(self) -> None:
        checks = [
            ("calibration.posterior.population", 20 <= self.population <= 100_000, "must be in [20, 100000]"),
            ("calibration.posterior.generations", 1 <= self.generations <= 100, "must be in [1, 100]"),
            ("calibration.posterior.min_epsilon", 0 < self.min_epsilon <= 1e6, "must be in (0, 1000000]"),
            ("calibration.posterior.max_simulations", self.population <= self.max_simulations <= 10_000_000,
             f"must be in [population ({self.population}), 10000000]"),
            ("calibration.posterior.root_seed", 0 <= self.root_seed < 2**32, "must be in [0, 4294967295]"),
            ("calibration.posterior.check_draws", 1 <= self.check_draws <= 100_000, "must be in [1, 100000]"),
        ]
        for key, ok, message in checks:
            if not ok:
                raise ParamError(key, f"{getattr(self, key.rsplit('.', 1)[1])} {message}")


# --------------------------------------------------------------------------- the posterior as data


@dataclass(frozen=True)
class Posterior:
    """A weighted ensemble of parameter sets: one row per set, one column per dotted config key."""

    scenario: str
    table: pd.DataFrame  # the keys' columns and `weight` (summing to 1)
    source: str = ""  # where it was read from

    @property
    def keys(self) -> list[str]:
        return [c for c in self.table.columns if c != WEIGHT]

    def __len__(self) -> int:
        return len(self.table)

    def fingerprint(self) -> str:
        """Hash of the sets and weights: a sweep drawing from another posterior is another sweep."""
        return hashlib.sha256(self.table.to_csv(index=False, float_format="%.10g").encode()).hexdigest()[:16]

    def index_for(self, seed: int) -> int:
        """The set replicate `seed` meets: drawn by weight from a generator of that seed alone."""
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x9057]))
        return int(rng.choice(len(self.table), p=self.table[WEIGHT].to_numpy()))

    def values(self, index: int, base: Mapping) -> dict[str, float | int]:
        """Set `index` as run overrides on `base` (a RunParams dict), starting sizes scaled as in `expand`."""
        row = self.table.iloc[index]
        return expand({k: row[k] for k in self.keys}, base)

    def draws(self, seeds: Iterable[int], base: Mapping) -> list[dict[str, float | int]]:
        """One parameter set per seed (the same seed always meets the same set)."""
        return [self.values(self.index_for(s), base) for s in seeds]

    def weighted_quantiles(self, q: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Each key's weighted quantiles: one row per key."""
        w = self.table[WEIGHT].to_numpy()
        rows = {}
        for key in self.keys:
            values = self.table[key].to_numpy(dtype=float)
            order = np.argsort(values)
            cum = np.cumsum(w[order]) - 0.5 * w[order]
            rows[key] = np.interp(q, cum / cum[-1] if cum[-1] else cum, values[order])
        return pd.DataFrame(rows, index=[f"q{round(100 * x)}" for x in q]).T


def expand(values: Mapping[str, float], base: Mapping) -> dict[str, float | int]:
    """Run overrides for a parameter set: a city's starting companies carry its talent pool and studios along.

    `base` is a RunParams dict (sim.params.to_dict). A city started with k
    times its configured companies gets k times its talent and studio slots,
    so its spare capacity per company, and hence its pull on founders and
    movers, stays what its city file says. Keys of cities `base` does not
    have are left out.
    """
    out: dict[str, float | int] = {}
    for key, value in values.items():
        parts = key.split(".")
        if len(parts) >= 3 and parts[:2] == ["scenario", "cities"] and parts[2] not in base["scenario"]["cities"]:
            continue  # a city the run's scenario does not have (a national posterior used in a regional scenario)
        if len(parts) == 4 and parts[:2] == ["scenario", "cities"] and parts[3] == "firms":
            city = base["scenario"]["cities"][parts[2]]
            firms = int(round(float(value)))
            ratio = firms / max(int(city["firms"]), 1)
            out[key] = firms
            for name in SCALED_WITH_FIRMS:
                out[f"scenario.cities.{parts[2]}.{name}"] = float(city[name]) * ratio
        else:
            out[key] = float(value)
    return out


def posterior_path(scenario: str) -> Path:
    """Where a published posterior lives: configs/calibration/<scenario>.posterior.csv."""
    return CONFIG_DIR / "calibration" / f"{scenario}{POSTERIOR_SUFFIX}"


def available() -> list[str]:
    """The scenarios with a published posterior."""
    return sorted(p.name.removesuffix(POSTERIOR_SUFFIX) for p in (CONFIG_DIR / "calibration").glob(f"*{POSTERIOR_SUFFIX}"))


def load_posterior(name: str | Path) -> Posterior:
    """A published posterior by scenario name (or a posterior.csv path); one-line error naming what exists."""
    path = Path(name) if str(name).endswith(".csv") else posterior_path(str(name))
    if not path.exists():
        have = ", ".join(available()) or "none yet (.venv/bin/drama calibrate scenario=<name> "\
                                            "method=posterior publish=true makes one)"
        raise ParamError("posterior", f"no posterior named {str(name)!r}; published: {have}")
    table = pd.read_csv(path, comment="#")
    if WEIGHT not in table.columns or len(table) == 0:
        raise ParamError("posterior", f"{path} is not a posterior table (needs rows and a {WEIGHT!r} column)")
    weights = table[WEIGHT].to_numpy(dtype=float)
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and weights.sum() > 0):
        raise ParamError("posterior", f"{path}: weights must be non-negative and finite, not all zero")
    table[WEIGHT] = weights / weights.sum()
    scenario = path.name.removesuffix(POSTERIOR_SUFFIX).removesuffix(".csv")
    return Posterior(scenario=scenario, table=table, source=str(path))


def posterior_csv(posterior: Posterior, header: Sequence[str] = ()) -> str:
    """The posterior as CSV text, with `#` comment lines on top (the provenance)."""
    lines = [f"# {h}" for h in header]
    return "\n".join(lines + [posterior.table.to_csv(index=False, float_format="%.8g").rstrip("\n")]) + "\n"


# --------------------------------------------------------------------------- distance and priors


def distance_to_facts(facts: Sequence[Fact]):
    """A run's distance from the facts: its largest normalised miss (below 1 iff every fact holds in it)."""

    def distance(x: Mapping, x_0: Mapping) -> float:  # noqa: ARG001 - the targets live in the facts themselves
        misses = [abs(f.error(float(x[f.id]))) for f in facts]
        return float(max(misses)) if all(math.isfinite(m) for m in misses) else math.inf

    return distance


def priors(parameters: Sequence[ParameterSpec], sizes: Sequence[StartingSize]):
    """pyabc priors: uniform on each range (log-uniform for a log-scale parameter), one per key."""
    import pyabc

    rvs = {}
    for p in parameters:
        rvs[p.key] = (pyabc.RV("loguniform", float(p.low), float(p.high)) if p.log
                      else pyabc.RV("uniform", float(p.low), float(p.high) - float(p.low)))
    for s in sizes:  # companies are whole: the model rounds; the prior is uniform on [low - 0.5, high + 0.5)
        rvs[s.key] = pyabc.RV("uniform", s.low - 0.5, s.high - s.low + 1.0)
    return pyabc.Distribution(**rvs)


@dataclass
class Simulated:
    """Every run of the search: generation, proposal number, seed, parameters, facts, status."""

    rows: list[dict] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


# --------------------------------------------------------------------------- pyabc through the sweep engine


class _Deferred(Exception):
    """Raised by FactsModel when asked for a run it has not been given yet: carries the proposed parameters."""

    def __init__(self, parameters: dict):
        super().__init__("deferred")
        self.parameters = parameters


def facts_model():
    """A pyabc model whose runs happen elsewhere: `stats` is set to a finished run's facts before pyabc asks."""
    import pyabc

    class FactsModel(pyabc.Model):
        def __init__(self):
            super().__init__(name="facts")
            self.stats: dict | None = None

        def sample(self, pars):
            if self.stats is None:
                raise _Deferred(dict(pars))
            return self.stats

    return FactsModel()


def evaluator_sampler(evaluator, base: Mapping, model, root_seed: int, fact_ids: Sequence[str], record: Simulated,
                      progress: bool = True):
    """A pyabc sampler that runs each batch of proposals through a sweep-engine evaluator (see the module doc)."""
    from pyabc.sampler import Sampler
    from tqdm.auto import tqdm

    class EvaluatorSampler(Sampler):
        def __init__(self):
            super().__init__()
            self.proposed = 0  # proposals so far in this generation (numbered afresh in each)
            self.rate = 1.0  # the last generation's acceptance rate: sizes the next batches
            self.generation = -1

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                    ana_vars=None):  # noqa: ARG002
            sample = self._create_empty_sample()
            runs = 0
            self.generation += 1
            self.proposed = 0
            while sample.n_accepted < n and runs < max_eval:
                wanted = n - sample.n_accepted
                size = wanted if all_accepted else int(math.ceil(wanted / max(self.rate, 0.01) * 1.2))
                size = max(min(size, 20 * n), 2 * getattr(evaluator, "workers", 1) or 2)
                if math.isfinite(max_eval):
                    size = max(1, min(size, int(max_eval - runs)))
                numbers = list(range(self.proposed, self.proposed + size))
                self.proposed += size
                proposals = [self._propose(simulate_one, k) for k in numbers]
                stats = self._simulate(numbers, proposals, f"generation {self.generation}: {sample.n_accepted} of "
                                                           f"{n} sets accepted; runs")
                for k, theta, s in zip(numbers, proposals, stats):
                    runs += 1
                    if s is None:
                        continue  # a failed run is counted and never accepted
                    sample.append(self._replay(simulate_one, k, s))
                    if sample.n_accepted >= n:
                        break
            self.nr_evaluations_ = runs
            self.rate = max(sample.n_accepted, 1) / max(runs, 1)
            if sample.n_accepted < n:
                sample.ok = False
            return sample

        def _seed(self, k: int) -> int:
            """Proposal k of this generation's own seed: batches of any size propose the same sequence."""
            return int(np.random.SeedSequence([root_seed, self.generation + 1, k]).generate_state(1)[0])

        def _propose(self, simulate_one, k: int) -> dict:
            np.random.seed(self._seed(k))  # pyabc's proposals draw from NumPy's global generator
            model.stats = None
            try:
                simulate_one()
            except _Deferred as deferred:
                return deferred.parameters
            raise RuntimeError("pyabc accepted a particle without asking the model for its run")

        def _replay(self, simulate_one, k: int, stats: dict):
            np.random.seed(self._seed(k))  # the same numbers again: the same proposal, now with its run
            model.stats = stats
            try:
                return simulate_one()
            finally:
                model.stats = None

        def _simulate(self, numbers: list[int], proposals: list[dict], what: str) -> list[dict | None]:
            tasks = [RunTask(k, self._seed(k) >> 1, expand(theta, base)) for k, theta in zip(numbers, proposals)]
            finished = tqdm(evaluator.map(tasks, ("facts",), 0), total=len(tasks), desc=what, disable=not progress,
                            leave=False)
            results = {r.run_id: r for r in finished}
            out = []
            for k, theta in zip(numbers, proposals):
                row = results[k].row
                ok = row.get("status") == "ok"
                stats = {i: float(row[f"fact.{i}"]) for i in fact_ids} if ok else None
                record.rows.append({"generation": self.generation, "proposal": k, "seed": self._seed(k) >> 1,
                                    **theta, **({f"fact.{i}": v for i, v in stats.items()} if stats else {}),
                                    "status": row.get("status"), "error": row.get("error")})
                out.append(stats)
            return out

    return EvaluatorSampler()


@dataclass
class PosteriorResult:
    """What the ABC-SMC search found."""

    scenario: str
    posterior: Posterior
    generations: pd.DataFrame  # per generation: epsilon, accepted particles, runs, acceptance rate
    simulations: pd.DataFrame  # every run of the search
    check: pd.DataFrame  # the posterior predictive check: one run per drawn set, fresh seeds, every fact
    wall_time_s: float


def fit_posterior(parameters: Sequence[ParameterSpec], sizes: Sequence[StartingSize], post: PosteriorParams,
                  base: Mapping, scenario: str, folder: Path, evaluator, progress: bool = True) -> PosteriorResult:
    """Run ABC-SMC into `folder` (pyabc's database abc.db there), then the posterior predictive check."""
    import logging
    import time

    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)  # pyabc's per-generation log: the progress bar says it
    t0 = time.perf_counter()
    facts = fitted_for(scenario)
    if not facts:
        raise ParamError("scenario", f"{scenario} has no fitted fact: a posterior needs facts to condition on")
    fact_ids = [f.id for f in facts]
    model = facts_model()
    record = Simulated()
    np.random.seed(post.root_seed)  # pyabc fits its transition kernels with NumPy's global generator
    sampler = evaluator_sampler(evaluator, base, model, post.root_seed, fact_ids, record, progress)
    abc = pyabc.ABCSMC(model, priors(parameters, sizes), distance_to_facts(facts), population_size=post.population,
                       sampler=sampler)
    db = folder / "abc.db"
    if db.exists():
        db.unlink()  # a search left by a stopped run of this very command in its own folder: start it again
    abc.new(f"sqlite:///{db}", {f.id: f.target for f in facts})
    history = abc.run(minimum_epsilon=post.min_epsilon, max_nr_populations=post.generations,
                      max_total_nr_simulations=post.max_simulations)
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    keys = [p.key for p in parameters] + [s.key for s in sizes]
    table = frame.reset_index(drop=True)[keys].copy()
    table[WEIGHT] = np.asarray(weights, dtype=float) / float(np.sum(weights))
    posterior = Posterior(scenario, table, source=str(folder / "posterior.csv"))
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0].rename(columns={"t": "generation", "samples": "runs", "particles": "accepted"})
    pops["acceptance_rate"] = pops.accepted / pops.runs
    check = predictive_check(posterior, post, base, facts, evaluator)
    return PosteriorResult(scenario, posterior, pops[["generation", "epsilon", "accepted", "runs", "acceptance_rate"]]
                           .reset_index(drop=True), record.table(), check, time.perf_counter() - t0)


def predictive_check(posterior: Posterior, post: PosteriorParams, base: Mapping, facts: Sequence[Fact],
                     evaluator) -> pd.DataFrame:
    """Draw `check_draws` sets by weight, run each once on a fresh seed, measure every fact (fitted and held out)."""
    from experiments.calibration.facts import facts_for

    seeds = np.random.SeedSequence([post.root_seed, 0xC4EC]).generate_state(post.check_draws, dtype=np.uint64) >> 1
    indices = [posterior.index_for(int(s)) for s in seeds]
    tasks = [RunTask(i, int(s), posterior.values(j, base)) for i, (s, j) in enumerate(zip(seeds, indices))]
    results = {r.run_id: r.row for r in evaluator.map(tasks, ("facts",), 0)}
    rows = []
    for i, (s, j) in enumerate(zip(seeds, indices)):
        row = results[i]
        rows.append({"draw": i, "set": j, "seed": int(s), "status": row.get("status"), "error": row.get("error"),
                     **{f"fact.{f.id}": row.get(f"fact.{f.id}", np.nan) for f in facts_for(posterior.scenario)}})
    del facts  # the check measures every fact the scenario covers, fitted and held out
    return pd.DataFrame(rows)


def summary(result: PosteriorResult, parameters: Sequence[ParameterSpec], sizes: Sequence[StartingSize]) -> dict:
    """The record published beside docs/calibration.md: marginals, pairs, what pins what, the check."""
    from experiments.calibration.facts import facts_for

    post = result.posterior
    q = post.weighted_quantiles()
    bounds = {p.key: (float(p.low), float(p.high), bool(p.log)) for p in parameters}
    bounds.update({s.key: (float(s.low), float(s.high), False) for s in sizes})
    marginals = []
    for key in post.keys:
        lo, hi, log = bounds[key]
        f = np.log if log else (lambda v: v)
        width = (f(q.loc[key, "q95"]) - f(q.loc[key, "q5"])) / max(f(hi) - f(lo), 1e-12)
        marginals.append({"key": key, "prior_low": lo, "prior_high": hi, "log": log, "q5": float(q.loc[key, "q5"]),
                          "median": float(q.loc[key, "q50"]), "q95": float(q.loc[key, "q95"]),
                          "share_of_prior": float(width)})
    pairs = weighted_correlations(post)
    pins = fact_sensitivity(result.simulations, post.keys, facts_for(result.scenario))
    ok = result.check[result.check.status == "ok"]
    check = []
    for f in facts_for(result.scenario):
        values = ok[f"fact.{f.id}"].astype(float).dropna()
        check.append({"id": f.id, "role": f.role(result.scenario), "target": f.target, "tolerance": f.tolerance,
                      "mean": float(values.mean()), "p5": float(values.quantile(0.05)),
                      "p95": float(values.quantile(0.95)),
                      "share_holding": float(np.mean([f.holds(v) for v in values])) if len(values) else float("nan"),
                      "runs": int(len(values))})
    return {"scenario": result.scenario, "sets": len(post), "keys": post.keys, "marginals": marginals,
            "pairs": pairs, "pins": pins, "generations": result.generations.to_dict(orient="records"),
            "runs": int(len(result.simulations)), "check": check, "wall_time_s": round(result.wall_time_s, 1),
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "effective_sets": float(1.0 / np.sum(post.table[WEIGHT].to_numpy() ** 2))}


def weighted_correlations(post: Posterior) -> list[dict]:
    """Each pair of keys' weighted correlation over the posterior: a strong one is a trade-off the facts allow."""
    w = post.table[WEIGHT].to_numpy()
    x = post.table[post.keys].to_numpy(dtype=float)
    mean = w @ x
    cov = (x - mean).T @ ((x - mean) * w[:, None])
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    corr = cov / np.outer(sd, sd)
    out = []
    for i in range(len(post.keys)):
        for j in range(i + 1, len(post.keys)):
            out.append({"a": post.keys[i], "b": post.keys[j], "correlation": float(corr[i, j])})
    return sorted(out, key=lambda r: -abs(r["correlation"]))


def fact_sensitivity(simulations: pd.DataFrame, keys: Sequence[str], facts: Sequence[Fact]) -> list[dict]:
    """Which facts pin what: Spearman correlation of each key with each fact over the first generation's runs.

    The first generation is drawn from the priors, so a strong correlation
    says the fact moves with the parameter across its whole plausible range.
    """
    first = simulations[(simulations.generation == simulations.generation.min()) & (simulations.status == "ok")]
    out = []
    for key in keys:
        for f in facts:
            column = f"fact.{f.id}"
            if column not in first or first[column].nunique() < 2 or first[key].nunique() < 2:
                continue
            rho = float(first[key].rank().corr(first[column].rank()))
            out.append({"key": key, "fact": f.id, "spearman": rho})
    return out


def settings_json(parameters: Sequence[ParameterSpec], sizes: Sequence[StartingSize], post: PosteriorParams) -> str:
    """The search's settings as canonical JSON (part of the folder's fingerprint)."""
    from dataclasses import asdict

    return json.dumps({"parameters": [asdict(p) for p in parameters], "sizes": [asdict(s) for s in sizes],
                       "posterior": asdict(post)}, sort_keys=True, default=str)
