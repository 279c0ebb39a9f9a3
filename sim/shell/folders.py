"""Whose folder is this? Every command writes only into a folder it made or one of its own kind.

A command's run folder gets a small mark, `.drama.json`, naming the command
that writes there (`run`, `sweep`, `calibrate`, `optimize`). Before a
command writes anything it *claims* its folder:

- a folder that does not exist, or is empty, becomes the command's;
- a folder marked by the same command is its own (a rerun resumes it);
- anything else is refused with one line: a folder of a user's own files,
  or another command's outputs, is never written into, so nothing of the
  user's is overwritten and no two commands mix their tables.

One writer at a time: `FolderLock` holds `FOLDER/.lock` (an advisory `flock`
that the operating system drops when its owner dies, even by kill -9, with
the owner's pid, host and start written inside for the message a second
process gets). The lock is re-entrant within a process, so the front door
and a command's engine may both take it.

A folder this process created and then could not use (bad input found
late, a resume that continues elsewhere) is removed by `discard`, which
deletes only the files this module wrote and an empty folder: never a
folder someone else made.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from sim.shell.atomic import write_json
from sim.params import ParamError

MARK = ".drama.json"
LOCK_NAME = ".lock"
OURS = {MARK, LOCK_NAME}

# Folders written before marks existed, recognised by the file only that command writes.
_LEGACY = (("design.parquet", "sweep"), ("optuna.journal", "optimize"), ("calibration.json", "calibrate"),
           ("round_1", "calibrate"), ("summary.json", "run"))

_created: set[Path] = set()  # folders this process made (only these may be discarded)


def remember_created(folder: Path) -> None:
    """Note that this process made `folder` (it did not exist before the command started)."""
    _created.add(Path(folder).absolute())


def created_here(folder: Path) -> bool:
    return Path(folder).absolute() in _created


def owner(folder: Path) -> str | None:
    """The command whose folder this is, or None (not a command's folder, or not readable as one)."""
    folder = Path(folder)
    try:
        return json.loads((folder / MARK).read_text(encoding="utf-8")).get("command")
    except FileNotFoundError:
        pass
    except (OSError, ValueError, AttributeError):
        return None
    for name, command in _LEGACY:
        if (folder / name).exists() and (folder / "manifest.json").exists() or (folder / name).is_dir():
            return command
    return None


def _listing(entries: list[Path], limit: int = 4) -> str:
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in entries)
    more = f", and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def check_claim(folder: Path, command: str, key: str = "hydra.run.dir") -> None:
    """Refuse (ParamError) a folder that is neither new, empty, nor `command`'s own; writes nothing."""
    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ParamError(key, f"{str(folder)!r} is a file; give a folder")
    entries = [p for p in folder.iterdir() if p.name not in OURS]
    if not entries:
        return
    found = owner(folder)
    if found == command:
        return
    if found is None:
        raise ParamError(key, f"{folder} holds files this command did not write ({_listing(entries)}); "
                              "give a new or empty folder, so that nothing of yours is overwritten")
    raise ParamError(key, f"{folder} holds the outputs of `{found}`; `{command}` writes only into a new or empty "
                          f"folder, or into one of its own")


def claim(folder: Path, command: str, key: str = "hydra.run.dir") -> None:
    """Make `folder` `command`'s (refusing what `check_claim` refuses) and mark it."""
    check_claim(folder, command, key)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if owner(folder) != command or not (folder / MARK).exists():
        write_json(folder / MARK, {"command": command,
                                   "since": datetime.now(timezone.utc).isoformat(timespec="seconds")})


def discard(folder: Path) -> bool:
    """Remove `folder` if this process made it and it holds nothing but this module's files; True if removed."""
    folder = Path(folder)
    if not created_here(folder) or not folder.is_dir() or _is_locked_by_other(folder):
        return False
    if any(p.name not in OURS for p in folder.iterdir()):
        return False
    for name in OURS:
        (folder / name).unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        return False
    _created.discard(folder.absolute())
    return True


# --------------------------------------------------------------------------- one writer at a time

_held: dict[Path, list] = {}  # folder -> [open lock file, depth]: re-entrant within this process


def _is_locked_by_other(folder: Path) -> bool:
    path = folder / LOCK_NAME
    if folder.absolute() in _held or not path.exists():
        return False
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


class FolderLock:
    """Context manager: hold `folder`'s lock, or refuse at once (ParamError) naming who holds it."""

    def __init__(self, folder: Path, key: str = "hydra.run.dir"):
        self.folder = Path(folder)
        self.key = key

    def __enter__(self) -> FolderLock:
        where = self.folder.absolute()
        if where in _held:
            _held[where][1] += 1
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.folder / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held until __exit__
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            who = _lock_owner(handle.read())
            handle.close()
            raise ParamError(self.key, f"{self.folder} is in use by another process ({who}); wait for it to "
                                       "finish, or choose another folder") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
        handle.flush()
        _held[where] = [handle, 1]
        return self

    def __exit__(self, *exc) -> None:
        where = self.folder.absolute()
        entry = _held.get(where)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1]:
            return
        handle = entry[0]
        del _held[where]
        handle.seek(0)
        handle.truncate()  # an empty lock file: free (the file stays, so no process can lock a ghost)
        handle.flush()
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _lock_owner(text: str) -> str:
    try:
        data = json.loads(text)
        return f"pid {data['pid']} on {data['host']}, since {data['since']}"
    except (ValueError, KeyError, TypeError):
        return "owner unknown"
