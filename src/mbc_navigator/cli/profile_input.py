"""Where a profile comes from on the command line: a JSON file, standard input, and flags that add to it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mbc_navigator.fhir import FhirError, FhirReading, read_bundle_text
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.profile import FieldProblem, ProfileError

BOOL_WORDS = {"yes": True, "true": True, "y": True, "no": False, "false": False, "n": False}


class InputError(Exception):
    """Bad input from the command line: a file, JSON text or a flag. Exit code 2."""


def flag_name(fact: str) -> str:
    return "--" + fact.replace("_", "-")


def add_profile_flags(parser: argparse.ArgumentParser, kb: KnowledgeBase) -> None:
    group = parser.add_argument_group(
        "profile",
        "the patient's facts: a JSON file, and/or flags (flags add to or replace the file's fields)",
    )
    source = group.add_mutually_exclusive_group()
    source.add_argument("--profile", metavar="FILE", help="profile JSON file; '-' reads standard input")
    source.add_argument(
        "--fhir",
        metavar="BUNDLE.json",
        help="a FHIR R4 Bundle (mCODE) to read the profile from; '-' reads standard input",
    )
    for fact in kb.facts.base:
        if fact.type == "enum":
            group.add_argument(flag_name(fact.name), metavar="VALUE", help=f"{fact.label}: {', '.join(fact.values)}")
        elif fact.type == "bool":
            group.add_argument(flag_name(fact.name), metavar="yes|no", help=fact.label)
        elif fact.type == "date":
            group.add_argument(flag_name(fact.name), metavar="YYYY-MM-DD", help=fact.label)
    group.add_argument(
        "--site",
        action="append",
        metavar="SITE",
        dest="sites",
        help="where the cancer has spread (repeat for each): bone, brain, spinal_cord, liver, lung, ...",
    )
    group.add_argument("--no-sites", action="store_true", help="the cancer has not spread anywhere (known)")
    group.add_argument(
        "--prior",
        action="append",
        metavar="DRUGS:SETTING[:START[:END]]",
        dest="priors",
        help='an earlier treatment, e.g. "trastuzumab+pertuzumab+docetaxel:advanced" (repeat for each)',
    )
    group.add_argument("--no-prior", action="store_true", help="no earlier drug treatments (known)")


def read_text(path: str, what: str = "profile file") -> tuple[str, str]:
    """(text, name) of a file, or of standard input for '-'."""
    if path == "-":
        return sys.stdin.read(), "standard input"
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8"), path
    except FileNotFoundError:
        raise InputError(f"{what} {path!r} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path!r} is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path!r} cannot be read: {exc}") from None


def read_json(path: str) -> Any:
    text, name = read_text(path)
    if not text.strip():
        raise InputError(f'{name} is empty; a profile is a JSON object such as {{"her2": "positive"}}')
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None


def read_fhir(path: str, kb: KnowledgeBase) -> FhirReading:
    """Read a FHIR Bundle file; a bad bundle is an ``InputError`` naming each resource and path."""
    text, name = read_text(path, "FHIR bundle")
    try:
        return read_bundle_text(text, kb, name)
    except FhirError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise InputError(f"FHIR bundle {name!r} is not a FHIR R4 Bundle we can read: {problems}") from None


def fhir_output(args: argparse.Namespace) -> dict[str, Any] | None:
    """The top-level ``"fhir"`` key of the JSON output when the profile came from ``--fhir``: provenance per fact,
    codes not understood, results that disagree. None otherwise."""
    reading = getattr(args, "fhir_reading", None)
    return reading.as_json() if isinstance(reading, FhirReading) else None


def profile_from_args(args: argparse.Namespace, kb: KnowledgeBase) -> dict[str, Any]:
    """The raw profile (not yet validated): the file's (or bundle's) fields, then the flags on top."""
    raw: Any = {}
    if getattr(args, "fhir", None):
        reading = read_fhir(args.fhir, kb)
        args.fhir_reading = reading
        raw = dict(reading.profile)
    elif args.profile:
        raw = read_json(args.profile)
    if not isinstance(raw, dict):
        return raw  # type: ignore[no-any-return]  # the validator names the problem
    problems: list[FieldProblem] = []
    for fact in kb.facts.base:
        value = getattr(args, fact.name, None)
        if value is None:
            continue
        if fact.type == "bool":
            word = value.strip().lower()
            if word not in BOOL_WORDS:
                problems.append(FieldProblem(flag_name(fact.name), f"{value!r} is not allowed; use yes or no"))
                continue
            raw[fact.name] = BOOL_WORDS[word]
        else:
            raw[fact.name] = value
    if args.no_sites:
        raw["metastatic_sites"] = []
    if args.sites:
        raw["metastatic_sites"] = [s for item in args.sites for s in item.split(",")]
    if args.no_prior:
        raw["prior_treatments"] = []
    if args.priors:
        raw["prior_treatments"] = [_prior(text, problems) for text in args.priors]
    if problems:
        raise ProfileError(problems)
    return raw


def _prior(text: str, problems: list[FieldProblem]) -> dict[str, Any]:
    parts = text.split(":")
    drugs = [d.strip() for d in parts[0].split("+") if d.strip()]
    if not drugs or len(parts) > 4:
        problems.append(
            FieldProblem(
                "--prior",
                f'{text!r} is not DRUGS:SETTING[:START[:END]], e.g. "trastuzumab+docetaxel:advanced:2023-01-05"',
            )
        )
        return {"drugs": drugs or ["?"]}
    out: dict[str, Any] = {"drugs": drugs}
    for key, value in zip(("setting", "start_date", "end_date"), parts[1:], strict=False):
        if value.strip():
            out[key] = value.strip()
    return out
