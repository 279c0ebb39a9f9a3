"""Writing a file so that it is either complete or absent: the one atomic-write helper.

Every table, manifest, summary and figure the project writes goes through `atomic`:
the content is written to `<name>.tmp` beside the target and renamed into
place, which is atomic on one filesystem. A write that fails (a full disk,
a folder that cannot be written, a kill) leaves no partial file under the
target's name, and its temporary file is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """Call `write(tmp)` to produce the file, then rename it to `path`; on failure leave nothing behind."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):  # a failed clean-up must not hide why the write failed
            tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and (err.filename is None or str(err.filename) == str(tmp)):
            # The temporary name means nothing to the reader, and writers such as matplotlib raise
            # ENOSPC with no name at all: the message should name the file that was not written.
            err.filename = str(path)
        raise


def write_text(path: Path, text: str) -> None:
    """Atomically write UTF-8 text."""
    atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    """Atomically write indented JSON (non-JSON values as their str)."""
    write_text(path, json.dumps(data, indent=2, default=str, ensure_ascii=False))


def write_parquet(table, path: Path) -> None:
    """Atomically write a pandas DataFrame (without its index) or a pyarrow Table as Parquet."""
    if hasattr(table, "to_parquet"):
        atomic(path, lambda p: table.to_parquet(p, index=False))
    else:
        import pyarrow.parquet as pq

        atomic(path, lambda p: pq.write_table(table, p))


def write_csv(frame, path: Path, **to_csv) -> None:
    """Atomically write a pandas DataFrame as CSV (without its index unless `index=True` is given)."""
    to_csv.setdefault("index", False)
    atomic(path, lambda p: frame.to_csv(p, **to_csv))


CHECK_FIGURES = "DRAMA_CHECK_FIGURES"  # set (the test suite does): a figure with text off its canvas is an error


def save_figure(fig, path: Path, **savefig) -> None:
    """Atomically save a matplotlib figure; the format is the target's suffix (the temporary file has none).

    The canvas is cropped to what is drawn (bbox_inches="tight"), so a long label widens the image instead of being
    cut off at its edge. With DRAMA_CHECK_FIGURES set, every text is checked to lie inside the saved canvas first.
    """
    path = Path(path)
    savefig.setdefault("format", path.suffix.lstrip(".") or None)
    savefig.setdefault("bbox_inches", "tight")
    savefig.setdefault("pad_inches", 0.05)
    if os.environ.get(CHECK_FIGURES):
        outside = texts_outside(fig, tight=savefig["bbox_inches"] == "tight")
        if outside:
            raise ValueError(f"{path.name}: text leaves the canvas: {outside[:3]}")
    atomic(path, lambda p: fig.savefig(p, **savefig))


def texts_outside(fig, tight: bool = True) -> list[str]:
    """The figure's visible texts that reach beyond the area it is saved with (the whole figure, or with
    tight=True what bbox_inches="tight" keeps), each as its text and how far out, in pixels."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    area = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans) if tight else fig.bbox
    undrawn = set()  # tick labels at ticks outside their axis' limits: matplotlib keeps them but never draws them
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            slack = 1e-9 * max(1.0, abs(lo), abs(hi))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - slack <= tick.get_loc() <= hi + slack:
                    undrawn.update((id(tick.label1), id(tick.label2)))
    out = []
    for text in fig.findobj(Text):
        if id(text) in undrawn or not text.get_visible() or not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        over = max(area.x0 - box.x0, box.x1 - area.x1, area.y0 - box.y0, box.y1 - area.y1)
        if over > 1.0:
            out.append(f"{text.get_text()!r} ({over:.0f} px out)")
    return out
