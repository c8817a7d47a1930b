-- Readers (issue 21): accounts signed in by e-mail link, their sessions and API tokens, upvotes, libraries,
-- follows, and claims of author profiles.  Numbered 0021 (the issue) so parallel branches never collide; gaps in
-- the numbering are harmless (migrations apply in order, each once).
-- Secrets (sign-in links, session cookies, API tokens) are stored only as SHA-256 hashes: a copy of the store
-- does not let anyone sign in.

CREATE TABLE reader_accounts (
    id {pk},
    email TEXT NOT NULL UNIQUE,            -- normalized (email-validator, lower-cased)
    role TEXT NOT NULL DEFAULT 'reader',   -- 'reader' or 'operator'
    display_name TEXT,
    created_at TEXT NOT NULL,
    last_signin_at TEXT
);

CREATE TABLE reader_signin_links (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    next_path TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT                           -- single use: set once, atomically, by the first sign-in
);
CREATE INDEX reader_signin_links_email ON reader_signin_links (email, created_at);

CREATE TABLE reader_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id {int} NOT NULL REFERENCES reader_accounts (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,                    -- the session's form token (double-submit cookie, bound to the session)
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX reader_sessions_account ON reader_sessions (account_id);

CREATE TABLE reader_api_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id {int} NOT NULL REFERENCES reader_accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX reader_api_tokens_account ON reader_api_tokens (account_id);

-- Rate-limit events: scope 'address', 'client' or 'account'; action 'signin', 'vote'...
CREATE TABLE reader_rate_events (
    id {pk},
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    action TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX reader_rate_events_key ON reader_rate_events (scope, key, action, at);

-- One upvote per account per paper.  client_key (a keyed hash of the client address) lets trending count one
-- vote per client and paper, so one machine cannot inflate a paper with many accounts.
CREATE TABLE reader_votes (
    account_id {int} NOT NULL REFERENCES reader_accounts (id) ON DELETE CASCADE,
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    client_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, paper_id)
);
CREATE INDEX reader_votes_paper ON reader_votes (paper_id, client_key);
CREATE INDEX reader_votes_created ON reader_votes (created_at);

CREATE TABLE reader_collections (
    id {pk},
    account_id {int} NOT NULL REFERENCES reader_accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    share_token TEXT UNIQUE,               -- set: anyone with the link may read it; NULL: private
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE reader_collection_items (
    collection_id {int} NOT NULL REFERENCES reader_collections (id) ON DELETE CASCADE,
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (collection_id, paper_id)
);

-- kind 'author' (identities.aid), 'category' (arXiv code) or 'query' (saved search)
CREATE TABLE reader_follows (
    account_id {int} NOT NULL REFERENCES reader_accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, value)
);

CREATE TABLE reader_claims (
    id {pk},
    account_id {int} NOT NULL REFERENCES reader_accounts (id) ON DELETE CASCADE,
    aid TEXT NOT NULL,
    status TEXT NOT NULL,                  -- 'pending', 'approved', 'rejected', 'revoked'
    method TEXT,                           -- 'domain' (automatic) or 'operator'
    evidence TEXT,                         -- why it was approved or queued, for the operator
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT
);
CREATE INDEX reader_claims_aid ON reader_claims (aid, status);
CREATE INDEX reader_claims_account ON reader_claims (account_id);

-- What a verified owner set on their profile (display name, affiliation, homepage); each change is also a row
-- of identity_curations (action 'profile').  Keyed by aid, which curation pins keep across rebuilds.
CREATE TABLE identity_profiles (
    aid TEXT PRIMARY KEY,
    display_name TEXT,
    affiliation TEXT,
    homepage TEXT,
    curation_id {int} REFERENCES identity_curations (id),
    updated_at TEXT NOT NULL
);
