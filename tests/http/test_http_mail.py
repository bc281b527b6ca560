"""Partners (admin) and the mail quarantine (operations) over HTTP and the CLI."""

from __future__ import annotations

import email.policy
import json
from email.message import EmailMessage

import psycopg
import pytest
from http_support import Api, World, problem_type

from berth import cli
from berth.adapters.mail import inbox


def partner_body(world: World, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Old Travel Ltd",
        "channel": "old-travel",
        "pool_id": world.pool_id,
        "senders": ["res@partner.test", "@partner2.test"],
        "format": {"kind": "csv", "fields": {"reference": "Ref"}},
        "secret": "s3cret",
    }
    body.update(changes)
    return body


def test_an_admin_adds_and_lists_partners_and_the_secret_is_never_shown(
    api: Api, world: World
) -> None:
    created = api.post("/partners", partner_body(world))
    assert created.status_code == 201, created.text
    assert created.json["has_secret"] is True
    assert "s3cret" not in created.text
    assert created.json["senders"] == ["@partner2.test", "res@partner.test"]
    listed = api.get("/partners")
    assert [p["name"] for p in listed.json["partners"]] == ["Old Travel Ltd"]
    assert api.get("/partners", who="operations").status_code == 403


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"senders": ["not an address"]}, 400, "invalid-request"),
        ({"senders": []}, 400, "invalid-request"),
        ({"format": {"kind": "xml"}}, 400, "invalid-request"),
        ({"format": {"kind": "csv", "fields": {"guest": "a\u0007"}}}, 400, "invalid-request"),
        ({"name": "x" * 101}, 400, "invalid-request"),
        ({"pool_id": "00000000-0000-0000-0000-000000000000"}, 404, "unknown-pool"),
    ],
)
def test_a_bad_partner_is_refused_and_nothing_is_stored(
    api: Api, world: World, changes: dict[str, object], status: int, code: str
) -> None:
    answer = api.post("/partners", partner_body(world, **changes))
    assert answer.status_code == status, answer.text
    assert problem_type(answer).endswith(code)
    assert api.get("/partners").json["partners"] == []


def test_a_sender_belongs_to_one_partner(api: Api, world: World) -> None:
    assert api.post("/partners", partner_body(world)).status_code == 201
    again = api.post("/partners", partner_body(world, name="Other", senders=["res@partner.test"]))
    assert again.status_code == 409
    assert problem_type(again).endswith("sender-taken")
    same_name = api.post("/partners", partner_body(world, senders=["x@y.test"]))
    assert problem_type(same_name).endswith("partner-exists")


def _stored(db_url: str, sender: str) -> int:
    message = EmailMessage()
    message["From"] = sender
    message["Message-ID"] = "<q-1@nowhere.test>"
    message["Subject"] = "hello"
    message.set_content("Reference: Q-1\n")
    with psycopg.connect(db_url, autocommit=True) as conn:
        mail_id, _ = inbox.store(
            conn, message.as_bytes(policy=email.policy.SMTP), inlet="test", max_bytes=10_000
        )
        conn.execute(
            "UPDATE mail_inbox SET status = 'quarantined', reason = 'unknown-sender'"
            " WHERE mail_id = %s",
            (mail_id,),
        )
    return mail_id


def test_operations_list_retry_and_reject_quarantined_mail(
    api: Api, world: World, app_db_url: str
) -> None:
    first = _stored(app_db_url, "who@nowhere.test")
    listed = api.get("/mail/quarantine", who="operations")
    assert listed.status_code == 200, listed.text
    [mail] = listed.json["mails"]
    assert (mail["mail_id"], mail["reason"], mail["sender"]) == (
        first,
        "unknown-sender",
        "who@nowhere.test",
    )
    assert api.get("/mail/quarantine", who="web").status_code == 403
    retried = api.post(f"/mail/quarantine/{first}/retry", {}, who="operations")
    assert retried.status_code == 200, retried.text
    assert (retried.json["status"], retried.json["round"]) == ("stored", 2)
    again = api.post(f"/mail/quarantine/{first}/reject", {}, who="operations")
    assert again.status_code == 409
    assert problem_type(again).endswith("not-quarantined")
    missing = api.post("/mail/quarantine/999999/reject", {}, who="operations")
    assert missing.status_code == 404
    for odd in (str(10**30), "abc", "%00", "-1"):
        answer = api.post(f"/mail/quarantine/{odd}/reject", {}, who="operations")
        assert answer.status_code == 404, answer.text
        assert problem_type(answer).endswith("unknown-mail")


def test_the_quarantine_pages_by_cursor(api: Api, world: World, app_db_url: str) -> None:
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        for n in range(3):
            conn.execute(
                "INSERT INTO mail_inbox (scope, message_id, sender, inlet, raw, size, status,"
                " reason) VALUES ('unknown:a@b.test', %s, 'a@b.test', 'test', '', 0,"
                " 'quarantined', 'unknown-sender')",
                (f"<{n}@b.test>",),
            )
    page = api.get("/mail/quarantine", who="operations", params={"limit": 2})
    assert len(page.json["mails"]) == 2
    rest = api.get(
        "/mail/quarantine",
        who="operations",
        params={"limit": 2, "cursor": page.json["next_cursor"]},
    )
    assert len(rest.json["mails"]) == 1
    assert rest.json["next_cursor"] is None


def test_berth_partner_create_and_mail_quarantine(
    db_url: str,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    cli.main(
        [
            "partner",
            "create",
            "Old Travel Ltd",
            "--channel",
            "old-travel",
            "--pool",
            world.pool_id,
            "--sender",
            "res@partner.test",
            "@partner.test",
            "--format",
            "ics",
        ]
    )
    created = json.loads(capsys.readouterr().out)
    assert created["format"]["kind"] == "ics"
    assert created["senders"] == ["@partner.test", "res@partner.test"]
    mail_id = _stored(db_url, "who@nowhere.test")
    cli.main(["mail", "quarantine"])
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["mail_id"], listed["reason"]) == (mail_id, "unknown-sender")
    cli.main(["mail", "reject", str(mail_id)])
    assert json.loads(capsys.readouterr().out)["status"] == "rejected"
    with pytest.raises(SystemExit):
        cli.main(["mail", "retry", str(mail_id)])
    assert "not quarantined" in capsys.readouterr().err
