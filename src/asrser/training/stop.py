"""SIGTERM (Slurm's time limit) during training: a flag the loop checks at batch boundaries, so
that it saves a resume point and exits with the status a shell reports for SIGTERM."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)

SIGTERM_EXIT_STATUS = 143  # 128 + SIGTERM, what a shell reports for a process ended by SIGTERM


class StopRequest:
    """Turns SIGTERM into a flag checked at batch boundaries (installed in the main thread only)."""

    def __init__(self):
        self.requested = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequest]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        def handler(signum, frame):
            log.warning("SIGTERM received: saving a resume point at the next batch boundary")
            self.requested = True

        previous = signal.signal(signal.SIGTERM, handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGTERM, previous)
