"""Refresh an encoded trial from its ClinicalTrials.gov record: the metadata the registry owns
(status, phase, conditions) is rewritten in place, leaving every other byte of the file (its
comments, rules and notes) as it was; criteria whose source text the record no longer has,
and statements of the record no criterion quotes, are reported for a curator.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from trialmatch.engine.criteria import Trial, trial_from_document
from trialmatch.engine.draft import PROTOCOL, metadata, registry_criteria
from trialmatch.errors import InputError, Problem
from trialmatch.io.ctgov import Record, split_eligibility, unescape
from trialmatch.io.yamlio import Document, load_document, parse_yaml
from trialmatch.model.vocab import Vocabulary


@dataclass
class Refresh:
    """The refreshed file text, what changed, and what a curator should look at."""

    text: str
    trial: Trial
    changes: list[str] = field(default_factory=list)
    gone: list[Problem] = field(default_factory=list)
    unquoted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def normalised(text: str) -> str:
    """Text compared for "still in the record": case, spacing, bullets and quotes ignored.

    >>> normalised("  * Age  ≥ 18 “years”;") == normalised("age ≥ 18 \\"years\\"")
    True
    """
    t = text.casefold().replace("“", '"').replace("”", '"').replace("’", "'").replace("‘", "'")
    t = re.sub(r"[\s*•·▪◦‣\-–—]+", " ", t)
    return t.strip(" .;:,")


def refresh(
    record: Record, path: Path, vocab: Vocabulary, keep_conditions: bool = False
) -> Refresh:
    """Refresh the criteria file at ``path`` from ``record`` (the same registry id); with
    ``keep_conditions`` a change of conditions is reported, not written."""
    doc = load_document(path)
    trial = trial_from_document(doc, vocab)
    meta = metadata(record, vocab)
    if (trial.registry_id or trial.id) != meta.nct_id:
        raise InputError.single(
            str(path),
            f"this file encodes {trial.registry_id or trial.id}, the record is {meta.nct_id}",
        )
    text = doc.text or ""
    out = Refresh(text, trial, warnings=list(meta.warnings))
    edits: dict[str, tuple[str, str]] = {}  # key -> (old shown, new YAML value)
    if trial.status.value != meta.status:
        edits["status"] = (trial.status.value, meta.status)
    old_phase = trial.phase.value if trial.phase else None
    if meta.phase is not None and old_phase != meta.phase:
        edits["phase"] = (old_phase or "none", f'"{meta.phase}"')
    ids = {vocab.condition_id(c) for c in trial.conditions}
    new_ids = {vocab.condition_id(c) for c in meta.conditions}
    if ids != new_ids and keep_conditions:
        out.warnings.append(
            f"conditions: the registry lists {', '.join(meta.conditions)}; kept "
            f"{', '.join(trial.conditions)} (--keep-conditions)"
        )
    elif ids != new_ids:
        edits["conditions"] = (", ".join(trial.conditions), _flow(meta.conditions))
    if "status" in edits and trial.status_note:
        out.warnings.append(
            f"status_note may no longer hold now that the status is {meta.status}: "
            f"{trial.status_note!r}"
        )
    if "status" in edits and meta.status_note and meta.status_note != trial.status_note:
        out.warnings.append(f"the registry notes on the status: {meta.status_note}")
    out.changes = [f"{k}: {old} -> {_shown(new)}" for k, (old, new) in edits.items()]
    out.text = _splice(text, str(path), edits)
    out.trial = trial_from_document(parse_yaml(out.text, str(path)), vocab)
    _compare_texts(record, doc, trial, out)
    return out


def _flow(value: object) -> str:
    """A value as one line of YAML ("2", [multiple myeloma])."""
    dumped: str = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
    return dumped.removesuffix("\n...\n").strip()


def _shown(value: str) -> str:
    return value.strip("'\"[]")


def _splice(text: str, path: str, edits: dict[str, tuple[str, str]]) -> str:
    """Replace the values of top-level keys in place (a missing key is added after ``type``)."""
    if not edits:
        return text
    edits = dict(edits)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise InputError.single(path, "a criteria file is a mapping")
    spans: dict[str, tuple[int, int]] = {}
    after_type = None
    for key, value in root.value:
        if key.value in edits:  # from after the colon, so a block list stays a block list
            colon = text.index(":", key.end_mark.index)
            end = value.end_mark.index  # a block list ends where the next key starts
            while end > colon + 1 and text[end - 1] in " \t\r\n":
                end -= 1
            spans[key.value] = (colon + 1, end)
            new = edits[key.value][1]
            block = isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value
            if block and new.startswith("["):
                column = value.value[0].start_mark.column - 2
                items = yaml.safe_load(new)
                new = "".join(f"\n{' ' * column}- {_flow(item)}" for item in items)
            else:
                new = " " + new
            edits[key.value] = (edits[key.value][0], new)
        if key.value == "type":
            after_type = value.end_mark.index
    pieces = sorted(
        ((spans[k][0], spans[k][1], new) for k, (_, new) in edits.items() if k in spans),
        reverse=True,
    )
    for start, end, new in pieces:
        text = text[:start] + new + text[end:]
    missing = [k for k in edits if k not in spans]
    if missing:
        if after_type is None:
            raise InputError.single(path, f"no 'type' key to place {', '.join(missing)} after")
        line_end = text.index("\n", after_type) if "\n" in text[after_type:] else len(text)
        added = "".join(f"\n{k}: {edits[k][1].strip()}" for k in missing)
        text = text[:line_end] + added + text[line_end:]
    return text


def _compare_texts(record: Record, doc: Document, trial: Trial, out: Refresh) -> None:
    source = record.get(f"{PROTOCOL}.eligibilityModule.eligibilityCriteria", str) or ""
    statements = split_eligibility(source)
    whole = normalised(unescape(source))
    registry = {c["id"]: c["text"] for c in registry_criteria(record, [])}
    quoted: list[str] = []
    for section in ("inclusion", "exclusion"):
        for i, crit in enumerate(getattr(trial, section)):
            if crit.id in registry:
                if normalised(registry[crit.id]) != normalised(crit.text):
                    out.gone.append(
                        doc.problem(
                            (section, i, "text"),
                            f"{crit.id}: the registry now says {registry[crit.id]!r}",
                        )
                    )
                continue
            wanted = normalised(crit.text)
            quoted.append(wanted)
            if wanted and wanted not in whole:
                out.gone.append(
                    doc.problem(
                        (section, i, "text"),
                        f"{crit.id}: its source text no longer appears in the record",
                    )
                )
    out.unquoted = [
        f"{s.section or 'unheaded'} {s.number}: {s.text}"
        for s in statements
        if not any(normalised(s.text) in q or q in normalised(s.text) for q in quoted if q)
    ]


def describe(changes: Sequence[str]) -> str:
    """One line for the metadata changes ("status: unknown -> recruiting; phase: ...")."""
    return "; ".join(changes) if changes else "metadata up to date"
