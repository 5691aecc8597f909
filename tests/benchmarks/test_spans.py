"""The multi-line benchmark's items: real spans of whole lines, both request forms, splice back exactly."""

from __future__ import annotations

from _scoring import exact, similarity
from _spans import FORMS, build, humaneval_spans
from multiline_infill import trim_at_suffix


def test_every_item_splices_back_into_its_source() -> None:
    items = build(8)
    assert {it.span.set for it in items} == {"humaneval", "repo"}
    for it in items:
        assert 2 <= it.span.end - it.span.start <= 12
        whole = "".join(it.span.lines)
        assert (it.prefix + it.truth + it.suffix) in whole


def test_the_two_forms_ask_at_a_line_boundary_and_on_an_empty_line() -> None:
    items = build(10)
    first = next(i for i, it in enumerate(items) if it.form == "boundary" and not it.suffix.startswith("\n"))
    by_form = {it.form: it for it in items[first : first + 2]}
    assert set(by_form) == set(FORMS)
    boundary, empty = by_form["boundary"], by_form["empty-line"]
    assert boundary.prefix.endswith("\n") and boundary.truth.endswith("\n") and not boundary.suffix.startswith("\n")
    assert empty.suffix.startswith("\n") and not empty.truth.endswith("\n")
    assert empty.prefix.rsplit("\n", 1)[-1].strip() == ""  # only the indentation is typed
    assert boundary.prefix + boundary.truth == empty.prefix + empty.truth + "\n"


def test_humaneval_spans_keep_the_problem_tests() -> None:
    spans = humaneval_spans(5)
    assert len(spans) == 5 and all(s.test and s.entry_point for s in spans)
    assert len({s.id for s in spans}) == 5


def test_the_anchor_is_trimmed_where_it_repeats_the_suffix() -> None:
    item = next(it for it in build(2) if it.form == "boundary")
    following = next(ln for ln in item.suffix.split("\n") if ln.strip())
    assert trim_at_suffix(item.truth + following + "\nmore\n", item) == item.truth
    assert trim_at_suffix("    x = 1", item) == "    x = 1\n"  # whole lines at a boundary


def test_scores_ignore_trailing_spaces_and_blank_ends() -> None:
    assert exact("  a = 1  \n\n", "  a = 1")
    assert similarity("abc", "abc") == 1.0 and similarity("abc", "xyz") == 0.0
