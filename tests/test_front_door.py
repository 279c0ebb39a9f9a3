"""The one front door (sim/shell/cli.py): every hole a new user found, as a test that failed before the fix."""

import json
import os
import subprocess
import sys

import pytest

from conftest import PYTHON, ROOT, lock_held_elsewhere


def cli(*args, module="sim", env=None, cwd=None, timeout=300):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([PYTHON, "-m", module, *args], cwd=cwd or ROOT, capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def refused(result, *words):
    """Exit 2, one line on stderr starting with 'error:' and naming every word."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture
def results(tmp_path):
    """An empty results folder for the commands; nothing may appear in it for refused input."""
    folder = tmp_path / "results"
    return folder, {"DRAMA_RESULTS_DIR": str(folder)}


def nothing_written(folder):
    return not folder.exists() or not any(folder.rglob("*"))


@pytest.mark.parametrize("module", ["sim", "experiments.sweep", "experiments.calibrate"])
def test_an_unknown_key_added_with_plus_is_refused(results, module):
    folder, env = results
    refused(cli("+foo=1", module=module, env=env), "foo", "unknown key")
    assert nothing_written(folder)


def test_an_unknown_nested_key_added_with_plus_is_refused(capsys):
    line = front(capsys, "+scenario.bar=2")
    assert "scenario.bar" in line and "unknown key" in line


def front(capsys, *argv):
    """The front door's checks in this process (what `run_command` does before Hydra): the error line."""
    from sim.shell.cli import check_command_line, check_overrides
    from sim.shell.config import register_resolvers, register_schemas, to_params

    register_schemas()
    register_resolvers()
    with pytest.raises(SystemExit) as stop:
        check_overrides(list(argv), "run", to_params, check_command_line(list(argv)))
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.parametrize("arg, words", [
    ("steps", ("'steps'", "key=value")),
    ("scenario=西安", ("scenario", "quote it")),
    ("scenario=1", ("scenario", "config group", "xian_vs_zhengzhou")),
    ("hydra.run.dir=", ("hydra.run.dir", "empty")),
    ("seed=-1", ("seed", "[0, 9223372036854775807]")),
    ("--config-path=/tmp", ("--config-path", "--config-dir")),
    ("--config-dir=/no/such/folder", ("--config-dir", "not a folder")),
])
def test_hydra_s_own_errors_become_one_line(capsys, arg, words):
    line = front(capsys, arg, "steps=2")
    assert all(w in line for w in words), line


def test_a_refused_override_leaves_no_folder(results):
    folder, env = results
    refused(cli("scenario=1", env=env), "scenario")
    assert nothing_written(folder)


def test_a_run_folder_that_is_a_file_is_refused(results, tmp_path):
    folder, env = results
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    refused(cli(f"hydra.run.dir={a_file}", env=env), "hydra.run.dir", "is a file")
    assert a_file.read_text() == "x" and nothing_written(folder)


@pytest.mark.parametrize("key", ["scenario.cities.zhengzhou.policy.annual_budget", "scenario.cities.xian.wage",
                                 "scenario.cities.xian.talent", "scenario.market.premium_weight",
                                 "scenario.cities.zhengzhou.policy.talent_programme", "scenario.firms.overhead"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_non_finite_numbers_are_refused(capsys, key, value):
    assert key in front(capsys, f"{key}={value}")


def test_a_private_config_library_is_honoured(results, tmp_path):
    folder, env = results
    library = tmp_path / "library"
    (library / "scenario").mkdir(parents=True)
    (library / "scenario" / "mine.yaml").write_text(
        "defaults:\n  - xian_vs_zhengzhou\n  - _self_\nname: mine\ndescription: a private scenario\n")
    for form in ([f"--config-dir={library}"], ["--config-dir", str(library)], ["-cd", str(library)]):
        run = cli(*form, "scenario=mine", "steps=2", "counterfactual=false", env=env)
        assert run.returncode == 0, run.stderr
        assert "_mine_s42" in run.stdout
    assert len(list((folder / "runs").glob("*/*_mine_s42"))) == 3


def test_a_private_library_with_bad_yaml_or_a_built_in_name_is_refused(results, tmp_path):
    folder, env = results
    library = tmp_path / "library"
    (library / "scenario").mkdir(parents=True)
    bad = library / "scenario" / "broken.yaml"
    bad.write_text("name: broken\ndescription: a: b\n")
    refused(cli(f"--config-dir={library}", "scenario=broken", env=env), str(bad), "not valid YAML", "line 2")
    bad.unlink()
    (library / "scenario" / "national.yaml").write_text("name: national\n")
    refused(cli(f"--config-dir={library}", env=env), "national.yaml", "rename")
    assert nothing_written(folder)


def test_a_closed_pipe_ends_quietly_and_the_run_folder_is_complete(results):
    folder, env = results
    command = f"{PYTHON} -m sim steps=3 counterfactual=false | head -1"
    run = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=300)
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr, run.stderr
    assert run.returncode == 0, run.stderr
    (manifest,) = (folder / "runs").glob("*/*/manifest.json")
    assert json.loads(manifest.read_text())["status"] == "complete"


def test_resume_with_nothing_to_resume_says_so(results):
    folder, env = results
    run = cli("experiment=smoke", "steps=2", "resume=true", "progress=false", module="experiments.sweep", env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith("resume=true: no unfinished sweep of 'smoke'")


def test_a_refused_calibration_writes_nothing(results, tmp_path):
    folder, env = results
    target = tmp_path / "never" / "here"
    refused(cli("scenario=symmetric", f"hydra.run.dir={target}", module="experiments.calibrate", env=env),
            "no published fact covers 'symmetric'")
    assert not (tmp_path / "never").exists() and nothing_written(folder)


def test_a_second_sweep_into_a_busy_folder_is_refused_at_once(results, tmp_path):
    from sim.shell.folders import FolderLock

    folder, env = results
    busy = tmp_path / "busy"
    with FolderLock(busy):  # this test process is the first sweep
        run = cli("experiment=smoke", "steps=2", f"hydra.run.dir={busy}", "progress=false",
                  module="experiments.sweep", env=env)
        line = refused(run, str(busy), "in use by another process", f"pid {os.getpid()}")
        assert "since" in line
        assert not (busy / "design.parquet").exists()
    # The lock is free again (and a lock left by a killed process is free too: the OS drops it).
    run = cli("experiment=smoke", "steps=2", f"hydra.run.dir={busy}", "progress=false", module="experiments.sweep",
              env=env)
    assert run.returncode == 0, run.stderr


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    from sim.shell.folders import FolderLock

    folder = tmp_path / "stale"
    with lock_held_elsewhere(folder) as holder:
        with pytest.raises(Exception, match="in use by another process"):
            FolderLock(folder).__enter__()
        holder.kill()  # as kill -9 would: the lock file stays, the operating system drops the lock
        holder.wait()
    with FolderLock(folder):
        assert json.loads((folder / ".lock").read_text())["pid"] == os.getpid()


@pytest.mark.parametrize("key", ["experiment.parameters.0.values=[0.1,inf]", "experiment.parameters.0.values=[nan]"])
def test_a_sweep_refuses_non_finite_design_values(results, key):
    folder, env = results
    refused(cli("experiment=smoke", key, module="experiments.sweep", env=env), "experiment.parameters[0]", "finite")
    assert nothing_written(folder)
