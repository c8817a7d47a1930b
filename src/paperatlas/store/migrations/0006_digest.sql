-- Email digests (issue 8): subscribers with double opt-in, what they follow, the send ledger that makes each
-- (subscriber, period) go out exactly once, the papers each subscriber was already sent, and rate-limit events.

CREATE TABLE digest_subscribers (
    id {pk},
    email TEXT NOT NULL UNIQUE,            -- normalized by email-validator (domain lower-cased)
    frequency TEXT NOT NULL DEFAULT 'daily', -- 'daily' or 'weekly'
    status TEXT NOT NULL DEFAULT 'pending',  -- 'pending' (not confirmed), 'confirmed', 'unsubscribed'
    nonce TEXT NOT NULL,                   -- random, signed into every token: binds tokens to this row
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    unsubscribed_at TEXT,
    confirmation_sent_at TEXT,
    modified_at TEXT NOT NULL
);
CREATE INDEX digest_subscribers_status ON digest_subscribers (status, frequency);

-- What a subscriber follows: kind 'author' (identities.aid), 'category' (arXiv category) or 'query' (saved search).
CREATE TABLE digest_follows (
    subscriber_id {int} NOT NULL REFERENCES digest_subscribers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, kind, value)
);

-- The send ledger.  state: 'pending' (claimed, content fixed, DATA never started), 'attempting' (committed right
-- before DATA: the server may or may not have accepted), 'sent', 'failed' (permanent), 'empty' (nothing to send).
CREATE TABLE digest_sends (
    subscriber_id {int} NOT NULL REFERENCES digest_subscribers (id) ON DELETE CASCADE,
    period TEXT NOT NULL,                  -- '2025-12-16' (daily) or '2025-W51' (weekly)
    state TEXT NOT NULL,
    message_id TEXT NOT NULL,              -- deterministic per (subscriber, period): a re-send is the same message
    paper_ids TEXT NOT NULL,               -- JSON: the content snapshot, so a re-send is byte-for-byte the same
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT,
    PRIMARY KEY (subscriber_id, period)
);
CREATE INDEX digest_sends_state ON digest_sends (state);

-- Papers a subscriber has been sent (recorded with the 'sent' mark): no paper is mailed to anyone twice.
CREATE TABLE digest_sent_papers (
    subscriber_id {int} NOT NULL REFERENCES digest_subscribers (id) ON DELETE CASCADE,
    paper_id {int} NOT NULL,
    period TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, paper_id)
);

-- Rate-limit events: scope 'address' or 'ip', key the address / IP, action what was done ('subscribe', 'mail').
CREATE TABLE digest_rate_events (
    id {pk},
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    action TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX digest_rate_events_key ON digest_rate_events (scope, key, action, at);
