"""Child processes of the local runtime's commands (``liftoff airflow``, the embedded broker,
the demo APIs): none outlives the command that started it, however that command ends."""

from __future__ import annotations

import ctypes
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Looked up once, in the parent: between fork and exec the child only calls it (no dlopen
# there, whose lock another thread of the parent may have held at the fork).
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def terminate_with_parent() -> None:
    """``preexec_fn`` of a child: SIGTERM it when the thread that started it ends, however the
    process ends (Linux's parent-death signal: a ``kill -9`` runs no cleanup of ours)."""
    _prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def airflow_binary() -> str:
    """The ``airflow`` command of this interpreter's virtualenv: every Airflow process we start."""
    return str(Path(sys.executable).with_name("airflow"))
