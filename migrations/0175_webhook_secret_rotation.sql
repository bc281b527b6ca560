-- Webhook secret rotation: a subscription's secret can be replaced while the one
-- before stays valid for a grace, so a receiver can switch without losing a delivery.
--
-- During the grace (until previous_valid_until) each delivery is signed with both
-- secrets (two `v1,<sig>` entries in webhook-signature); after it, with the new one
-- only. Who rotated it last, and when, is kept beside created_by.

ALTER TABLE webhook_subscriptions
    ADD COLUMN previous_secret text,             -- the secret before the last rotation
    ADD COLUMN previous_valid_until timestamptz, -- it signs deliveries until then too
    ADD COLUMN secret_rotated_at timestamptz,
    ADD COLUMN secret_rotated_by text,
    ADD CONSTRAINT webhook_subscriptions_previous_secret_ends
        CHECK ((previous_secret IS NULL) = (previous_valid_until IS NULL));
