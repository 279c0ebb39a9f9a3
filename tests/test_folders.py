"""Nothing of the user's is ever deleted or overwritten: every command against a stranger's folder, another
command's folder, a busy folder, and the tracked files it may publish only when asked."""

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import PYTHON, ROOT, lock_held_elsewhere
from test_front_door import cli, refused

pytestmark = pytest.mark.slow

SMALL = {
    "sim": ["scenario=symmetric", "steps=3"],
    "experiments.sweep": ["experiment=smoke", "steps=3", "experiment.replicates=1", "workers=1", "progress=false"],
    "experiments.optimize": ["scenario=symmetric", "city=east", "steps=3", "trials=2", "replicates=1", "workers=1",
                             "progress=false"],
    "experiments.calibrate": ["scenario=recovery", "steps=3", "calibration.rounds=1", "calibration.candidates=2",
                              "calibration.replicates=1", "calibration.validation_replicates=2", "workers=1",
                              "progress=false"],
}


def snapshot(folder: Path) -> dict:
    """Every file under `folder` (hidden ones too) with its bytes' hash and mode: any change shows."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir",
                                         p.stat().st_mode)
            for p in sorted(folder.rglob("*"))}


def strangers_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    (folder / "data").mkdir(parents=True)
    (folder / "thesis.tex").write_text("\\chapter{Three years of work}\n")
    (folder / "data" / "survey.csv").write_text("city,firms\nxian,600\n")
    (folder / "manifest.json").write_text('{"my": "own manifest"}\n')  # a name the commands also write
    (folder / ".hidden").write_text("x")
    return folder


@pytest.mark.parametrize("module", list(SMALL))
def test_a_strangers_folder_survives_every_command(tmp_path, module):
    folder = strangers_folder(tmp_path)
    before = snapshot(folder)
    line = refused(cli(*SMALL[module], f"hydra.run.dir={folder}", module=module), "hydra.run.dir",
                   "did not write", "thesis.tex")
    assert "nothing of yours is overwritten" in line
    assert snapshot(folder) == before


@pytest.mark.parametrize("module", ["experiments.sweep", "experiments.calibrate"])
def test_resume_true_never_deletes_the_folder_it_was_given(tmp_path, module):
    """The attack: an unfinished run of the same settings elsewhere, and resume=true into a folder of one's own."""
    results = tmp_path / "results"
    env = {"DRAMA_RESULTS_DIR": str(results)}
    first = cli(*SMALL[module], "resume=true", module=module, env=env)  # a finished one does not count as unfinished
    assert first.returncode == 0, first.stderr
    for manifest in results.rglob("manifest.json"):  # make it look stopped
        data = json.loads(manifest.read_text())
        manifest.write_text(json.dumps({**data, "status": "interrupted"}))
    for record in results.rglob("calibration.json"):
        record.unlink()
    folder = strangers_folder(tmp_path)
    before = snapshot(folder)
    refused(cli(*SMALL[module], "resume=true", f"hydra.run.dir={folder}", module=module, env=env),
            "did not write")
    assert snapshot(folder) == before


