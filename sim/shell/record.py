"""The resolved config and the manifest of a batch command's folder (the optimiser, the game)."""

from __future__ import annotations

import json
import platform
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import yaml

from sim.shell.atomic import write_text


@contextmanager
def command_record(out_dir: Path, config: dict, files: tuple[str, ...]):
    """A batch command's config.yaml and manifest.json in its folder: the resolved config, then a manifest that
    says `running` and, once the work inside ends, `complete`, `interrupted` (Ctrl-C, kill -TERM) or `failed`
    with the error. `files`: the outputs the command writes (listed in the manifest when present)."""
    from sim.shell import runner

    started, clock = datetime.now(timezone.utc), time.perf_counter()
    out_dir = Path(out_dir)
    write_text(out_dir / "config.yaml", yaml.safe_dump(config, sort_keys=False, allow_unicode=True))

    def manifest(status: str, error: str | None = None) -> None:
        data = {"status": status, "started": started.isoformat(timespec="seconds"),
                "wall_time_s": round(time.perf_counter() - clock, 3), "git_revision": runner.git_revision(),
                "command": sys.argv, "python": platform.python_version(), "platform": platform.platform(),
                "versions": runner.package_versions(),
                "files": [f for f in ("config.yaml", *files) if (out_dir / f).exists()] + ["manifest.json"]}
        if error:
            data["error"] = error
        write_text(out_dir / "manifest.json", json.dumps(data, indent=2))

    manifest("running")
    try:
        yield
    except KeyboardInterrupt:
        manifest("interrupted")
        raise
    except BaseException as err:
        manifest("failed", f"{type(err).__name__}: {err}")
        raise
    manifest("complete")
