"""The report on bad input, a full disk, a folder it cannot write and a user's own files: one line, nothing half-made.

Each test copies a small real sweep (made once per module, as tests/test_report.py makes its own)
and runs the report's command line in this process, so a simulated failure can be planted with
monkeypatch.
"""

import errno
import os
import shutil
import subprocess
import sys

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import sim.shell.atomic
from experiments.analysis.report import MARKER, main, plot_capital_probability
from sim.shell.atomic import save_figure, write_csv

from conftest import ROOT

pytestmark = pytest.mark.slow


def _sweep(folder, *overrides):
    done = subprocess.run([sys.executable, "-m", "experiments.sweep", "experiment=smoke", "experiment.replicates=1",
                           "steps=13", "progress=false", *overrides, f"hydra.run.dir={folder}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweeps")
    good = _sweep(base / "good")
    reported = base / "reported"
    shutil.copytree(good, reported)
    assert _report(reported) == (0, "")
    return {"good": good, "reported": reported, "all_failed": _all_failed(good, base / "all_failed"),
            "no_outcomes": _sweep(base / "no_outcomes", "experiment.outcomes=[]")}


def _all_failed(good, folder):
    """`good` as a sweep whose every run failed would be: runs.parquet as the store records failed runs, no city rows.

    The sweep refuses a bad lever value before it starts, so runs fail only
    by crashing (a worker that dies, an error inside the model); that cannot
    be arranged cheaply, so the table is written as such a sweep leaves it.
    """
    shutil.copytree(good, folder)
    runs = pd.read_parquet(folder / "runs.parquet")
    keep = ["run_id", "point_id", "replicate", "seed", *[c for c in runs if c.startswith("scenario.")]]
    errors = [f"RuntimeError: run {i} crashed\n  at step 3" for i in runs.run_id]  # two lines, as a traceback's tail
    failed = runs[keep].assign(status="failed", error=errors)
    failed.to_parquet(folder / "runs.parquet", index=False)
    (folder / "cities.parquet").unlink()
    return folder


@pytest.fixture
def fresh(sweeps, tmp_path):
    """A fresh copy of one of the module's sweeps, for a test to write into."""
    return lambda name: shutil.copytree(sweeps[name], tmp_path / name)


def _report(folder, *args, capsys=None) -> tuple[int, str]:
    """Run `.venv/bin/drama report` here; its exit code and what it printed on stderr."""
    try:
        main([str(folder), *args])
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err if capsys else ""


def _files(folder) -> dict[str, bytes]:
    """Every file under `folder` (relative name -> content): what a refused or failed report must leave as it was."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1 and err.startswith("error: "), err
    return err.strip()


# --------------------------------------------------------------------------- 1. the sweep's config.yaml


@pytest.mark.parametrize("text", ["", "   \n", "scenario: [xian\n  steps: 3\n", "- a list\n", "steps: 13\n",
                                  "scenario: {cities: {}}\nexperiment: {parameters: []}\n"])
def test_an_empty_or_malformed_config_is_named_in_one_line(fresh, capsys, text):
    folder = fresh("good")
    (folder / "config.yaml").write_text(text)
    before = _files(folder)
    code, err = _report(folder, capsys=capsys)
    assert code == 2 and str(folder / "config.yaml") in _one_line(err)
    assert _files(folder) == before and not (folder / "report").exists()


def test_a_config_that_is_not_text_is_named_in_one_line(fresh, capsys):
    folder = fresh("good")
    (folder / "config.yaml").write_bytes(b"\xff\xfe\x00garbage")
    code, err = _report(folder, capsys=capsys)
    assert code == 2 and str(folder / "config.yaml") in _one_line(err)


# --------------------------------------------------------------------------- 2. and 5. nothing to report


def test_a_sweep_that_kept_no_outcomes_is_refused_in_one_line(fresh, capsys):
    folder = fresh("no_outcomes")
    code, err = _report(folder, capsys=capsys)
    line = _one_line(err)
    assert code == 2 and "did not keep the outcome `capital`" in line and "experiment.outcomes: none" in line
    assert not (folder / "report").exists()


def test_a_sweep_whose_every_run_failed_says_so_with_the_first_error(fresh, capsys):
    folder = fresh("all_failed")
    code, err = _report(folder, capsys=capsys)
    line = _one_line(err)
    assert code == 2 and "all 4 runs failed" in line
    assert line.endswith("the first (run 0): RuntimeError: run 0 crashed at step 3")  # its own error, not pandas'
    assert not (folder / "report").exists()


# --------------------------------------------------------------------------- 3. a folder that cannot be written


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into a read-only folder; the simulated refusal below covers it")
def test_a_read_only_sweep_folder_is_named_in_one_line(fresh, capsys):
    folder = fresh("good")
    folder.chmod(0o555)
    try:
        code, err = _report(folder, capsys=capsys)
    finally:
        folder.chmod(0o755)
    assert code == 1 and _one_line(err) == f"error: cannot write {folder / 'report'}: Permission denied"
    assert not (folder / "report").exists()


@pytest.mark.parametrize("earlier", [False, True], ids=["no report yet", "over an earlier report"])
def test_a_folder_the_system_refuses_is_named_in_one_line(fresh, capsys, monkeypatch, earlier):
    folder = fresh("reported" if earlier else "good")
    before = _files(folder)
    real = os.mkdir

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(folder)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refuse)
    code, err = _report(folder, capsys=capsys)
    assert code == 1 and _one_line(err) == f"error: cannot write {folder / 'report'}: Permission denied"
    assert _files(folder) == before and (folder / "report").exists() == earlier


# --------------------------------------------------------------------------- 4. arguments checked first


@pytest.mark.parametrize("points", ["-1", "99", "0,x", ""])
def test_bad_points_are_refused_before_anything_is_written(fresh, capsys, points):
    folder = fresh("good")
    before = _files(folder)
    code, err = _report(folder, "--points", points, capsys=capsys)
    assert code == 2 and _one_line(err).startswith("error: --points: ")
    assert _files(folder) == before and not (folder / "report").exists()


def test_bad_points_leave_an_earlier_report_as_it_was(fresh, capsys):
    folder = fresh("reported")
    before = _files(folder)
    code, err = _report(folder, "--points=-1", capsys=capsys)
    assert code == 2 and "no design point -1; the design points are 0 to 3" in _one_line(err)
    assert _files(folder) == before


# --------------------------------------------------------------------------- 6. a full disk


def _fill_disk_at(monkeypatch, name: str) -> list[str]:
    """Make the atomic write of `name` fail as a full disk does, after half a file; returns every name written."""
    real, names = sim.shell.atomic.atomic, []

    def atomic(path, write):
        names.append(path.name)
        if path.name == name:
            def half(tmp):
                tmp.write_bytes(b"half a file")
                raise OSError(errno.ENOSPC, "No space left on device")  # as matplotlib does: no file named
            write = half
        real(path, write)

    monkeypatch.setattr(sim.shell.atomic, "atomic", atomic)
    return names


def test_every_file_the_report_writes_goes_through_the_atomic_writer(fresh, capsys, monkeypatch):
    folder = fresh("good")
    names = _fill_disk_at(monkeypatch, "(none)")
    assert _report(folder, capsys=capsys) == (0, "")
    written = {p.name for p in (folder / "report").iterdir()}
    assert {"capital_probability.csv", "report.md", "report.html", "p_capital.png", MARKER} <= written
    assert written <= set(names)


@pytest.mark.parametrize("name", ["capital_probability.csv", "p_capital.png", "fiscal.csv", "report.md",
                                  "report.html", MARKER])
def test_a_full_disk_leaves_no_new_file_and_names_the_one_it_could_not_write(fresh, capsys, monkeypatch, name):
    folder = fresh("good")
    _fill_disk_at(monkeypatch, name)
    code, err = _report(folder, capsys=capsys)
    assert code == 1 and _one_line(err) == f"error: cannot write {folder / 'report' / name}: No space left on device"
    assert not (folder / "report").exists()


@pytest.mark.parametrize("name", ["capital_probability.csv", "report.html", MARKER])
def test_a_full_disk_leaves_the_earlier_report_whole(fresh, capsys, monkeypatch, name):
    folder = fresh("reported")
    before = _files(folder)
    _fill_disk_at(monkeypatch, name)
    code, err = _report(folder, "--points", "1", capsys=capsys)
    assert code == 1 and _one_line(err) == f"error: cannot write {folder / 'report' / name}: No space left on device"
    assert _files(folder) == before


def test_the_sweeps_own_figure_is_written_atomically(tmp_path, monkeypatch):
    # The sweep engine draws capital_probability.png with this function: a full disk must not leave half of it.
    _fill_disk_at(monkeypatch, "capital_probability.png")
    table = pd.DataFrame({"point_id": [0, 1], "a": [0.1, 0.2], "P(capital=x)": [0.2, 0.9]})
    with pytest.raises(OSError) as failed:
        plot_capital_probability(table, ["a"], ["x"], tmp_path / "capital_probability.png")
    assert failed.value.filename == str(tmp_path / "capital_probability.png") and not list(tmp_path.iterdir())


def test_the_atomic_writers_name_the_target_not_the_temporary_file(tmp_path):
    def fail(tmp):
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp))

    with pytest.raises(OSError) as failed:
        sim.shell.atomic.atomic(tmp_path / "t.csv", fail)
    assert failed.value.filename == str(tmp_path / "t.csv") and not list(tmp_path.iterdir())
    write_csv(pd.DataFrame({"a": [1, 2]}), tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == "a\n1\n2\n"
    fig = plt.figure()
    save_figure(fig, tmp_path / "f.png")
    plt.close(fig)
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "t.csv"]


# --------------------------------------------------------------------------- 7. a user's own files in report/


@pytest.mark.parametrize("earlier", [False, True], ids=["no report yet", "beside an earlier report"])
def test_a_report_folder_with_a_users_file_is_refused_and_left_alone(fresh, capsys, earlier):
    folder = fresh("reported" if earlier else "good")
    (folder / "report").mkdir(exist_ok=True)
    (folder / "report" / "notes.md").write_text("my own notes")
    before = _files(folder)
    code, err = _report(folder, capsys=capsys)
    line = _one_line(err)
    assert code == 2 and str(folder / "report") in line and "'notes.md'" in line and "did not write" in line
    assert _files(folder) == before


def test_a_users_file_named_like_the_reports_is_still_theirs(fresh, capsys):
    # The marker lists what the report wrote; a figure name it did not write this time is the user's.
    folder = fresh("reported")
    assert "fan_point_2.png" not in (folder / "report" / MARKER).read_text()
    (folder / "report" / "fan_point_2.png").write_text("my own figure")
    code, err = _report(folder, capsys=capsys)
    assert code == 2 and "'fan_point_2.png'" in _one_line(err)
    assert (folder / "report" / "fan_point_2.png").read_text() == "my own figure"


def test_a_file_where_the_report_folder_goes_is_refused(fresh, capsys):
    folder = fresh("good")
    (folder / "report").write_text("not a folder")
    code, err = _report(folder, capsys=capsys)
    assert code == 2 and str(folder / "report") in _one_line(err)
    assert (folder / "report").read_text() == "not a folder"


def test_the_reports_own_earlier_files_are_replaced_and_the_stale_ones_removed(fresh, capsys):
    folder = fresh("good")
    assert _report(folder, "--points", "1", capsys=capsys) == (0, "")
    first = _files(folder / "report")
    assert "fan_point_1.png" in first
    assert _report(folder, "--points", "2", capsys=capsys) == (0, "")
    second = _files(folder / "report")
    assert "fan_point_2.png" in second and "fan_point_1.png" not in second
    listed = {line for line in second[MARKER].decode().splitlines() if not line.startswith("#")}
    assert listed == set(second) - {MARKER}  # the marker names exactly what is there, and nothing else is


def test_a_report_written_before_the_marker_is_recognised_by_its_names(fresh, capsys):
    folder = fresh("reported")
    (folder / "report" / MARKER).unlink()
    assert _report(folder, capsys=capsys) == (0, "")
    assert (folder / "report" / MARKER).is_file()
