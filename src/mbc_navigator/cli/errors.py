"""Exit codes, the error a command raises for bad input (printed as one line, exit code 2), and the guard that
turns what a command raises into its exit code."""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_OK, EXIT_BUG, EXIT_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad input to a command: the message names the argument or field and what is allowed."""


_stopped_by: list[int] = []  # the signal ``stop_on_signals`` turned into an interrupt, for the exit code


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP (``kill``, ``timeout``, a closed terminal) stop the block as Ctrl-C does, so that what
    it was writing is cleaned up (a no-op outside the main thread, where Python cannot take signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        _stopped_by.append(signum)
        raise KeyboardInterrupt

    caught = (signal.SIGTERM, signal.SIGHUP)
    before = {s: signal.signal(s, stop) for s in caught}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def guard(command: Callable[[], int], input_errors: tuple[type[Exception], ...] = ()) -> int:
    """Run ``command``: bad input (``UsageError`` or ``input_errors``) is its one-line message and exit code 2;
    Ctrl-C (or SIGTERM, SIGHUP in ``stop_on_signals``) 128 + the signal; a closed pipe 0; anything else is a bug,
    said plainly (the traceback only with MBCNAV_DEBUG)."""
    bad_input: tuple[type[Exception], ...] = (UsageError, *input_errors)
    try:
        return command()
    except bad_input as exc:
        print(f"mbcnav: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        signum = _stopped_by.pop() if _stopped_by else signal.SIGINT
        print(f"mbcnav: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        return EXIT_OK
    except Exception:
        print("mbcnav: internal error (a bug; please report it). Set MBCNAV_DEBUG=1 for details.", file=sys.stderr)
        if os.environ.get("MBCNAV_DEBUG"):
            traceback.print_exc()
        return EXIT_BUG
