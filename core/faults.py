"""Crash points for fault-injection tests: ``SHOPAGENT_CRASH_AT=<name>`` SIGKILLs the process there.

Off unless that variable names the point. The tests kill a real process at the moments that matter for
exactly-once changes (a preview stored, a confirmation received, a change written but not committed,
a change committed) and check that a restarted process resumes the conversation without applying a
change twice.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("SHOPAGENT_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
