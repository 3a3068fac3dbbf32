"""``mbcnav``'s entry point. ``mbcnav screen`` on DuckDB starts quickly when its plan is cached (without the
knowledge loader or the SQL compiler: ``cmd_screen.run_cached``); everything else goes to ``main.py``."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["screen"]:
        from mbc_navigator.cli.cmd_screen import run_cached

        code = run_cached(args[1:])
        if code is not None:
            return code
    from mbc_navigator.cli.main import main as full

    return full(args)


if __name__ == "__main__":
    sys.exit(main())
