"""Every command block of the README, typed as shown in a plain shell in the project folder, succeeds.

The shell has no venv on its PATH and none activated: the README's one way
to call a command (`make ...`, `.venv/bin/drama ...`) must work as written.
A command whose comment offers "a quick look: <overrides>" runs with those
overrides added (the long ones: calibrations, the study-sized sweeps); its
outputs go to a temporary results folder (DRAMA_RESULTS_DIR). HOME is a
temporary folder holding the private config library the README's
`--config-dir ~/my_configs` example names.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
NOT_RUN = {"make test": "the suite itself, which runs this test: running it here would recurse"}


def readme_commands() -> list[str]:
    """Each line of the README's ```sh blocks that is a command (comments kept: they hold the quick settings)."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def split(line: str) -> tuple[str, str]:
    """(the command as typed, the overrides its comment offers for a quick look, or '')."""
    parts = re.split(r"\s+#\s?", line, maxsplit=1)
    command, comment = parts[0], parts[1] if len(parts) > 1 else ""
    quick = re.search(r"a quick look: (.*)$", comment)
    return command, quick.group(1).strip() if quick else ""


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    """The environment of a plain shell: no venv on PATH, HOME with the README's private library, results apart."""
    home = tmp_path_factory.mktemp("home")
    library = home / "my_configs"
    (library / "scenario").mkdir(parents=True)
    (library / "experiment").mkdir()
    mine = (ROOT / "configs" / "scenario" / "symmetric.yaml").read_text(encoding="utf-8")
    (library / "scenario" / "mine.yaml").write_text(mine.replace("name: symmetric", "name: mine"), encoding="utf-8")
    study = (ROOT / "configs" / "experiment" / "smoke.yaml").read_text(encoding="utf-8")
    (library / "experiment" / "my_study.yaml").write_text(study.replace("name: smoke", "name: my_study"),
                                                         encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(PATH="/usr/local/bin:/usr/bin:/bin", HOME=str(home),
               DRAMA_RESULTS_DIR=str(tmp_path_factory.mktemp("results")))
    return env


def test_the_readme_has_the_commands_a_newcomer_needs():
    commands = [split(line)[0] for line in readme_commands()]
    assert commands[:2] == ["make run", "make test"]
    for needed in (".venv/bin/drama run", ".venv/bin/drama sweep", ".venv/bin/drama calibrate", "make serve"):
        assert any(c.startswith(needed) for c in commands), needed
    assert not any(re.match(r"(\S*/)?python3?(\.\d+)? ", c) for c in commands)  # one way: never a bare python


@pytest.mark.parametrize("line", readme_commands())
def test_each_readme_command_runs_as_written_from_a_plain_shell(line, shell):
    command, quick = split(line)
    if command in NOT_RUN:
        pytest.skip(NOT_RUN[command])
    if command.startswith("make serve"):
        serve_answers(command, shell)
        return
    full = f"{command} {quick}".strip()
    done = subprocess.run(full, shell=True, executable="/bin/bash", cwd=ROOT, env=shell, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"{full}\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
    assert "Traceback" not in done.stderr, done.stderr[-1500:]


def serve_answers(command: str, env: dict) -> None:
    """`make serve` starts the cockpit: the page answers on its port, and Ctrl-C (SIGINT) stops it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(f"{command} PORT={port}", shell=True, executable="/bin/bash", cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    assert page.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()[-2000:]
                assert time.monotonic() < deadline, "make serve did not answer within 3 minutes"
                time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = proc.stdout.read()
    assert "UserWarning" not in output and "Traceback" not in output, output[-2000:]


def test_the_quick_settings_only_shorten_commands_the_readme_calls_long():
    """A quick look is offered where the README says a command takes minutes or is study-sized, nowhere else."""
    for line in readme_commands():
        command, quick = split(line)
        if quick:
            assert re.search(r"minutes|replicates, \d+ months|every answer|a total number of runs|likewise|"
                             r"nothing to fit", line), line


def test_no_command_needs_a_tool_the_project_does_not_install():
    for line in readme_commands():
        program = split(line)[0].split()[0]
        assert program in ("make", ".venv/bin/drama"), program
        if program == "make":
            assert shutil.which("make"), "make is missing"
