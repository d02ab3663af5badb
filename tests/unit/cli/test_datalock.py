"""One `rapport dev` per data directory: a second is refused, naming the first; the lock goes with its holder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.cli.datalock import DataDirBusyError, DataDirLock

HOLD = (
    "from pathlib import Path; import sys, time; from services.cli.datalock import DataDirLock; "
    "lock = DataDirLock(Path(sys.argv[1])); lock.acquire(); print('held', flush=True); time.sleep(60)"
)


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DataDirBusyError, match=f"pid {holder.pid}"):
            DataDirLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = DataDirLock(tmp_path)
    lock.acquire()  # a killed holder leaves nothing locked
    assert (tmp_path / "dev.lock").read_text().strip() == str(os.getpid())
    lock.release()
