"""Exported file names: unique without keeping a record per note."""

import pytest

import notes_app.transfer.filenames as filenames
from notes_app.transfer.filenames import UniqueNames


def test_a_later_note_whose_name_is_taken_gets_its_id_compared_without_case() -> None:
    names = UniqueNames()

    handed = [names.name_for(title=title, note_id=n) for n, title in enumerate(["Plan", "plan", "PLAN", "Other"], 1)]

    assert handed == ["Plan.md", "plan (2).md", "PLAN (3).md", "Other.md"]


def test_a_title_that_looks_like_a_name_with_an_id_cannot_take_another_notes_name() -> None:
    names = UniqueNames()

    handed = [
        names.name_for(title="Plan", note_id=1),
        names.name_for(title="Plan (3)", note_id=2),  # would be note 3's name
        names.name_for(title="plan", note_id=3),
    ]

    assert handed == ["Plan.md", "Plan (3) (2).md", "plan (3).md"]


def test_the_same_notes_in_the_same_order_get_the_same_names() -> None:
    titles = [f"note {n % 50}" for n in range(500)]

    first, second = UniqueNames(), UniqueNames()

    assert [first.name_for(title=t, note_id=n) for n, t in enumerate(titles)] == [
        second.name_for(title=t, note_id=n) for n, t in enumerate(titles)
    ]


def test_a_full_filter_only_adds_ids_and_never_repeats_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filenames, "_FILTER_BITS", 16)  # every bit set after a few names
    names = UniqueNames()

    handed = [names.name_for(title=f"t{n % 7}", note_id=n) for n in range(1_000)]

    assert len({name.casefold() for name in handed}) == len(handed)
    assert handed[-1] == "t5 (999).md"
