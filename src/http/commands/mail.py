"""Partner mail over HTTP: partners (admin) and the quarantine (operations).

GET and POST /partners; GET /mail/quarantine lists quarantined mails with the
reason and each item's outcome; POST /mail/quarantine/{mail_id}/retry processes
one again (after a fix: a partner added, capacity raised), /reject gives up on it.
These change the mail tables, not the event store (a retried mail's commands are
run by the mail worker).
"""

from __future__ import annotations

import falcon

from berth.adapters.mail import inbox, partners
from berth.http.auth import caller
from berth.http.endpoint import ADMIN, OPERATIONS, Endpoint, roles
from berth.http.schemas import mail as schemas
from berth.http.schemas.base import Empty, shared
from berth.http.settings import Services

ADMINS = roles(ADMIN)
OPERATORS = roles(OPERATIONS, ADMIN)


class PartnersResource:
    endpoints = {
        "GET": Endpoint(
            summary="List the partners who book by e-mail, in name order",
            tag="mail",
            roles=ADMINS,
            query=schemas.PartnerListQuery,
            response=schemas.PartnerPage,
        ),
        "POST": Endpoint(
            summary="Add a partner who books by e-mail: its senders, channel, pool and format",
            tag="mail",
            roles=ADMINS,
            body=schemas.CreatePartner,
            response=schemas.Partner,
            status=201,
            errors=(404, 409),
        ),
    }

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        with self.services.pool.connection() as conn:
            found = partners.list_partners(conn, after=query["cursor"], limit=query["limit"] + 1)
        page, more = found[: query["limit"]], len(found) > query["limit"]
        resp.media = shared(schemas.PartnerPage).dump(
            {
                "partners": [p.as_dict() for p in page],
                "next_cursor": page[-1].name if more else None,
            }
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        self.services.reservations.catalogue.pool(body["pool_id"])  # 404 for a pool that is none
        with self.services.pool.connection() as conn:
            partner = partners.create(
                conn,
                name=body["name"],
                channel=body["channel"],
                pool_id=body["pool_id"],
                sender_list=body["senders"],
                format_config=body["format"],
                secret=body["secret"],
                require_dkim=body["require_dkim"],
                dkim_public_key=body["dkim_public_key"],
                principal=caller(req).key.key_id,
            )
        resp.status = falcon.HTTP_201
        resp.location = f"/partners/{partner.partner_id}"
        resp.media = shared(schemas.Partner).dump(partner.as_dict())


def _view(conn: inbox.Connection, mail: inbox.StoredMail) -> dict[str, object]:
    return mail.as_dict() | {"items": [i.as_dict() for i in inbox.items(conn, mail.mail_id)]}


class QuarantineResource:
    endpoints = {
        "GET": Endpoint(
            summary="Quarantined mails, oldest first, with the reason and each item's outcome",
            tag="mail",
            roles=OPERATORS,
            query=schemas.QuarantineQuery,
            response=schemas.QuarantinePage,
        )
    }

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        with self.services.pool.connection() as conn:
            found = inbox.quarantined(conn, after=query["cursor"], limit=query["limit"] + 1)
            page, more = found[: query["limit"]], len(found) > query["limit"]
            mails = [_view(conn, mail) for mail in page]
        resp.media = shared(schemas.QuarantinePage).dump(
            {"mails": mails, "next_cursor": page[-1].mail_id if more else None}
        )


class QuarantineDecisionResource:
    def __init__(self, services: Services, *, retry: bool) -> None:
        self.services = services
        self.decide = inbox.retry if retry else inbox.reject
        summary = (
            "Process a quarantined mail again: its failed items run again, the others stand"
            if retry
            else "Reject a quarantined mail: it is kept, with its reason, and not processed"
        )
        self.endpoints = {
            "POST": Endpoint(
                summary=summary,
                tag="mail",
                roles=OPERATORS,
                body=Empty,
                response=schemas.Mail,
                errors=(404, 409),
            )
        }

    def on_post(self, req: falcon.Request, resp: falcon.Response, mail_id: str) -> None:
        # a mail id is a bigserial: anything else names no mail (and never reaches SQL)
        if not (mail_id.isascii() and mail_id.isdigit() and 0 < len(mail_id) <= 18):
            raise inbox.UnknownMail(f"no mail {mail_id[:40]!r}")
        with self.services.pool.connection() as conn:
            mail = self.decide(conn, int(mail_id), principal=caller(req).key.key_id)
            resp.media = shared(schemas.Mail).dump(_view(conn, mail))


def mail_routes(services: Services) -> list[tuple[str, object]]:
    return [
        ("/partners", PartnersResource(services)),
        ("/mail/quarantine", QuarantineResource(services)),
        (
            "/mail/quarantine/{mail_id}/retry",
            QuarantineDecisionResource(services, retry=True),
        ),
        (
            "/mail/quarantine/{mail_id}/reject",
            QuarantineDecisionResource(services, retry=False),
        ),
    ]
