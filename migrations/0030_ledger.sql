-- The ledger projection: a double-entry journal posted from booking, pool, facility,
-- business-day and reversal events, and the state its posting rules need. All of it
-- is written with the projection's position, in one transaction per page.

-- One row per line. amount is signed: debit positive, credit negative; every
-- entry's lines sum to zero. Entry ids are uuid5 of (position, seq), so a rebuild
-- posts the same ids.
CREATE TABLE ledger_journal (
    entry_id uuid NOT NULL,
    line_no smallint NOT NULL,
    facility_id uuid NOT NULL,
    kind text NOT NULL,                          -- confirmation, payment, recognition, ...
    account text NOT NULL,
    amount bigint NOT NULL CHECK (amount <> 0),
    currency text NOT NULL,
    business_date date NOT NULL,                 -- facility-local date of the event (or the closed day)
    posted_at timestamptz NOT NULL,              -- the causing event's timestamp
    stream_id uuid NOT NULL,                     -- the causing event: aggregate, version, position
    version integer NOT NULL,
    position bigint NOT NULL,
    seq integer NOT NULL,                        -- the entry's index among its event's entries
    booking_id uuid,
    reverses uuid,                               -- the entry a reversal negates
    description text NOT NULL,
    PRIMARY KEY (entry_id, line_no)
);

CREATE INDEX ledger_journal_order_idx ON ledger_journal (position, seq, line_no);
CREATE INDEX ledger_journal_facility_order_idx ON ledger_journal (facility_id, position, seq, line_no);
CREATE INDEX ledger_journal_facility_date_idx ON ledger_journal (facility_id, business_date);
CREATE INDEX ledger_journal_booking_idx ON ledger_journal (booking_id) WHERE booking_id IS NOT NULL;

CREATE TABLE ledger_facilities (
    facility_id uuid PRIMARY KEY,
    time_zone text NOT NULL,
    currency text
);

CREATE TABLE ledger_pools (
    pool_id uuid PRIMARY KEY,
    facility_id uuid NOT NULL,
    tax_rate_bp integer NOT NULL DEFAULT 0
);

-- Each booking's terms, status and sub-ledger (signed balance per account).
CREATE TABLE ledger_bookings (
    booking_id uuid PRIMARY KEY,
    facility_id uuid NOT NULL,
    pool_id uuid NOT NULL,
    reference text NOT NULL,
    status text NOT NULL,
    arrival date NOT NULL,
    departure date NOT NULL,
    total bigint NOT NULL,
    currency text NOT NULL,
    time_zone text NOT NULL,
    balances jsonb NOT NULL,                     -- account -> signed balance
    recognised date[] NOT NULL DEFAULT '{}'      -- nights moved to revenue
);

CREATE INDEX ledger_bookings_facility_stay_idx ON ledger_bookings (facility_id, arrival, departure);

CREATE TABLE ledger_closed_days (
    facility_id uuid NOT NULL,
    business_date date NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (facility_id, business_date)
);
