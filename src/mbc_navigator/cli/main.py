"""``mbcnav``: ask which options the pages say may fit, and why; look up drugs, research; check the knowledge.

Exit codes: 0 done; 2 bad input (named field and what is allowed) or a failed ``kb check``; 1 a bug.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from mbc_navigator import sources as sources_mod
from mbc_navigator.cli import render
from mbc_navigator.cli.errors import EXIT_INPUT, EXIT_OK, UsageError, guard
from mbc_navigator.cli.profile_input import InputError, add_profile_flags, fhir_output, profile_from_args
from mbc_navigator.engine import assess
from mbc_navigator.engine.cites import cite_json
from mbc_navigator.engine.drug_info import drug_info
from mbc_navigator.knowledge import check as kb_check
from mbc_navigator.knowledge.export import export
from mbc_navigator.knowledge.loader import KnowledgeBase, KnowledgeError, load
from mbc_navigator.profile import ProfileError, parse_profile


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit 2 with usage; keep that, say it plainly
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"mbcnav: error: {message}\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def build_parser(kb: KnowledgeBase | None) -> argparse.ArgumentParser:
    """The command line; profile flags come from the facts catalogue (absent if the knowledge fails to load)."""
    parser = _Parser(
        prog="mbcnav",
        description=(
            "What public patient-information pages say about targeted and immunotherapy drugs for secondary "
            "breast cancer: which options may fit a person, why, and what is still unknown. Information to "
            "discuss with a care team, never a prescription."
        ),
    )
    parser.add_argument(
        "--knowledge",
        metavar="DIR",
        help="knowledge base folder (default: the package's own; env MBCNAV_KNOWLEDGE)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    fmt = _Parser(add_help=False)
    fmt.add_argument(
        "--format",
        choices=("table", "json"),
        default=None,
        help="output format (default: table on a terminal, json otherwise)",
    )
    today = _Parser(add_help=False)
    today.add_argument(
        "--today", type=_date, metavar="YYYY-MM-DD", help="the date to judge review dates by (default: today)"
    )

    p = sub.add_parser("options", parents=[fmt, today], help="assess every option for a profile")
    if kb is not None:
        add_profile_flags(p, kb)

    p = sub.add_parser("explain", parents=[fmt, today], help="one option, criterion by criterion, with quotes")
    p.add_argument("regimen", metavar="REGIMEN", help="option id, e.g. trastuzumab-emtansine")
    if kb is not None:
        add_profile_flags(p, kb)

    p = sub.add_parser("drug", parents=[fmt], help="what the pages say about a drug (generic or brand name)")
    p.add_argument("name", nargs="+", metavar="NAME")
    sub.add_parser("drugs", parents=[fmt], help="list the drugs the knowledge base knows")
    sub.add_parser("research", parents=[fmt], help="drugs and directions under study")
    sub.add_parser("regimens", parents=[fmt], help="list the options with their criteria")

    for module in command_modules():
        module.register(sub, {"format": fmt, "today": today}, kb)

    kbp = sub.add_parser("kb", help="check or export the knowledge base")
    kbsub = kbp.add_subparsers(dest="kb_command", metavar="ACTION", parser_class=_Parser)
    c = kbsub.add_parser("check", parents=[today], help="schema, quotes verbatim in their pages, completeness")
    c.add_argument("--sources", metavar="DIR", help="folder of source pages (env MBCNAV_SOURCES)")
    kbsub.add_parser("export", parents=[fmt], help="the whole knowledge base as JSON")
    return parser


def _format(args: argparse.Namespace) -> str:
    return args.format or ("table" if sys.stdout.isatty() else "json")


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _assessment(args: argparse.Namespace, kb: KnowledgeBase) -> dict[str, Any]:
    raw = profile_from_args(args, kb)
    profile = parse_profile(raw, kb)
    return assess(profile, kb, today=args.today)


def cmd_options(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    result = _assessment(args, kb)
    if (fhir := fhir_output(args)) is not None:
        result["fhir"] = fhir  # provenance of each fact, codes not understood, results that disagree
    if _format(args) == "json":
        _print_json(result)
    else:
        print(render.options_table(result))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    if args.regimen not in kb.regimens:
        raise UsageError(f"REGIMEN: {args.regimen!r} is not an option; use one of: {', '.join(kb.regimens)}")
    result = _assessment(args, kb)
    option = next(o for o in result["options"] if o["id"] == args.regimen)
    if _format(args) == "json":
        out = {"option": option, "warnings": result["warnings"], "knowledge": result["knowledge"]}
        if (fhir := fhir_output(args)) is not None:
            out["fhir"] = fhir
        _print_json(out)
    else:
        print(render.explain(option, result))
    return EXIT_OK


def cmd_drug(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    name = " ".join(args.name)
    drug = kb.find_drug(name)
    if drug is None:
        known = ", ".join(sorted(d.name for d in kb.drugs.values()))
        raise UsageError(f"NAME: {name!r} is not a drug the knowledge base knows (generic or brand); known: {known}")
    info = drug_info(kb, drug)
    if _format(args) == "json":
        _print_json(info)
    else:
        print(render.drug_text(kb, info))
    return EXIT_OK


def cmd_drugs(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    if _format(args) == "json":
        _print_json(
            {
                "drugs": [
                    {"id": d.id, "name": d.name, "brands": d.brands, "classes": d.classes} for d in kb.drugs.values()
                ]
            }
        )
    else:
        print(render.drugs_table(kb))
    return EXIT_OK


def cmd_research(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    if _format(args) == "json":
        _print_json(
            {
                "research": [
                    {
                        "id": r.id,
                        "name": r.name,
                        "kind": r.kind,
                        "area": r.area,
                        "sources": [cite_json(kb, c) for c in r.sources],
                    }
                    for r in kb.research
                ]
            }
        )
    else:
        print(render.research_text(kb))
    return EXIT_OK


def cmd_regimens(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    data = export(kb)["regimens"]
    if _format(args) == "json":
        _print_json({"regimens": data})
    else:
        for r in data:
            print(f"{r['id']}: {r['name']}")
            for c in r["criteria"]:
                print(f"    - {c['text']}")
    return EXIT_OK


def cmd_kb(args: argparse.Namespace, kb: KnowledgeBase | None) -> int:
    if args.kb_command == "check":
        folder = sources_mod.locate(args.sources)
        data_dir = Path(args.knowledge) if args.knowledge else None
        report = kb_check.check(folder, data_dir, today=args.today)
        for note in report.notes:
            print(f"note: {note}")
        if report.ok:
            print(
                f"kb check: OK: {report.quotes_checked} page quotes found verbatim in {folder}; "
                f"{report.external_cites} external cites (not checked against the pages)"
            )
            return EXIT_OK
        for failure in report.failures:
            print(f"FAIL {failure}")
        print(f"kb check: {len(report.failures)} failure(s)")
        return EXIT_INPUT
    if args.kb_command == "export":
        assert kb is not None
        _print_json(export(kb))
        return EXIT_OK
    raise UsageError("kb: say 'check' or 'export'")


def command_modules() -> list[Any]:
    """Commands kept in their own modules: ``cli/cmd_<name>.py``, each with ``register`` and ``run``.

    ``register(sub, parents, kb)`` adds its sub-parser (``parents`` holds the shared ``format`` and ``today``
    option parsers); ``run(args, kb) -> int`` runs it. The command's name is the module's name after ``cmd_``.
    """
    package = importlib.import_module("mbc_navigator.cli")
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("cmd_"))
    return [importlib.import_module(f"mbc_navigator.cli.{name}") for name in names]


COMMANDS = {
    "options": cmd_options,
    "explain": cmd_explain,
    "drug": cmd_drug,
    "drugs": cmd_drugs,
    "research": cmd_research,
    "regimens": cmd_regimens,
}


def _knowledge_dir(argv: Sequence[str]) -> Path | None:
    for i, arg in enumerate(argv):
        if arg == "--knowledge" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--knowledge="):
            return Path(arg.split("=", 1)[1])
    return None


def run(argv: Sequence[str]) -> int:
    try:
        kb: KnowledgeBase | None = load(_knowledge_dir(argv))
        load_error = None
    except KnowledgeError as exc:
        kb, load_error = None, exc  # ``kb check`` reports the problems itself; other commands stop here
    parser = build_parser(kb)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    if args.command == "kb" and args.kb_command == "check":
        return cmd_kb(args, kb)
    if kb is None:
        print(f"mbcnav: {load_error}\nRun `mbcnav kb check` for details.", file=sys.stderr)
        return EXIT_INPUT
    if args.command == "kb":
        return cmd_kb(args, kb)
    if args.command in COMMANDS:
        return COMMANDS[args.command](args, kb)
    module = importlib.import_module(f"mbc_navigator.cli.cmd_{args.command}")
    code: int = module.run(args, kb)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    def command() -> int:
        try:
            return run(sys.argv[1:] if argv is None else argv)
        except ProfileError as exc:
            print("mbcnav: the profile has problems:", file=sys.stderr)
            for p in exc.problems:
                print(f"  - {p}", file=sys.stderr)
            return EXIT_INPUT

    return guard(command, (InputError, sources_mod.SourcesNotFound))


if __name__ == "__main__":
    sys.exit(main())
