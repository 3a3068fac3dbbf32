"""The code tables of ``codes.yaml``: which LOINC, SNOMED CT, ICD-10-CM, RxNorm and HGNC codes the reader knows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CODES_FILE = Path(__file__).with_name("codes.yaml")


@dataclass(frozen=True)
class Known:
    """One known code: what it means for the profile, its display and where the mapping comes from."""

    meaning: Any
    display: str
    source: str


@dataclass(frozen=True)
class CodeTables:
    """Lookups by (system alias, code); ``system_of`` maps a system URI to its alias (loinc, snomed ...)."""

    system_of: dict[str, str]
    sources: dict[str, str]
    tumour_markers: dict[str, tuple[str, str, Known]]  # loinc -> (fact, kind, known)
    result_values: dict[tuple[str, str], Known]
    ihc_scores: dict[tuple[str, str], Known]
    breast_snomed: dict[str, Known]
    breast_icd_prefixes: dict[str, Known]
    secondary_snomed: dict[str, Known]
    secondary_icd_prefixes: dict[str, Known]
    body_sites: dict[str, Known]
    stage_group_codes: frozenset[str]
    stage_metastatic: frozenset[str]
    m_category_codes: frozenset[str]
    m_metastatic: frozenset[str]
    variant_codes: frozenset[str]
    gene_studied_codes: frozenset[str]
    pik3ca_hgnc: str
    pik3ca_symbol: str
    variant_present: dict[tuple[str, str], Known]
    menopause: dict[str, Known]
    rxnorm: dict[str, Known]

    def alias(self, system: str | None) -> str:
        """The alias of a system URI ('loinc', 'snomed' ...), or the URI itself when unknown."""
        return self.system_of.get((system or "").rstrip("/"), system or "")


def _known(entry: dict[str, Any], meaning_key: str | None) -> Known:
    return Known(entry.get(meaning_key) if meaning_key else None, str(entry.get("display", "")), str(entry["source"]))


def _pairs(rows: list[dict[str, Any]], meaning_key: str) -> dict[tuple[str, str], Known]:
    return {(str(r["system"]), str(r["code"])): _known(r, meaning_key) for r in rows}


@cache
def tables(path: Path = CODES_FILE) -> CodeTables:
    """Load and index ``codes.yaml`` (once)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    system_of: dict[str, str] = {}
    for alias, uris in data["systems"].items():
        for uri in uris if isinstance(uris, list) else [uris]:
            system_of[str(uri).rstrip("/")] = str(alias)
    gen = data["genomics"]
    return CodeTables(
        system_of=system_of,
        sources={str(k): str(v) for k, v in data["sources"].items()},
        tumour_markers={
            str(code): (str(e["fact"]), str(e["kind"]), _known(e, None)) for code, e in data["tumour_markers"].items()
        },
        result_values=_pairs(data["result_values"], "value"),
        ihc_scores=_pairs(data["ihc_scores"], "value"),
        breast_snomed={str(k): _known(v, None) for k, v in data["breast_cancer"]["snomed"].items()},
        breast_icd_prefixes={str(k): _known(v, None) for k, v in data["breast_cancer"]["icd10cm_prefixes"].items()},
        secondary_snomed={str(k): _known(v, "site") for k, v in data["secondary_cancer"]["snomed"].items()},
        secondary_icd_prefixes={
            str(k): _known(v, "site") for k, v in data["secondary_cancer"]["icd10cm_prefixes"].items()
        },
        body_sites={str(k): _known(v, "site") for k, v in data["body_sites"].items()},
        stage_group_codes=frozenset(data["stage_groups"]["loinc"]),
        stage_metastatic=frozenset(v.upper() for v in data["stage_groups"]["metastatic_values"]),
        m_category_codes=frozenset(data["distant_metastasis"]["loinc"]),
        m_metastatic=frozenset(v.upper() for v in data["distant_metastasis"]["metastatic_values"]),
        variant_codes=frozenset(gen["variant_codes"]),
        gene_studied_codes=frozenset(gen["gene_studied"]),
        pik3ca_hgnc=str(gen["pik3ca"]["hgnc"]),
        pik3ca_symbol=str(gen["pik3ca"]["symbol"]),
        variant_present=_pairs(gen["present"], "display"),
        menopause={str(k): _known(v, "value") for k, v in data["menopause"].items()},
        rxnorm={str(k): _known(v, "name") for k, v in data["rxnorm"].items()},
    )


def by_prefix(table: dict[str, Known], code: str) -> Known | None:
    """The entry whose key is the longest prefix of ``code`` (ICD-10-CM codes, with or without the dot)."""
    plain = code.replace(".", "").upper()
    best: tuple[int, Known] | None = None
    for prefix, known in table.items():
        key = prefix.replace(".", "").upper()
        if plain.startswith(key) and (best is None or len(key) > best[0]):
            best = (len(key), known)
    return best[1] if best else None
