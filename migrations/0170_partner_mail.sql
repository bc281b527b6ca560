-- E-mail ingress for legacy partners (berth.adapters.mail).
--   mail_partners        who may book by mail: senders, channel, pool, format, secret, DKIM
--   mail_inbox           every received message, raw, stored before anything else is done
--   mail_items           each booking in a message and its outcome (written in the command's
--                        transaction), so a crash or a retry never runs a command twice
--   mail_partner_refs    a partner's own booking reference -> our booking, scoped to the partner
--   mail_outbox          replies to send, written with the message's outcome

CREATE TABLE mail_partners (
    partner_id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    channel text NOT NULL,
    pool_id uuid NOT NULL,
    senders text[] NOT NULL,              -- addresses (a@b.example) or domains (@b.example)
    format jsonb NOT NULL,                -- berth.domain.partner_mail.formats.MailFormat
    secret_sha256 text,                   -- hex sha256 of the shared secret, if one is required
    require_dkim boolean NOT NULL DEFAULT false,
    dkim_public_key text,                 -- pinned key (base64 p= value); else DNS
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mail_inbox (
    mail_id bigserial PRIMARY KEY,
    scope text NOT NULL,                  -- the partner's id, or unknown:<sender>
    message_id text NOT NULL,
    partner_id uuid REFERENCES mail_partners (partner_id),
    sender text NOT NULL,
    subject text NOT NULL DEFAULT '',
    inlet text NOT NULL CHECK (inlet IN ('smtp', 'imap', 'test')),
    raw bytea NOT NULL,
    size integer NOT NULL,
    status text NOT NULL DEFAULT 'stored'
        CHECK (status IN ('stored', 'processed', 'quarantined', 'rejected')),
    reason text,
    detail text,
    round integer NOT NULL DEFAULT 1,
    received_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    decided_by text,
    UNIQUE (scope, message_id)
);

CREATE INDEX mail_inbox_stored_idx ON mail_inbox (mail_id) WHERE status = 'stored';
CREATE INDEX mail_inbox_quarantined_idx ON mail_inbox (mail_id) WHERE status = 'quarantined';

CREATE TABLE mail_items (
    mail_id bigint NOT NULL REFERENCES mail_inbox (mail_id),
    item integer NOT NULL,
    partner_reference text NOT NULL DEFAULT '',
    action text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('booked', 'amended', 'cancelled', 'duplicate',
                                             'refused', 'invalid')),
    code text NOT NULL DEFAULT '',
    message text NOT NULL DEFAULT '',
    booking_id uuid,
    booking_version integer,              -- the booking as this item left it (for the reply)
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mail_id, item)
);

CREATE TABLE mail_partner_refs (
    partner_id uuid NOT NULL REFERENCES mail_partners (partner_id),
    partner_reference text NOT NULL,
    booking_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, partner_reference)
);

CREATE TABLE mail_outbox (
    reply_id bigserial PRIMARY KEY,
    mail_id bigint NOT NULL REFERENCES mail_inbox (mail_id),
    round integer NOT NULL,
    recipient text NOT NULL,
    message bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    sent_at timestamptz,
    UNIQUE (mail_id, round)
);

CREATE INDEX mail_outbox_unsent_idx ON mail_outbox (reply_id) WHERE sent_at IS NULL;
