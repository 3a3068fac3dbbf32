"""Where the knowledge base lives and how drug names are compared: light enough for a start without the loader."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
KNOWLEDGE_ENV = "MBCNAV_KNOWLEDGE"


def knowledge_dir(data_dir: Path | None = None) -> Path:
    """The knowledge base folder: ``data_dir``, else $MBCNAV_KNOWLEDGE, else the package's own data."""
    return data_dir or Path(os.environ.get(KNOWLEDGE_ENV) or DATA_DIR)


def normalise_drug_name(name: str) -> str:
    return " ".join(name.replace("®", "").replace("™", "").replace("-", " ").lower().split())
