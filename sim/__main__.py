"""`.venv/bin/drama run [overrides]`: run one scenario (Hydra app; `-m` for a multirun sweep).

Examples:
    .venv/bin/drama run
    .venv/bin/drama run scenario=symmetric steps=24 seed=1
    .venv/bin/drama run scenario.cities.zhengzhou.policy.reward_rate=0.2
    .venv/bin/drama run hydra.run.dir=/tmp/my_run
    .venv/bin/drama run --config-dir ~/my_scenarios scenario=mine   # a private library: ~/my_scenarios/scenario/mine.yaml
    .venv/bin/drama run -m seed=1,2,3
Bad input exits with code 2 and a one-line error naming the key.
"""

from __future__ import annotations

from pathlib import Path

from sim.shell.cli import Command, run_command
from sim.shell.config import to_params
from sim.params import ParamError
from sim.shell.runner import OUTPUT_FILES, config_text, format_outcome, run_to_folder


def run(cfg, out_dir: Path) -> None:
    """Run the scenario into its folder and print the outcome and where the files are."""
    params = to_params(cfg)
    check_same_run(params, out_dir)
    summary = run_to_folder(params, out_dir)
    print(format_outcome(summary))
    print(f"outputs: {out_dir}")
    for name in OUTPUT_FILES:
        if (out_dir / name).exists():
            print(f"  {out_dir / name}")


def check_same_run(params, out_dir: Path) -> None:
    """A folder holding a run is rerun only with the same settings (the same tables again); other settings would
    replace its results, so they are refused."""
    old = Path(out_dir) / "config.yaml"
    if old.exists() and old.read_text(encoding="utf-8") != config_text(params):
        raise ParamError("hydra.run.dir", f"{out_dir} holds a run with other settings; choose another folder "
                                          "(a rerun into a run's folder must use the same settings)")


def help_page() -> str:
    """`.venv/bin/drama run --help`."""
    from sim.params import PolicyParams, RunParams, StrategyKind
    from sim.shell.help import Help, allowed, scenarios

    lever = lambda name, unit=None: allowed(PolicyParams, name, unit)  # noqa: E731
    return Help(
        "run",
        "Run one scenario month by month and write its city table (cities.parquet), summary.json, a figure of the "
        "shares and the run's manifest in a new folder under results/runs/, then print who leads, each city's "
        "companies, jobs and outlay, and what each city's policy added against the same run without it.",
        options=[
            ("scenario=<name>", "the contest to run (listed below; default xian_vs_zhengzhou)"),
            ("seed=<n>", "the random seed, a whole number from 0 (default 42); the same seed gives the same tables"),
            ("steps=<months>", f"months to run, {allowed(RunParams, 'steps')} (default 60: 2024-01 to 2028-12)"),
            ("start=<YYYY-MM>", "the first month (default 2024-01)"),
            ("scenario.cities.<city>.policy.reward_rate=<x>", f"the reward per yuan of a drama's cost, "
                                                               f"{lever('reward_rate', '')} (0.2 is 20 %)"),
            ("scenario.cities.<city>.policy.annual_budget=<yuan>", f"the reward fund a year, {lever('annual_budget')}"),
            ("scenario.cities.<city>.policy.reward_cap=<yuan>", f"the most for one production, {lever('reward_cap')}"),
            ("scenario.cities.<city>.strategy.kind=<kind>", "how the city revises its policy: "
                                                            + ", ".join(k.value for k in StrategyKind)),
            ("shocks=[{at:<YYYY-MM>,city:<id>,lever:<name>,value:<x>}]", "a policy change from a month on "
                                                                            "(quote the argument in the shell)"),
            ("counterfactual=false", "skip the runs without each city's policy (faster; no 'added by policy')"),
            ("hydra.run.dir=<folder>", "write into this folder instead of a new one under results/runs/"),
            ("-m seed=1,2,3", "a quick multirun: one run per value"),
        ],
        lists=[("scenarios", scenarios)],
        examples=["scenario=national steps=120",
                  "scenario.cities.zhengzhou.policy.reward_rate=0.2 seed=7",
                  "scenario=subsidy_war 'shocks=[{at:2025-01,city:xian,lever:annual_budget,value:1e8}]'"],
        notes=["Any key of the configuration can be set the same way; bad input stops before anything is written, "
               "with one line naming the key and what is allowed. --hydra-help shows Hydra's own help."],
    ).text()


COMMAND = Command("run", validate=to_params, task=run, help=help_page)


def main() -> None:
    """Entry point of `.venv/bin/drama run`."""
    run_command(COMMAND)


if __name__ == "__main__":
    main()
