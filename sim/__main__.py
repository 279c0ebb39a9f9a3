"""`python -m sim [overrides]`: run one scenario (Hydra app; `-m` for a multirun sweep).

Examples:
    python -m sim
    python -m sim scenario=symmetric steps=24 seed=1
    python -m sim scenario.cities.zhengzhou.policy.reward_rate=0.2
    python -m sim hydra.run.dir=/tmp/my_run
    python -m sim --config-dir ~/my_scenarios scenario=mine   # a private library: ~/my_scenarios/scenario/mine.yaml
    python -m sim -m seed=1,2,3
Bad input exits with code 2 and a one-line error naming the key.
"""

from __future__ import annotations

from pathlib import Path

from sim.cli import Command, run_command
from sim.config import to_params
from sim.runner import OUTPUT_FILES, format_outcome, run_to_folder


def run(cfg, out_dir: Path) -> None:
    """Run the scenario into Hydra's folder and print the outcome and where the files are."""
    summary = run_to_folder(to_params(cfg), out_dir)
    print(format_outcome(summary))
    print(f"outputs: {out_dir}")
    for name in OUTPUT_FILES:
        if (out_dir / name).exists():
            print(f"  {out_dir / name}")


COMMAND = Command("run", validate=to_params, task=run)


def main() -> None:
    """Entry point of `python -m sim`."""
    run_command(COMMAND)


if __name__ == "__main__":
    main()
