"""Vehicle plates as cameras and people write them, normalised for matching."""

import re

_SEPARATORS = re.compile(r"[\s\-\.·_/]+")


def normalise_plate(text: str) -> str:
    """`ab-123 c`, `AB 123C` and `AB.123.C` all become `AB123C`."""
    return _SEPARATORS.sub("", text).upper()
