"""The patient form: topics asked one at a time, and the conversion between form fields and profile JSON.

Every question can be answered "I don't know", which leaves the fact unknown (an empty value). Nothing is
stored on the server: each step carries the earlier answers as hidden fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.schema import BaseFact

Form = dict[str, list[str]]

TOPICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("you", "About you", ("sex", "menopausal_status")),
    ("cancer", "The cancer", ("extent", "metastatic_sites", "local_recurrence", "operable", "recurrence_date")),
    ("tests", "Test results", ("her2", "er", "pr", "pd_l1", "pik3ca_mutation", "her2_ihc", "her2_ish")),
    ("treatments", "Earlier treatments", ("prior_treatments",)),
)
DEFAULT_ROWS = 3
MAX_ROWS = 20
TREATMENT_PARTS = ("drugs", "setting", "start", "end", "ongoing")
UNKNOWN, NONE, LISTED = "unknown", "none", "listed"


@dataclass
class Question:
    """One question on the form, as the template draws it."""

    fact: BaseFact
    choices: list[tuple[str, str]]  # (value, label); "" = I don't know
    value: str | list[str]

    @property
    def name(self) -> str:
        return self.fact.name


def one(form: Form, key: str) -> str:
    """The last answer given for a field, trimmed ("" when none)."""
    values = form.get(key) or [""]
    return values[-1].strip()


def _bool_choices() -> list[tuple[str, str]]:
    return [("true", "Yes"), ("false", "No"), ("", "I don't know")]


def questions(kb: KnowledgeBase, topic: str, form: Form) -> list[Question]:
    facts = {f.name: f for f in kb.facts.base}
    names = next(t[2] for t in TOPICS if t[0] == topic)
    out = []
    for name in names:
        fact = facts[name]
        if fact.type == "enum":
            choices = [(v, fact.value_labels.get(v, v)) for v in fact.values] + [("", "I don't know")]
            out.append(Question(fact, choices, one(form, name)))
        elif fact.type == "bool":
            out.append(Question(fact, _bool_choices(), one(form, name)))
        elif fact.type == "enum_list":
            choices = [(v, fact.value_labels.get(v, v.replace("_", " "))) for v in fact.values]
            out.append(Question(fact, choices, [v for v in form.get(name, []) if v]))
        else:  # date, treatments: drawn by their own template parts
            out.append(Question(fact, [], one(form, name)))
    return out


def rows(form: Form) -> int:
    """How many treatment rows to draw: the ones filled in, at least the default, one more when asked."""
    text = one(form, "t_rows")
    n = int(text) if text.isdigit() else DEFAULT_ROWS
    filled = max((i + 1 for i in range(MAX_ROWS) if one(form, f"t{i}_drugs")), default=0)
    return max(min(n, MAX_ROWS), filled, 1)


def to_profile(kb: KnowledgeBase, form: Form) -> dict[str, Any]:
    """Form fields -> profile JSON. Empty answers are left out (unknown); the profile reader checks values."""
    raw: dict[str, Any] = {}
    for fact in kb.facts.base:
        name = fact.name
        if fact.type in ("enum", "bool", "date"):
            value = one(form, name)
            if value:
                raw[name] = {"true": True, "false": False}.get(value, value) if fact.type == "bool" else value
        elif fact.type == "enum_list":
            picked = [v for v in form.get(name, []) if v]
            state = one(form, f"{name}_state")
            if picked:
                raw[name] = picked
            elif state == NONE:
                raw[name] = []
        elif fact.type == "treatments":
            state = one(form, "treatments_state")
            treatments = _treatments(form)
            if treatments:
                raw[name] = treatments
            elif state == NONE:
                raw[name] = []
    return raw


def _treatments(form: Form) -> list[dict[str, Any]]:
    out = []
    for i in range(MAX_ROWS):
        drugs = [d.strip() for d in one(form, f"t{i}_drugs").replace("+", ",").split(",") if d.strip()]
        if not drugs:
            continue
        item: dict[str, Any] = {"drugs": drugs}
        setting = one(form, f"t{i}_setting")
        if setting:
            item["setting"] = setting
        for part, key in (("start", "start_date"), ("end", "end_date")):
            value = one(form, f"t{i}_{part}")
            if value:
                item[key] = value
        ongoing = one(form, f"t{i}_ongoing")
        if ongoing in ("true", "false"):
            item["ongoing"] = ongoing == "true"
        elif ongoing:
            item["ongoing"] = ongoing
        out.append(item)
    return out


def from_profile(kb: KnowledgeBase, raw: dict[str, Any]) -> Form:
    """Profile JSON -> form fields, so answers can be changed after the results."""
    form: Form = {}
    for fact in kb.facts.base:
        value = raw.get(fact.name)
        if value is None:
            continue
        if fact.type == "enum_list" and isinstance(value, list):
            form[fact.name] = [str(v) for v in value]
            form[f"{fact.name}_state"] = [LISTED if value else NONE]
        elif fact.type == "treatments" and isinstance(value, list):
            form["treatments_state"] = [LISTED if value else NONE]
            for i, item in enumerate(value[:MAX_ROWS]):
                if not isinstance(item, dict):
                    continue
                form[f"t{i}_drugs"] = [", ".join(str(d) for d in item.get("drugs") or [])]
                for part, key in (("setting", "setting"), ("start", "start_date"), ("end", "end_date")):
                    if item.get(key) is not None:
                        form[f"t{i}_{part}"] = [str(item[key])]
                if isinstance(item.get("ongoing"), bool):
                    form[f"t{i}_ongoing"] = ["true" if item["ongoing"] else "false"]
            form["t_rows"] = [str(max(len(value), DEFAULT_ROWS))]
        elif isinstance(value, bool):
            form[fact.name] = ["true" if value else "false"]
        else:
            form[fact.name] = [str(value)]
    return form


def topic_of(field_path: str) -> str:
    """The topic whose step asks for a field (``prior_treatments[0].setting`` -> treatments)."""
    root = field_path.split("[")[0].split(".")[0]
    for topic, _, names in TOPICS:
        if root in names:
            return topic
    return TOPICS[0][0]


def hidden_fields(form: Form, exclude_topic: str | None) -> list[tuple[str, str]]:
    """The answers of every other topic, carried as hidden inputs."""
    shown: set[str] = set()
    if exclude_topic is not None:
        names = next(t[2] for t in TOPICS if t[0] == exclude_topic)
        for name in names:
            shown |= {name, f"{name}_state"}
        if exclude_topic == "treatments":
            shown |= {"treatments_state", "t_rows"} | {f"t{i}_{p}" for i in range(MAX_ROWS) for p in TREATMENT_PARTS}
    skip = {"go", "step", "profile"}
    return [(k, v) for k, values in form.items() if k not in shown and k not in skip for v in values if v]
