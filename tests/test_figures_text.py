"""No figure's text leaves its canvas: the check every figure of the test suite passes through (DRAMA_CHECK_FIGURES,
set in conftest.py), shown to catch what it is for."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from sim.shell.atomic import save_figure, texts_outside  # noqa: E402


def test_a_label_cut_off_at_the_canvas_edge_is_caught(tmp_path):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_xlabel("a label much too long to fit under a small figure without being cut off at both of its ends")
    fig.tight_layout()
    assert texts_outside(fig, tight=False)  # the whole-figure canvas cuts it
    with pytest.raises(ValueError, match="text leaves the canvas"):
        save_figure(fig, tmp_path / "cut.png", bbox_inches=None)
    assert not (tmp_path / "cut.png").exists()
    save_figure(fig, tmp_path / "kept.png")  # the default canvas is cropped to what is drawn: nothing is cut
    assert not texts_outside(fig, tight=True)
    plt.close(fig)


def test_every_figure_the_commands_write_goes_through_the_check():
    """No module saves a figure any other way (each savefig is in save_figure)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    callers = [p for folder in ("sim", "experiments", "viz", "benchmarks") for p in (root / folder).rglob("*.py")
               if ".savefig(" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(root).as_posix() for p in callers] == ["sim/shell/atomic.py"]
