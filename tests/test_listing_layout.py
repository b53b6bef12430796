"""`trials` and `show` on a real terminal width: no line longer than the width, every trial
id whole, long text wrapped with a hanging indent, data shown literally."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trialmatch.engine.criteria import load_catalogue
from trialmatch.report.listing import find_trials, render_table
from trialmatch.report.showing import render_trial

from .conftest import CRITERIA

TRIALS = load_catalogue()
IDS = [t.trial.id for t in TRIALS]


def _fits(text: str, width: int) -> None:
    lines = text.splitlines()
    too_long = [line for line in lines if len(line) > width]
    assert not too_long, too_long
    assert all(line == line.rstrip() for line in lines)


@pytest.mark.parametrize("width", [80, 120])
def test_trials_fit_the_width_and_every_id_is_whole(width: int) -> None:
    text = render_table(find_trials(TRIALS), width=width)
    _fits(text, width)
    lines = text.splitlines()
    heads = [line for line in lines if not line.startswith(" ")][:-1]
    assert [h.split()[0] for h in heads] == IDS  # one head line per trial, the id first
    assert lines[-1] == f"{len(IDS)} trials"
    for t in TRIALS:  # the title is all there, wrapped under the head line
        words = " ".join(line.strip() for line in lines)
        assert t.trial.title in words


def test_trials_continuation_lines_hang_under_the_text() -> None:
    text = render_table(find_trials(TRIALS), width=80)
    harmony = text.split("\n")[:3]
    assert harmony[0].startswith("HARMONY-DEL5Q-LEN-DISC  phase n/a  completed")
    assert harmony[1].startswith("    Transfusion independence")
    assert harmony[2].startswith("    del(5q)")  # the title's second line, same indent


def test_trials_columns_line_up() -> None:
    heads = [line for line in render_table(find_trials(TRIALS), width=120).splitlines()
             if line[:1].isalnum() and not line.endswith("trials")]
    starts = {line.index("phase") for line in heads}
    assert starts == {len("HARMONY-DEL5Q-LEN-DISC  ")}


def test_trials_on_a_narrow_terminal_keep_the_id_whole() -> None:
    text = render_table(find_trials(TRIALS), width=40)
    _fits(text, 40)
    assert "HARMONY-DEL5Q-LEN-DISC  phase n/a" in text


def test_empty_listing_says_so() -> None:
    assert render_table([], width=80) == "no matching trials\n"


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("trial", TRIALS, ids=IDS)
def test_show_fits_the_width_with_ids_whole(trial, width: int) -> None:
    text = render_trial(trial, width=width)
    _fits(text, width)
    lines = text.splitlines()
    assert lines[0].startswith(f"{trial.trial.id}: ")
    ids = [line[2:] for line in lines if line.startswith("- ")]
    assert ids == [c.id for _, c in trial.trial.criteria]
    assert f"criteria file: {trial.trial.id}.yaml sha256:" in " ".join(lines)  # no install path
    assert "/" not in next(line for line in lines if "criteria file:" in line)


def test_show_wraps_source_text_with_a_hanging_indent() -> None:
    trial = next(t for t in TRIALS if t.trial.id == "NCT01421927")
    lines = render_trial(trial, width=80).splitlines()
    donor = lines.index("- inc-donor")
    assert lines[donor + 1].startswith("    source:   HLA related or unrelated donor")
    assert lines[donor + 2].startswith(" " * 14) and lines[donor + 2][14] != " "
    joined = " ".join(line.strip() for line in lines[donor + 1:donor + 3])
    assert joined.startswith("source:   HLA related or unrelated donor (matched 10/10 or")


def test_wider_terminal_gives_fewer_lines() -> None:
    trial = TRIALS[0]
    assert len(render_trial(trial, width=120).splitlines()) < len(
        render_trial(trial, width=80).splitlines()
    )


def test_cli_follows_the_terminal_width(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    for width in (80, 120):
        monkeypatch.setenv("COLUMNS", str(width))
        assert shutil.get_terminal_size().columns == width
        for args in (["trials"], ["show", "NCT01421927"]):
            run = cli(args)
            assert run.code == 0, run.stderr
            _fits(run.stdout, width)


def test_control_characters_in_data_are_shown_as_escapes(tmp_path: Path) -> None:
    src = (CRITERIA / "NCT02538198.yaml").read_text("utf-8")
    title = next(line for line in src.splitlines() if line.startswith("title:"))
    (tmp_path / "NCT02538198.yaml").write_text(
        src.replace(title, 'title: "Evil \\e[31m[bold]red[/bold] title"'), "utf-8"
    )
    (trial,) = load_catalogue(tmp_path)
    for text in (render_trial(trial, width=80), render_table(find_trials([trial]), width=80)):
        assert "\x1b" not in text
        assert "Evil \\x1b[31m[bold]red[/bold] title" in text
