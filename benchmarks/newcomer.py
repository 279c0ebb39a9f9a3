"""What a newcomer waits for and what the project takes on disk, measured on a fresh clone.

    .venv/bin/python -m benchmarks.newcomer                 # measure; write results/bench/newcomer.json
    .venv/bin/python -m benchmarks.newcomer test=true       # also time `make test` (about 8 minutes more)
    .venv/bin/python -m benchmarks.newcomer long=true       # also time `drama study` (about 3 minutes more)
    .venv/bin/python -m benchmarks.newcomer publish=true    # also rewrite docs/newcomer.json and the README's figures
    .venv/bin/python -m benchmarks.newcomer publish=latest  # publish the last measurement (results/bench/) as it is
    .venv/bin/python -m benchmarks.newcomer quote=true      # only re-quote the long commands' times from their records

In a temporary clone of the repository (its committed state) it times
`make run` from nothing (finding Python, making the venv, installing, the
first run), the same run again, the smoke sweep and, with test=true,
`make test`, and measures the venv on disk. `render` turns the record into
the README's sentence between its markers; tests/test_docs.py checks the
README holds the render of the published record, so the README quotes
what was measured, never a number typed in.

The long commands the README and docs/engineering.md name carry their time
on the line that names them (`QUOTES`), each from the record that measured
it: this one's (`make test`, and `drama study` with long=true) or a published
calibration's own wall time (docs/calibration/*.json). Publishing rewrites
those lines too, and the test checks them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "docs" / "newcomer.json"
LATEST = ROOT / "results" / "bench" / "newcomer.json"
BEGIN, END = "<!-- newcomer:begin (.venv/bin/python -m benchmarks.newcomer publish=true) -->", "<!-- newcomer:end -->"
# Carried over from the published record when a new measurement did not take them (test=false, long=false), each
# with the revision it was measured at.
OPTIONAL = {"make_test_s": "make_test_revision", "study_s": "study_revision", "study_commands": "study_revision"}


@dataclass(frozen=True)
class Quote:
    """A line of `file` (the one holding `anchor`) that quotes how long a command takes, from `record`'s `key`."""

    file: str
    anchor: str
    record: str
    key: str


QUOTES = (
    Quote("README.md", "by `.venv/bin/drama study publish=true` (", "docs/newcomer.json", "study_s"),
    Quote("README.md", ".venv/bin/drama calibrate scenario=national            #", "docs/calibration/national.json",
          "wall_time_s"),
    Quote("README.md", ".venv/bin/drama calibrate scenario=national method=posterior   #",
          "docs/calibration/national_posterior.json", "wall_time_s"),
    Quote("docs/engineering.md", "make test    #", "docs/newcomer.json", "make_test_s"),
    # The game's lines are the study's own commands: the time is that command's in the measured study.
    Quote("README.md", ".venv/bin/drama game posterior=national   ", "docs/newcomer.json",
          "study_commands/.venv/bin/drama game scenario=xian_vs_zhengzhou posterior=national "
          "hydra.run.dir=results/studies/zhengzhou_vs_xian/game"),
    Quote("README.md", ".venv/bin/drama game scenario=national players=[xian,zhengzhou,hengdian] posterior=national",
          "docs/newcomer.json", "study_commands/.venv/bin/drama game scenario=national "
          "players=[xian,zhengzhou,hengdian] posterior=national "
          "hydra.run.dir=results/studies/zhengzhou_vs_xian/game_national"),
)
# What a quote looks like on its line (the first match is the one rewritten).
PHRASE = re.compile(r"(?:about )?[0-9.]+ (?:s|minutes)(?: on \d+ cores)?")


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


def measure(with_test: bool = False, with_long: bool = False) -> dict:
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
            record["make_test_s"], record["make_test_revision"] = _timed("make test", clone), revision
        if with_long:
            record["study_s"], record["study_revision"] = _timed(".venv/bin/drama study", clone), revision
            from experiments.study import TIMINGS, WORK

            record["study_commands"] = json.loads((clone / WORK / TIMINGS).read_text(encoding="utf-8"))
        shutil.rmtree(clone / ".venv", ignore_errors=True)
    return {**record, "machine": machine_info(), "git_revision": revision,
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} minutes"


def render(record: dict) -> str:
    """The README's sentence on set-up time, disk use and test time, from a measured record."""
    machine = record["machine"]
    test = ""
    if "make_test_s" in record:
        at = record.get("make_test_revision", record["git_revision"])
        test = f", and `make test` {_minutes(record['make_test_s'])}" + (
            f" (at revision {at})" if at != record["git_revision"] else "")
    return (f"On a fresh clone the first `make run` took {_minutes(record['first_make_run_s'])} (finding Python, "
            f"making `.venv/` and installing into it, then the run), a second one {_minutes(record['make_run_s'])}"
            f"{test}; the smoke sweep takes {_minutes(record['smoke_sweep_s'])}. `.venv/` holds "
            f"{record['venv_gb']:.1f} GB. Measured {record['measured_at'][:10]} on a {machine['cores']}-core "
            f"{machine['cpu']} at revision {record['git_revision']}.\n")


