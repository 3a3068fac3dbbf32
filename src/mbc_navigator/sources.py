"""Finding and reading the source pages. The pages are never copied into the project: they are read from a
sources folder (``--sources``, else ``$MBCNAV_SOURCES``, else the ``shared/seeds`` folder beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

SOURCES_ENV = "MBCNAV_SOURCES"


class SourcesNotFound(FileNotFoundError):
    pass


def _candidates() -> list[Path]:
    here = Path(__file__).resolve()
    # src/mbc_navigator/sources.py -> checkout root is parents[2]; shared/ sits beside the checkout.
    out = [here.parents[2].parent / "shared" / "seeds"]
    cwd = Path.cwd().resolve()
    out += [p / "shared" / "seeds" for p in (cwd.parent, cwd, *cwd.parents)]
    return out


def locate(option: str | Path | None = None) -> Path:
    """The sources folder: the option, else the environment variable, else the first default that exists."""
    chosen = option or os.environ.get(SOURCES_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            how = "--sources" if option else f"${SOURCES_ENV}"
            raise SourcesNotFound(f"sources folder {str(path)!r} (from {how}) does not exist or is not a folder")
        return path
    for path in _candidates():
        if path.is_dir():
            return path
    raise SourcesNotFound(
        "no sources folder found: pass --sources DIR or set "
        f"{SOURCES_ENV} to the folder holding the source pages (default: shared/seeds beside the checkout)"
    )


def fold(text: str) -> str:
    """White space folded: every run of spaces, tabs and line breaks becomes one space."""
    return " ".join(text.split())
