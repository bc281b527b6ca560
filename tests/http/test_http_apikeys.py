"""`berth apikey create` prints a token once; only its hash is stored, and it opens the API."""

from __future__ import annotations

import json

import psycopg
import pytest
from falcon import testing

from berth import cli
from berth.adapters.postgres import apikeys
from berth.http import Services, Settings, create_app


def test_a_created_key_authenticates_and_only_its_hash_is_stored(
    db_url: str,
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    cli.main(["apikey", "create", "--role", "booking", "--scope", "web", "--label", "site"])
    printed = json.loads(capsys.readouterr().out)
    token = printed["token"]
    assert token.startswith(f"berth_{printed['key_id']}_")
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT secret_hash, role, scope, label FROM api_keys").fetchone()
    assert row is not None
    secret = token.split("_", 2)[2]
    assert row == (apikeys.hash_secret(secret), "booking", "web", "site")
    assert secret not in json.dumps(row)
    client = testing.TestClient(create_app(settings, services))
    answer = client.simulate_get("/bookings", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


def test_a_booking_key_needs_a_channel(db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["apikey", "create", "--role", "booking"])
    assert stopped.value.code == 1
