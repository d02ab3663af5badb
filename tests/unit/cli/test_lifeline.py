"""A child started with `die_with_parent` does not outlive a parent killed outright."""

import os
import signal
import subprocess
import sys
import time

import pytest

from services.cli.stale_postgres import process_is_alive

PARENT = (
    "import subprocess, sys, time; from services.cli.lifeline import die_with_parent; "
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
    "start_new_session=True, preexec_fn=die_with_parent()); print(child.pid, flush=True); time.sleep(60)"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a parent-death signal is Linux's")
def test_the_child_of_a_killed_parent_dies_too() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        if not process_is_alive(child):
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    raise AssertionError("the child outlived its killed parent")
