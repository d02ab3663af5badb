"""Ties a child process's life to `rapport dev`'s, so no service or broker outlives it, however it dies."""

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to send `signum` to the child when its parent dies; None elsewhere.

    Linux sends it when the *thread* that forked the child ends, so start children from the main thread only.
    SIGTERM rather than SIGKILL: the services then close their connections as on Ctrl-C, and they exit in well
    under a second. libc is loaded here, in the parent, because the child must not load libraries between fork
    and exec."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl: nobody would signal us
            os._exit(1)

    return arm
