"""What a newcomer waits for and what the project takes on disk, measured on a fresh clone.

    .venv/bin/python -m benchmarks.newcomer                 # measure; write results/bench/newcomer.json
    .venv/bin/python -m benchmarks.newcomer test=true       # also time `make test` (about 8 minutes more)
    .venv/bin/python -m benchmarks.newcomer publish=true    # also rewrite docs/newcomer.json and the README's figures

In a temporary clone of the repository (its committed state) it times
`make run` from nothing (finding Python, making the venv, installing, the
first run), the same run again, the smoke sweep and, with test=true,
`make test`, and measures the venv on disk. `render` turns the record into
the README's sentence between its markers; tests/test_docs.py checks the
README holds the render of the published record, so the README quotes
what was measured, never a number typed in.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "docs" / "newcomer.json"
LATEST = ROOT / "results" / "bench" / "newcomer.json"
BEGIN, END = "<!-- newcomer:begin (.venv/bin/python -m benchmarks.newcomer publish=true) -->", "<!-- newcomer:end -->"


def _timed(command: str, cwd: Path) -> float:
    """Seconds `command` takes in a plain bash in `cwd` (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(command, shell=True, executable="/bin/bash", cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: `{command}` failed in {cwd} (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-2000:]}")
    return time.perf_counter() - start


def _size_gb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e9


def measure(with_test: bool = False) -> dict:
    """Clone, then time what the README's first steps take."""
    from benchmarks.suite import machine_info

    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "drama-capital"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True,
                                  text=True, check=True).stdout.strip()
        record = {"first_make_run_s": _timed("make run", clone), "make_run_s": _timed("make run", clone),
                  "venv_gb": _size_gb(clone / ".venv"),
                  "smoke_sweep_s": _timed(".venv/bin/drama sweep experiment=smoke progress=false", clone)}
        if with_test:
            record["make_test_s"] = _timed("make test", clone)
        shutil.rmtree(clone / ".venv", ignore_errors=True)
    return {**record, "machine": machine_info(), "git_revision": revision,
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} minutes"


def render(record: dict) -> str:
    """The README's sentence on set-up time, disk use and test time, from a measured record."""
    machine = record["machine"]
    test = (f", and `make test` {_minutes(record['make_test_s'])}" if "make_test_s" in record else "")
    return (f"On a fresh clone the first `make run` took {_minutes(record['first_make_run_s'])} (finding Python, "
            f"making `.venv/` and installing into it, then the run), a second one {_minutes(record['make_run_s'])}"
            f"{test}; the smoke sweep takes {_minutes(record['smoke_sweep_s'])}. `.venv/` holds "
            f"{record['venv_gb']:.1f} GB. Measured {record['measured_at'][:10]} on a {machine['cores']}-core "
            f"{machine['cpu']} at revision {record['git_revision']}.\n")


def publish(record: dict) -> None:
    """Write docs/newcomer.json and the README's sentence between its markers (tracked files: only when asked)."""
    from sim.shell.atomic import write_text

    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"error: README.md has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    write_text(RECORD, json.dumps(record, indent=2) + "\n")
    write_text(readme, head + BEGIN + "\n" + render(record) + END + rest.split(END, 1)[1])


def main(argv: list[str]) -> None:
    unknown = [a for a in argv if a not in ("publish=true", "publish=false", "test=true", "test=false")]
    if unknown:
        raise SystemExit(f"error: {unknown[0]!r}: not an option; allowed test=true, publish=true")
    record = measure(with_test="test=true" in argv)
    from sim.shell.atomic import write_text

    write_text(LATEST, json.dumps(record, indent=2) + "\n")
    print(render(record), end="")
    if "publish=true" in argv:
        publish(record)
        print(f"published (tracked files rewritten): {RECORD.relative_to(ROOT)}, README.md")
    else:
        print(f"written: {LATEST.relative_to(ROOT)}  (add publish=true to rewrite docs/newcomer.json and README.md)")


if __name__ == "__main__":
    main(sys.argv[1:])
