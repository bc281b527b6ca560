"""/webhooks: third parties subscribe to what happens to bookings, see deliveries, replay.

Subscriptions are tenant data in their own tables (`berth.adapters.webhooks`),
not events. An admin key manages every subscription; a booking key only its
own channel's (another channel's is not found), and its subscriptions hear of
its channel's bookings only. The signing secret is in the creating answer only,
so POST takes no `Idempotency-Key` (a stored answer would keep it), like API keys.
`POST /webhooks/{id}/secret` (in the command table) answers a new secret the same
way, once; the one before keeps signing for the grace asked.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon

from berth.adapters.webhooks import deliveries, subscriptions
from berth.http.auth import caller
from berth.http.commands.resource import CommandResource
from berth.http.endpoint import ADMIN, BOOKING, Endpoint, roles
from berth.http.schemas import webhooks as schemas
from berth.http.schemas.base import Empty, shared
from berth.http.settings import Services, Settings

SUBSCRIBERS = roles(ADMIN, BOOKING)
TAG = "webhooks"


def _scope(req: falcon.Request) -> str | None:
    """The channel a booking key acts for; None for an admin (every channel)."""
    who = caller(req)
    return who.key.scope if who.role == BOOKING else None


def _shown(conn: Any, subscription: subscriptions.Subscription) -> dict[str, Any]:
    counts = deliveries.counts(conn, subscription.subscription_id)
    return subscription.as_dict() | {"deliveries": counts}


class _WebhookResource:
    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.settings = settings

    def _shown(self, conn: Any, subscription: subscriptions.Subscription) -> dict[str, Any]:
        return _shown(conn, subscription)


class WebhooksResource(_WebhookResource):
    endpoints = {
        "GET": Endpoint(
            summary="List webhook subscriptions (a booking key: its channel's), in id order",
            tag=TAG,
            roles=SUBSCRIBERS,
            query=schemas.WebhookListQuery,
            response=schemas.WebhookPage,
        ),
        "POST": Endpoint(
            summary="Subscribe a URL to booking events; the signing secret is in this answer only",
            tag=TAG,
            roles=SUBSCRIBERS,
            body=schemas.CreateWebhook,
            response=schemas.WebhookWithSecret,
            status=201,
        ),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        with self.services.pool.connection() as conn:
            found = subscriptions.list_page(
                conn, scope=_scope(req), after=query["cursor"], limit=query["limit"] + 1
            )
            page, more = found[: query["limit"]], len(found) > query["limit"]
            shown = [self._shown(conn, s) for s in page]
        resp.media = shared(schemas.WebhookPage).dump(
            {"webhooks": shown, "next_cursor": page[-1].subscription_id if more else None}
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        with self.services.pool.connection() as conn:
            created, secret = subscriptions.create(
                conn,
                scope=_scope(req),
                channel=body["channel"],
                url=body["url"],
                event_types=body["event_types"],
                description=body["description"],
                principal=caller(req).key.key_id,
                private_ok=self.settings.webhooks_allow_private,
            )
            shown = self._shown(conn, created)
        resp.status = falcon.HTTP_201
        resp.location = f"/webhooks/{created.subscription_id}"
        resp.media = shared(schemas.WebhookWithSecret).dump(shown | {"secret": secret})


class WebhookResource(_WebhookResource):
    endpoints = {
        "GET": Endpoint(
            summary="A webhook subscription: its state (disabled after failing), position, counts",
            tag=TAG,
            roles=SUBSCRIBERS,
            response=schemas.Webhook,
            errors=(404,),
        ),
        "PATCH": Endpoint(
            summary="Change a subscription's URL, event types, description, or pause/resume it",
            tag=TAG,
            roles=SUBSCRIBERS,
            body=schemas.UpdateWebhook,
            response=schemas.Webhook,
            errors=(404,),
        ),
        "DELETE": Endpoint(
            summary="Remove a subscription and its delivery log",
            tag=TAG,
            roles=SUBSCRIBERS,
            status=204,
            errors=(404,),
        ),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, subscription_id: UUID) -> None:
        with self.services.pool.connection() as conn:
            found = subscriptions.get(conn, subscription_id, scope=_scope(req))
            resp.media = shared(schemas.Webhook).dump(self._shown(conn, found))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, subscription_id: UUID) -> None:
        with self.services.pool.connection() as conn:
            changed = subscriptions.update(
                conn,
                subscription_id,
                scope=_scope(req),
                changes=dict(req.context.body),
                private_ok=self.settings.webhooks_allow_private,
            )
            resp.media = shared(schemas.Webhook).dump(self._shown(conn, changed))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, subscription_id: UUID) -> None:
        with self.services.pool.connection() as conn:
            subscriptions.delete(conn, subscription_id, scope=_scope(req))
        resp.status = falcon.HTTP_204


class DeliveriesResource(_WebhookResource):
    endpoints = {
        "GET": Endpoint(
            summary="A subscription's deliveries, newest first: status, response code, latency,"
            " attempts, the answer's first bytes",
            tag=TAG,
            roles=SUBSCRIBERS,
            query=schemas.DeliveryListQuery,
            response=schemas.DeliveryPage,
            errors=(404,),
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, subscription_id: UUID) -> None:
        query = req.context.query
        with self.services.pool.connection() as conn:
            subscriptions.get(conn, subscription_id, scope=_scope(req))
            found = deliveries.log_page(
                conn, subscription_id, before=query["cursor"], limit=query["limit"] + 1,
                status=query["status"],
            )  # fmt: skip
        page, more = found[: query["limit"]], len(found) > query["limit"]
        resp.media = shared(schemas.DeliveryPage).dump(
            {
                "deliveries": [d.as_dict() for d in page],
                "next_cursor": page[-1].seq if more else None,
            }
        )


class ReplayResource(_WebhookResource):
    endpoints = {
        "POST": Endpoint(
            summary="Send again every wanted event from `from_position` on (same webhook ids)",
            tag=TAG,
            roles=SUBSCRIBERS,
            query=schemas.ReplayQuery,
            body=Empty,
            response=schemas.Webhook,
            status=202,
            errors=(404,),
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: UUID) -> None:
        with self.services.pool.connection() as conn:
            moved = subscriptions.replay(
                conn, subscription_id, scope=_scope(req),
                from_position=req.context.query["from_position"],
            )  # fmt: skip
            resp.media = shared(schemas.Webhook).dump(self._shown(conn, moved))
        resp.status = falcon.HTTP_202


class PingResource(_WebhookResource):
    endpoints = {
        "POST": Endpoint(
            summary="Queue a signed `webhook.ping` to the subscription's URL (see its deliveries)",
            tag=TAG,
            roles=SUBSCRIBERS,
            body=Empty,
            response=schemas.Ping,
            status=202,
            errors=(404,),
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: UUID) -> None:
        with self.services.pool.connection() as conn:
            identity = deliveries.ping(
                conn, subscription_id, scope=_scope(req),
                correlation_id=req.context.correlation_id, now=self.services.clock(),
            )  # fmt: skip
        resp.status = falcon.HTTP_202
        resp.media = shared(schemas.Ping).dump({"webhook_id": identity, "status": "pending"})


class RotateSecretResource(CommandResource):
    """POST /webhooks/{id}/secret: a new signing secret, in this answer only."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: UUID) -> None:
        with self.services.pool.connection() as conn:
            rotated, secret = subscriptions.rotate_secret(
                conn, subscription_id, scope=_scope(req),
                grace_seconds=req.context.body["grace_seconds"],
                principal=caller(req).key.key_id,
            )  # fmt: skip
            shown = _shown(conn, rotated)
        resp.media = shared(schemas.WebhookWithSecret).dump(shown | {"secret": secret})


def webhook_routes(services: Services, settings: Settings) -> list[tuple[str, object]]:
    item = "/webhooks/{subscription_id:uuid}"
    return [
        ("/webhooks", WebhooksResource(services, settings)),
        (item, WebhookResource(services, settings)),
        (f"{item}/deliveries", DeliveriesResource(services, settings)),
        (f"{item}/replay", ReplayResource(services, settings)),
        (f"{item}/ping", PingResource(services, settings)),
    ]
