"""Text folded for search: case, accents and spacing do not count.

`fold("  Zoë  O'Brien ")` and `fold("ZOE o'brien")` are both `zoe o'brien`:
compatibility decomposition (NFKD), combining marks dropped, case folded, the
Latin letters that do not decompose written plainly (ø o, æ ae, ł l, ...),
runs of white space made one space. The bookings projection stores the folded
guest name and e-mail; a search folds its terms the same way, so both sides
agree whatever the database's collation.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

# Letters with a stroke or ligatures, which NFKD leaves as they are (after case folding).
_PLAIN = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "đ": "d", "ł": "l", "þ": "th", "\u0131": "i",
     "ħ": "h", "ŧ": "t", "ŋ": "n"}
)  # fmt: skip


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().translate(_PLAIN).split())


def guest_name(guest: Mapping[str, str]) -> str:
    """A guest's folded name: given and family name (or a first-shape `name`)."""
    parts = (guest.get("given_name"), guest.get("family_name")) if "name" not in guest else ()
    name = " ".join(p for p in parts if p) or guest.get("name", "")
    return fold(name)


def guest_email(guest: Mapping[str, str]) -> str:
    return fold(guest.get("email") or "")
