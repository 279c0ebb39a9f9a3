"""One writer per results folder: a lock file naming its owner.

A sweep or calibration holds `FOLDER/.lock` while it writes: an advisory
`flock` on the open file, plus the owner's pid, host and start time written
inside it for the message a second process gets. The operating system drops
the lock when its owner dies, even by kill -9, so a stale lock file is
simply taken over: there is nothing to clean up by hand.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from sim.params import ParamError

LOCK_NAME = ".lock"


class FolderLock:
    """Context manager: hold `folder`'s lock, or refuse at once with who holds it."""

    def __init__(self, folder: Path, key: str = "hydra.run.dir"):
        self.folder = Path(folder)
        self.key = key
        self._file = None

    def __enter__(self) -> FolderLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.folder / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held until __exit__
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = _owner(handle.read())
            handle.close()
            raise ParamError(self.key, f"{self.folder} is in use by another process ({owner}); wait for it to "
                                       "finish, or choose another folder") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()  # an empty lock file: free (the file stays, so no process can lock a ghost)
            self._file.flush()
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _owner(text: str) -> str:
    try:
        data = json.loads(text)
        return f"pid {data['pid']} on {data['host']}, since {data['since']}"
    except (ValueError, KeyError, TypeError):
        return "owner unknown"
