"""SIGTERM while spin() runs on the main thread: the launcher (`sustainml launch`)
stops nodes with SIGTERM, so it stops the node cleanly as Ctrl-C does, when the
script has no SIGTERM handler of its own."""

import signal
import threading


def _stop(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def install():
    """Installs the handler if it may; returns what restore() needs."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    signal.signal(signal.SIGTERM, _stop)
    return signal.SIG_DFL


def restore(previous):
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
