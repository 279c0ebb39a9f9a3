"""`python -m sim [overrides]`: run one scenario (Hydra app; `-m` for a multirun sweep).

Examples:
    python -m sim
    python -m sim scenario=symmetric steps=24 seed=1
    python -m sim scenario.cities.zhengzhou.policy.reward_rate=0.2
    python -m sim hydra.run.dir=/tmp/my_run
    python -m sim -m seed=1,2,3
Bad input exits with code 2 and a one-line error naming the key.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.config import CONFIG_DIR, compose_run, describe_error, register_resolvers, register_schemas, to_params
from sim.params import ParamError
from sim.runner import OUTPUT_FILES, format_outcome, run_to_folder

# Flags after which Hydra does not run the task, or runs many jobs; the
# up-front check of a single run's overrides does not apply to them.
_NOT_A_SINGLE_RUN = {"-m", "--multirun", "-h", "--help", "--hydra-help", "-c", "--cfg", "-i", "--info",
                     "-p", "--package", "-sc", "--shell-completion", "--version"}


def check_overrides(argv: list[str]) -> None:
    """Compose and validate a single run's config before Hydra creates any folder; exit 2 on bad input."""
    if _NOT_A_SINGLE_RUN.intersection(argv):
        return
    overrides = [a for a in argv if not a.startswith("-") and not a.lstrip("+~").startswith("hydra")]
    try:
        to_params(compose_run(overrides))
    except Exception as err:  # noqa: BLE001 - every composition/validation error becomes one line
        fail(describe_error(err))


def fail(message: str) -> None:
    """Print a one-line error and exit with code 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="run")
def app(cfg: DictConfig) -> None:
    """Hydra task: validate, run, write the run folder, print the outcome."""
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        params = to_params(cfg)
    except ParamError as err:
        shutil.rmtree(out_dir, ignore_errors=True)  # leave no half-made run folder behind
        fail(str(err))
    summary = run_to_folder(params, out_dir)
    print(format_outcome(summary))
    print(f"outputs: {out_dir}")
    for name in OUTPUT_FILES:
        print(f"  {out_dir / name}")


def main() -> None:
    """Entry point of `python -m sim`."""
    register_schemas()
    register_resolvers()
    check_overrides(sys.argv[1:])
    app()


if __name__ == "__main__":
    main()
