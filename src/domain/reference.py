"""Short, human-friendly booking references, read out over the phone or typed at a gate."""

import secrets

# Crockford's base 32 without the letters people confuse (I, L, O, U).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8


def new_reference() -> str:
    """Eight characters, about 10^12 possibilities, e.g. `7Q4M2XKD`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
