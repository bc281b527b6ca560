"""Files Berth ships beside its code: the SQL migrations and the Procfile.

A wheel carries them inside the package (``berth/migrations/``, ``berth/Procfile``,
copied there at build time by ``setup.py``); a checkout (an editable install,
the tests) keeps them at the top of the repository, where new ones are added.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def packaged(name: str) -> Path:
    """The shipped file or directory ``name``: the installed package's, else the checkout's."""
    installed = Path(str(resources.files("berth") / name))
    if installed.exists():
        return installed
    return Path(__file__).resolve().parent.parent / name
