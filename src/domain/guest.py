"""The guest of a booking: a given name, a family name, and optional e-mail and phone.

Until events of class version 2 a guest had one `name`. Old events are left as
stored and upcast on read (`upcast_guest_v1_v2`), and a command may still give a
guest by `name` (resellers, e-mail partners): both are split by `split_name`,
at the last space, so an old event and a new command with the same name give
the same guest. A single word is a given name with an empty family name
("Madonna" -> "Madonna", ""); "Augusta Ada King" -> "Augusta Ada", "King".
The split is a rule, not a parse of anyone's naming customs: a guest whose
split comes out wrong is amended with `given_name` and `family_name`.
"""

from typing import Any

from berth.domain.bounds import check_text
from berth.domain.error import InvalidCommand

FIELDS = ("given_name", "family_name", "email", "phone")


class InvalidGuest(InvalidCommand):
    code = "invalid-guest"


def split_name(name: str) -> tuple[str, str]:
    """(given name, family name) of a full name, split at its last space."""
    given, _, family = " ".join(name.split()).rpartition(" ")
    return (given, family) if given else (family, "")


def upcast_guest_v1_v2(guest: dict[str, Any]) -> dict[str, Any]:
    """A version 1 guest (`name`) as version 2 (`given_name`, `family_name`); other keys kept."""
    if "name" not in guest:
        return guest
    rest = {key: value for key, value in guest.items() if key != "name"}
    given, family = split_name(str(guest["name"]))
    return {"given_name": given, "family_name": family, **rest}


def check_guest(guest: dict[str, str]) -> dict[str, str]:
    """The guest in the version 2 shape, trimmed; a legacy `name` is split, never both."""
    if "name" in guest and ({"given_name", "family_name"} & guest.keys()):
        raise InvalidGuest("give the guest's `name` or `given_name` and `family_name`, not both")
    checked = {
        key: check_text(value, what=f"the guest's {key}", maximum=254).strip()
        for key, value in upcast_guest_v1_v2(guest).items()
    }
    if not checked.get("given_name"):
        raise InvalidGuest("a guest needs a name")
    checked.setdefault("family_name", "")
    unknown = sorted(checked.keys() - set(FIELDS))
    if unknown:
        raise InvalidGuest(f"a guest has no {', '.join(unknown)}")
    return checked
