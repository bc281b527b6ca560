"""Search text is folded the same way wherever it comes from."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from berth.projections.search_text import fold, guest_email, guest_name


def test_case_accents_and_spacing_do_not_count() -> None:
    assert fold("  Zoë  O'Brien ") == fold("ZOE o'brien") == "zoe o'brien"
    assert fold("Ångström") == "angstrom"
    assert fold("Straße") == "strasse"
    assert fold("ﬁne") == "fine"  # a ligature, by compatibility decomposition
    assert fold("Søren Łukasz Æsir") == "soren lukasz aesir"  # letters NFKD keeps


def test_a_guest_of_either_shape_folds_its_name_and_email() -> None:
    assert guest_name({"given_name": "Zoë", "family_name": "Ångström"}) == "zoe angstrom"
    assert guest_name({"given_name": "Cher", "family_name": ""}) == "cher"
    assert guest_name({"name": "Ada Lovelace"}) == "ada lovelace"
    assert guest_email({"given_name": "A", "email": "A@B.Example"}) == "a@b.example"
    assert guest_email({"given_name": "A"}) == ""


@given(st.text(max_size=50))
def test_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
