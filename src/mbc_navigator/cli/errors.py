"""Exit codes and the error a command raises for bad input (printed as one line, exit code 2)."""

EXIT_OK, EXIT_BUG, EXIT_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad input to a command: the message names the argument or field and what is allowed."""
