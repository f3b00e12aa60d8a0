"""SIGTERM during a prediction run, taken as Ctrl-C: the finished groups stay for the rerun."""

from __future__ import annotations

import contextlib
import signal


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM (a cluster's time limit, kill) ends the run as Ctrl-C does: the group being
    written is discarded whole, the finished ones stay for the rerun."""

    def stop(signum, frame):
        raise KeyboardInterrupt(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave the signal alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