def quoted(quote: Quote) -> str:
    """The time `quote` should show, from its record: "3.1 minutes on 2 cores"."""
    record = json.loads((ROOT / quote.record).read_text(encoding="utf-8"))
    value = record
    for part in quote.key.split("/", 1):  # "study_commands/<command>": one command of the measured study
        if not isinstance(value, dict) or part not in value:
            raise SystemExit(f"error: {quote.record} has no {quote.key!r}: measure it "
                             "(.venv/bin/python -m benchmarks.newcomer test=true long=true publish=true)")
        value = value[part]
    cores = record.get("cores") or record.get("machine", {}).get("cores")
    return _minutes(value) + (f" on {cores} cores" if cores else "")


def quote_line(quote: Quote, text: str) -> str:
    """The line of `text` that holds the quote (an error when there is none, or it has no time to rewrite)."""
    lines = [line for line in text.splitlines() if quote.anchor in line]
    if len(lines) != 1 or not PHRASE.search(lines[0]):
        raise SystemExit(f"error: {quote.file} needs exactly one line holding {quote.anchor!r} with a time "
                         f"('3 minutes on 2 cores'); found {len(lines)}")
    return lines[0]


def requote() -> list[str]:
    """Rewrite every quoted time from its record; the files changed."""
    from sim.shell.atomic import write_text

    changed = []
    for name in dict.fromkeys(q.file for q in QUOTES):
        path = ROOT / name
        text = new = path.read_text(encoding="utf-8")
        for quote in (q for q in QUOTES if q.file == name):
            line = quote_line(quote, new)
            new = new.replace(line, PHRASE.sub(quoted(quote), line, count=1))
        if new != text:
            write_text(path, new)
            changed.append(name)
    return changed


def publish(record: dict) -> None:
    """Write docs/newcomer.json, the README's sentence between its markers and the quoted times (tracked files:
    only when asked). Figures this measurement did not take (OPTIONAL) are kept from the published record."""
    from sim.shell.atomic import write_text

    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"error: README.md has no {BEGIN} ... {END} markers")
    if RECORD.exists():
        old = json.loads(RECORD.read_text(encoding="utf-8"))
        for key, revision in OPTIONAL.items():
            if key in old and key not in record:
                record[key], record[revision] = old[key], old.get(revision, old["git_revision"])
    head, rest = text.split(BEGIN, 1)
    write_text(RECORD, json.dumps(record, indent=2) + "\n")
    write_text(readme, head + BEGIN + "\n" + render(record) + END + rest.split(END, 1)[1])
    requote()


def main(argv: list[str]) -> None:
    allowed = ("publish=true", "publish=false", "publish=latest", "test=true", "test=false", "long=true", "long=false",
               "quote=true")
    unknown = [a for a in argv if a not in allowed]
    if unknown:
        raise SystemExit(f"error: {unknown[0]!r}: not an option; allowed test=true, long=true, publish=true, "
                         "publish=latest, quote=true")
    if "quote=true" in argv:
        changed = requote()
        print("re-quoted: " + (", ".join(changed) if changed else "nothing changed"))
        return
    if "publish=latest" in argv:
        if not LATEST.exists():
            raise SystemExit(f"error: no measurement at {LATEST.relative_to(ROOT)}: run the benchmark first")
        publish(json.loads(LATEST.read_text(encoding="utf-8")))
        print(f"published {LATEST.relative_to(ROOT)} (tracked files rewritten): {RECORD.relative_to(ROOT)}, "
              + ", ".join(dict.fromkeys(["README.md", *(q.file for q in QUOTES)])))
        return
    record = measure(with_test="test=true" in argv, with_long="long=true" in argv)
    from sim.shell.atomic import write_text

    LATEST.parent.mkdir(parents=True, exist_ok=True)  # results/bench/ exists only once something wrote there
    write_text(LATEST, json.dumps(record, indent=2) + "\n")
    print(render(record), end="")
    if "publish=true" in argv:
        publish(record)
        print(f"published (tracked files rewritten): {RECORD.relative_to(ROOT)}, README.md")
    else:
        print(f"written: {LATEST.relative_to(ROOT)}  (add publish=true to rewrite docs/newcomer.json and README.md)")


if __name__ == "__main__":
    main(sys.argv[1:])