def test_resume_true_continues_elsewhere_and_leaves_no_empty_folder_of_its_own(tmp_path):
    results = tmp_path / "results"
    env = {"DRAMA_RESULTS_DIR": str(results)}
    assert cli(*SMALL["experiments.sweep"], module="experiments.sweep", env=env).returncode == 0
    (sweep,) = [p.parent for p in results.rglob("design.parquet")]
    manifest = json.loads((sweep / "manifest.json").read_text())
    (sweep / "manifest.json").write_text(json.dumps({**manifest, "status": "interrupted"}))
    again = cli(*SMALL["experiments.sweep"], "resume=true", module="experiments.sweep", env=env)
    assert again.returncode == 0 and f"outputs: {sweep}" in again.stdout, again.stderr
    assert [p.parent for p in results.rglob("design.parquet")] == [sweep]
    assert not [p for p in results.rglob("*") if p.is_dir() and not any(p.iterdir())]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished folder of each command (made once for the module)."""
    base = tmp_path_factory.mktemp("finished")
    out = {}
    for module in SMALL:
        out[module] = base / module.rsplit(".", 1)[-1]
        done = cli(*SMALL[module], f"hydra.run.dir={out[module]}", module=module)
        assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("owner", list(SMALL))
@pytest.mark.parametrize("intruder", list(SMALL))
def test_a_command_never_writes_into_another_commands_folder(finished, owner, intruder):
    if owner == intruder:
        pytest.skip("a command's own folder is its to resume (tested with each command)")
    folder = finished[owner]
    before = snapshot(folder)
    refused(cli(*SMALL[intruder], f"hydra.run.dir={folder}", module=intruder), "hydra.run.dir", "holds the outputs")
    assert snapshot(folder) == before


def test_a_run_is_rerun_into_its_folder_only_with_the_same_settings(finished):
    folder = finished["sim"]
    before = snapshot(folder)
    refused(cli("scenario=symmetric", "steps=4", f"hydra.run.dir={folder}"), "other settings")
    assert snapshot(folder) == before
    again = cli(*SMALL["sim"], f"hydra.run.dir={folder}")
    assert again.returncode == 0, again.stderr


def test_a_second_process_refused_by_the_lock_writes_nothing(tmp_path):
    folder = tmp_path / "busy"
    with lock_held_elsewhere(folder, claim_as="sweep"):
        before = snapshot(folder)
        refused(cli(*SMALL["experiments.sweep"], f"hydra.run.dir={folder}", module="experiments.sweep"),
                "in use by another process")
        assert snapshot(folder) == before


def tracked_outputs() -> dict:
    paths = [*(ROOT / "configs" / "calibration").glob("*"), *(ROOT / "docs").rglob("*")]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def test_calibrate_and_study_change_no_tracked_file_unless_asked(tmp_path):
    before = tracked_outputs()
    done = cli(*SMALL["experiments.calibrate"], f"hydra.run.dir={tmp_path / 'cal'}", module="experiments.calibrate")
    assert done.returncode == 0, done.stderr
    assert "not published" in done.stdout and "publish=true" in done.stdout
    study = subprocess.run([PYTHON, "-m", "experiments.study", "--render"], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert study.returncode == 0 and "up to date" in study.stdout, study.stdout + study.stderr
    assert tracked_outputs() == before


def test_publish_copies_whole_files_and_lists_them(tmp_path, monkeypatch):
    """publish=true, pointed at a copy of the project's configs/ and docs/ (never the real ones in a test)."""
    import experiments.calibrate as command

    fake = tmp_path / "project"
    monkeypatch.setattr(command, "PROJECT_ROOT", fake)
    monkeypatch.setattr(command, "CONFIG_DIR", fake / "configs")
    monkeypatch.setattr(command.calibration_docs, "write", lambda docs: docs / "calibration.md")
    run = tmp_path / "run"
    run.mkdir()
    (run / "fit.png").write_bytes(b"\x89PNG fit")
    (run / "spread.png").write_bytes(b"\x89PNG spread")
    (run / "recovery.yaml").write_text("scenario: {}\n")
    written = command.publish({"fitted": {"k": 1}, "scenario": "recovery"}, run, "recovery")
    assert (fake / "configs" / "calibration" / "recovery.yaml").read_text() == "scenario: {}\n"
    assert (fake / "docs" / "img" / "calibration_recovery.png").read_bytes() == b"\x89PNG fit"
    assert not list(fake.rglob("*.tmp"))
    assert {p.name for p in written} >= {"recovery.yaml", "calibration_recovery.png", "recovery.json"}


# --------------------------------------------------------------------------- one line instead of a traceback


@pytest.mark.parametrize("args, words", [
    (["hydra.nonsense=1"], ["hydra.nonsense", "hydra.run.dir"]),
    (["=5"], ["no key before '='"]),
    (["+city@scenario.cities.xian=zhengzhou"], ["copy of 'zhengzhou'"]),
    (["hydra.run.dir=/proc/x"], ["hydra.run.dir", "cannot make a folder"]),
])
def test_what_hydra_would_print_as_a_traceback_is_one_line(tmp_path, args, words):
    results = tmp_path / "results"
    line = refused(cli("steps=2", *args, env={"DRAMA_RESULTS_DIR": str(results)}), *words)
    assert "Traceback" not in line and not results.exists()  # refused before any folder was made


