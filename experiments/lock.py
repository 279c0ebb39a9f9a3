"""One writer per results folder: the lock lives with the folder rules in `sim.folders` (imported from here by
the batch commands)."""

from sim.folders import LOCK_NAME, FolderLock

__all__ = ["LOCK_NAME", "FolderLock"]
