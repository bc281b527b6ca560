"""Berth's HTTP API: Falcon commands and queries, served by gunicorn (see `berth.http.wsgi`)."""

from berth.http.app import create_app
from berth.http.settings import Services, Settings

__all__ = ["Services", "Settings", "create_app"]
