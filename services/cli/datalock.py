"""One `rapport dev` per data directory: a lock held for the life of the process, released by the kernel on death."""

import fcntl
import os
from pathlib import Path
from typing import IO


class DataDirBusyError(Exception):
    """Another `rapport dev` holds the data directory."""


class DataDirLock:
    """An exclusive flock on DATA_DIR/dev.lock. The kernel drops it when the holder exits, even on kill -9, so a
    crash never leaves the directory locked; the file keeps the holder's pid only to name it in the refusal."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "dev.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+")  # not "w": truncating would erase the holder's pid before we know we may
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "unknown"
            file.close()
            raise DataDirBusyError(
                f"another `rapport dev` (pid {holder}) is running on {self.path.parent}; "
                "stop it first, or give this one its own --data-dir"
            ) from None
        file.truncate(0)
        file.write(f"{os.getpid()}\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None
