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

import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.config import (CONFIG_DIR, check_overrides, fail, quiet_library_logs, register_resolvers, register_schemas,
                        to_params)
from sim.params import ParamError
from sim.runner import OUTPUT_FILES, format_outcome, run_to_folder

@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="run")
def app(cfg: DictConfig) -> None:
    """Hydra task: validate, run, write the run folder, print the outcome."""
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    quiet_library_logs()
    try:
        params = to_params(cfg)
    except ParamError as err:
        shutil.rmtree(out_dir, ignore_errors=True)  # leave no half-made run folder behind
        fail(str(err))
    summary = run_to_folder(params, out_dir)
    print(format_outcome(summary))
    print(f"outputs: {out_dir}")
    for name in OUTPUT_FILES:
        if (out_dir / name).exists():
            print(f"  {out_dir / name}")


def main() -> None:
    """Entry point of `python -m sim`."""
    register_schemas()
    register_resolvers()
    check_overrides(sys.argv[1:], "run", to_params)
    app()


if __name__ == "__main__":
    main()
