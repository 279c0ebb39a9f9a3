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


COMMAND = Command("run", validate=to_params, task=run)


def main() -> None:
    """Entry point of `.venv/bin/drama run`."""
    run_command(COMMAND)


if __name__ == "__main__":
    main()
