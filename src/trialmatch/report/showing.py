"""``trialmatch show``: a trial's criteria with source text, encoding and coverage."""

from __future__ import annotations

from trialmatch.engine.criteria import (
    LoadedTrial,
    coverage,
)
from trialmatch.engine.evaluate import encoding_of
from trialmatch.io.printable import printable


def render_trial(loaded: LoadedTrial, width: int | None = None) -> str:
    """Plain-text description of a trial and every criterion, ``width`` columns at most
    (default: the terminal's); long text wraps with a hanging indent, ids are never cut.

    >>> from trialmatch.engine.criteria import load_catalogue
    >>> text = render_trial(load_catalogue()[0], width=80)
    >>> "computable" in text, max(map(len, text.splitlines())) <= 80
    (True, True)
    """
    from trialmatch.report.contract import criteria_file_name
    from trialmatch.report.wrapping import hanging, terminal_width

    width = width or terminal_width()
    t = loaded.trial
    out = hanging(f"{printable(t.id, keep_newlines=False)}: ", t.title, width, indent=4)
    meta = [
        ("registry id", t.registry_id),
        ("type", t.type.value),
        ("phase", t.phase.value if t.phase else None),
        ("status", t.status.value),
        ("status note", t.status_note),
        ("conditions", ", ".join(t.conditions)),
        ("sponsor", t.sponsor),
        ("intervention", t.intervention),
        ("dose", t.dose),
        ("start", t.start_date),
        ("completion", t.completion_date),
        ("source", t.source.document + (f" ({t.source.seed})" if t.source.seed else "")),
        ("criteria file", f"{criteria_file_name(loaded.path)} sha256:{loaded.sha256[:12]}"),
        *(("note", note) for note in t.notes),
    ]
    label = max(len(k) for k, _ in meta) + 2
    for k, v in meta:
        if v:
            out += hanging(f"  {k + ':':<{label}}", v, width)
    for kind, crits in (("Inclusion", t.inclusion), ("Exclusion", t.exclusion)):
        out += ["", f"{kind} criteria ({len(crits)})"]
        for c in crits:
            out.append(f"- {printable(c.id, keep_newlines=False)}")
            out += hanging("    source:   ", c.text, width)
            out += hanging("    encoding: ", encoding_of(c), width)
            if c.note:
                out += hanging("    note:     ", c.note, width)
    out += [""]
    out += hanging("", f"Coverage: {coverage(t).describe()}", width)
    return "\n".join(line.rstrip() for line in out) + "\n"
