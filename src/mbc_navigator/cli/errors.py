"""Exit codes, the error a command raises for bad input (printed as one line, exit code 2), and the guard that
turns what a command raises into its exit code."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

EXIT_OK, EXIT_BUG, EXIT_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad input to a command: the message names the argument or field and what is allowed."""


def guard(command: Callable[[], int], input_errors: tuple[type[Exception], ...] = ()) -> int:
    """Run ``command``: bad input (``UsageError`` or ``input_errors``) is its one-line message and exit code 2;
    Ctrl-C 130; a closed pipe 0; anything else is a bug, said plainly (the traceback only with MBCNAV_DEBUG)."""
    bad_input: tuple[type[Exception], ...] = (UsageError, *input_errors)
    try:
        return command()
    except bad_input as exc:
        print(f"mbcnav: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("mbcnav: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception:
        print("mbcnav: internal error (a bug; please report it). Set MBCNAV_DEBUG=1 for details.", file=sys.stderr)
        if os.environ.get("MBCNAV_DEBUG"):
            traceback.print_exc()
        return EXIT_BUG