def test_two_config_dirs_are_refused(tmp_path):
    a, b, results = tmp_path / "a", tmp_path / "b", tmp_path / "results"
    a.mkdir()
    b.mkdir()
    refused(cli("--config-dir", str(a), "--config-dir", str(b), "steps=2", env={"DRAMA_RESULTS_DIR": str(results)}),
            "given twice")
    assert not results.exists()


def test_a_run_folder_that_is_a_broken_link_is_refused(tmp_path):
    link = tmp_path / "gone"
    os.symlink(tmp_path / "nowhere", link)
    refused(cli("steps=2", f"hydra.run.dir={link}"), "symbolic link to nothing")
    assert not (tmp_path / "nowhere").exists()


def test_a_results_dir_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("x")
    refused(cli("steps=2", env={"DRAMA_RESULTS_DIR": str(blocker)}), "DRAMA_RESULTS_DIR", "is a file")
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("module", ["experiments.sweep", "experiments.optimize", "experiments.calibrate"])
def test_a_dask_address_that_is_not_one_is_refused_before_anything_starts(tmp_path, module):
    refused(cli(*SMALL[module], "backend=dask", "address=notaurl", f"hydra.run.dir={tmp_path / 'x'}", module=module),
            "address", "tcp://host:port")
    assert not (tmp_path / "x").exists()


def test_a_dask_address_where_nothing_answers_is_one_line(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli(*SMALL["experiments.sweep"], "backend=dask", f"address=tcp://127.0.0.1:{port}",
                 f"hydra.run.dir={tmp_path / 'x'}", module="experiments.sweep")
    refused(result, "address", "no Dask scheduler answered")
    assert not (tmp_path / "x" / "runs.parquet").exists() and not list((tmp_path / "x").glob("parts/*"))


def test_a_long_run_says_how_long_it_will_take(capsys, tmp_path, monkeypatch):
    import sim.shell.runner
    from sim import load_config

    monkeypatch.setattr(sim.shell.runner, "LONG_RUN_S", 0.0)  # every run counts as long: the line itself is tested
    sim.shell.runner.run_to_folder(load_config("symmetric", ["steps=4", "counterfactual=false"]), tmp_path / "r",
                             progress=False)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(lines) == 1 and "4 months of symmetric will take about" in lines[0] and "estimate" in lines[0]


def test_make_serve_refuses_a_port_that_is_not_one():
    result = subprocess.run(["make", "-s", "serve", "PORT=abc"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode != 0 and "error: PORT: 'abc' is not a port number; allowed 1 to 65535" in result.stderr


@pytest.mark.parametrize("args, words", [
    (["calibration.root_seed=-1"], ["calibration.root_seed", "[0, 4294967295]"]),
    (["calibration.parameters=[{key: scenario.market.producer_share, low: 0.1, high: 5}]"],
     ["calibration.parameters (scenario.market.producer_share)", "allowed [0, 1]"]),
])
def test_calibrate_refuses_bad_settings_before_any_folder(tmp_path, args, words):
    refused(cli("scenario=recovery", *args, f"hydra.run.dir={tmp_path / 'x'}", module="experiments.calibrate"),
            *words)
    assert not (tmp_path / "x").exists()


def test_calibrate_says_which_common_keys_the_scenario_fixes(tmp_path):
    args = [a.replace("scenario=recovery", "scenario=zhejiang") for a in SMALL["experiments.calibrate"]]
    done = cli(*args, f"hydra.run.dir={tmp_path / 'z'}", module="experiments.calibrate")
    assert done.returncode == 0, done.stderr
    assert "note: calibration.parameters (scenario.firms.entry_rate) is not fitted: zhejiang fixes it" in done.stdout
