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


def save_figure(fig, path: Path, **savefig) -> None:
    """Atomically save a matplotlib figure; the format is the target's suffix (the temporary file has none)."""
    path = Path(path)
    savefig.setdefault("format", path.suffix.lstrip(".") or None)
    atomic(path, lambda p: fig.savefig(p, **savefig))
