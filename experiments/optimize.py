"""`.venv/bin/drama optimize scenario=<name> city=<id> target=<probability>`: the cheapest winning policy.

Examples:
    .venv/bin/drama optimize city=zhengzhou target=0.8
    .venv/bin/drama optimize city=zhengzhou target=0.8 rivals=reactive trials=60
    .venv/bin/drama optimize city=zhengzhou hydra.run.dir=results/optimize/mine   # rerun = resume
Writes optimize.json (the policy, its outlay and chance, the frontier), trials.csv, pareto.png and the
Optuna journal into its run folder. Bad input exits with code 2 and a one-line error naming the key.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf, SCMode

from experiments.schemas import evaluator_fields, evaluator_settings, schema_from
from experiments.batch.design import ParameterSpec
from experiments.batch.evaluators import make_evaluator
from experiments.analysis.intervals import chance_text
from experiments.optimisation.search import OptimizeParams, check, optimize
from sim.shell.cli import Command, run_command, store_schema
from sim.shell.record import command_record
from sim.shell.show import lever, money
from sim.shell.config import schema_of, to_params
from sim.params import RunParams

# From OptimizeParams' own fields; `city_id` is the config name of `city` (`city=` on the command line is an alias).
OptimizeSchema = schema_from(OptimizeParams, rename={"city": "city_id"}, extra=tuple(evaluator_fields()),
                             bases=(schema_of(RunParams),))


OUTPUTS = ("optimize.json", "holdout.json", "trials.csv", "pareto.png")


def register() -> None:
    store_schema("optimize_schema", OptimizeSchema)


def to_optimize(cfg: DictConfig) -> OptimizeParams:
    """Validated settings from a composed config."""
    levers = OmegaConf.to_container(cfg.levers, resolve=True, structured_config_mode=SCMode.DICT)
    # `values` is kept so that a categorical lever is refused by name rather than silently searched as a range.
    specs = tuple(ParameterSpec(p["key"], values=tuple(p.get("values") or ()), low=p["low"], high=p["high"])
                  for p in levers)
    evaluator_settings(cfg)  # workers and address checked as for a sweep
    return OptimizeParams(city=cfg.city_id, levers=specs, target=cfg.target, trials=cfg.trials,
                          replicates=cfg.replicates, rivals=cfg.rivals, root_seed=cfg.root_seed, holdout=cfg.holdout,
                          posterior=cfg.posterior or "")


def validate(cfg: DictConfig) -> None:
    """The checks made before Hydra creates a folder: run keys, settings, city and levers."""
    check(to_optimize(cfg), to_params(cfg))


def task(cfg: DictConfig, out: Path) -> None:
    """Run (or resume) the study in the run folder and print the answer."""
    opt, base, run = to_optimize(cfg), to_params(cfg), evaluator_settings(cfg)
    config = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    with command_record(out, config, OUTPUTS), \
            make_evaluator(run.backend, check(opt, base), run.workers, run.address, run.path) as evaluator:
        record = optimize(opt, base, out, evaluator, run.progress)
    policy = ", ".join(f"{k.rsplit('.', 1)[-1]} {lever(k, v)}" for k, v in record["policy"].items())
    tested = record["out_of_sample"]
    verdict = "reaches" if record["reached"] else "does NOT reach"
    print(f"{opt.city} {verdict} {opt.target:.0%} with {policy}: capital in "
          f"{chance_text(tested['capital'], tested['runs'])} on fresh seeds "
          f"({record['p_capital_search']:.0%} of the search's {opt.replicates}), outlay "
          f"{money(record['outlay'])} over the run (rivals {opt.rivals}; {record['trials']} trials)")
    print(f"outputs: {out}")


def help_page() -> str:
    """`.venv/bin/drama optimize --help`."""
    from sim.shell.help import Help, scenarios

    return Help(
        "optimize",
        "Search the cheapest policy with which a city ends as the capital in a target share of runs: Optuna tries "
        "policies (by default the city's reward rate and annual fund) on common seeds, keeps the front of outlay "
        "against the chance of winning, and checks the chosen policy again on fresh seeds it was not found on. "
        "It writes optimize.json and a figure of the front in a new folder under results/optimize/.",
        options=[
            ("city=<id>", "whose policy is searched (default zhengzhou)"),
            ("target=<share>", "the share of runs in which it must be the capital, 0 to 1 (default 0.8)"),
            ("rivals=fixed|reactive", "the other cities keep their policy (default) or answer it"),
            ("trials=<n>", "policies tried (default 40)"),
            ("replicates=<n>", "seeds per policy (default 10)"),
            ("holdout=<n>", "fresh seeds the chosen policy is checked on (default 200)"),
            ("posterior=<name>", "each seed draws its parameter set from that published posterior"),
            ("scenario=<name>", "the contest (default xian_vs_zhengzhou)"),
            ("hydra.run.dir=<folder>", "a folder of your own; rerunning into it resumes"),
        ],
        lists=[("scenarios", scenarios)],
        examples=["city=zhengzhou target=0.8", "city=zhengzhou target=0.8 rivals=reactive trials=60",
                  "city=zhengzhou trials=10 replicates=4 holdout=20"],
        notes=["--hydra-help shows Hydra's own help."],
    ).text()


COMMAND = Command("optimize", validate=validate, task=task, register=register, aliases=(("city", "city_id"),),
                  help=help_page)


def main() -> None:
    """Entry point of `.venv/bin/drama optimize`."""
    run_command(COMMAND)


if __name__ == "__main__":
    main()
