"""The whole `rapport dev` killed at once (kill -9 of dev and of every process under it), then started again on the
same data directory, as after a power cut of the machine's user session or an OOM kill of the process tree."""

import os
import signal
import time
from pathlib import Path

from services.cli.embedded import port_is_free
from services.cli.faults_stack import DevStack, StackError, start_stack


def _parents() -> dict[int, int]:
    """Every live process's parent, from /proc (a process gone while we read is skipped)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces or parentheses: the fields after it start after the last ')'
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            found[int(entry.name)] = int(fields[1])
    return found


def descendants(root: int) -> list[int]:
    """`root` and every live process under it (the services run in sessions of their own, so no process group
    names them all)."""
    parents = _parents()
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sorted(pid for pid in tree if pid in parents)


def kill_whole(stack: DevStack) -> list[int]:
    """SIGKILL to dev and everything under it at once, so none of them gets to stop anything in order."""
    doomed = descendants(stack.process.pid)
    for pid in doomed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stack.process.wait(timeout=30)
    return doomed


def restart_whole(stack: DevStack, attempt: int, timeout: float = 60) -> list[int]:
    """Kill the whole stack and start `rapport dev` again on its data directory, ports and key; `stack` then
    names the new one. Returns the pids killed."""
    doomed = kill_whole(stack)
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in doomed) or not all(port_is_free(p) for p in stack.ports):
        if time.monotonic() > deadline:
            raise StackError(f"the killed stack's processes or ports were not freed within {timeout:.0f} s")
        time.sleep(0.2)
    log = stack.data_dir.parent / f"{stack.data_dir.name}-dev-restart-{attempt}.log"
    again = start_stack(stack.data_dir, ports=stack.ports, api_key=stack.api_key, log=log)
    stack.process, stack.log = again.process, again.log
    return doomed


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"
