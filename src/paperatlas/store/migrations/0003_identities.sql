-- Author identities: what the disambiguation stage needs beyond the core tables, and the curation people do.

-- The audit log: every merge / split / move, in order, with what it changed.
CREATE TABLE identity_curations (
    id {pk},
    action TEXT NOT NULL,                  -- merge | split | move
    args TEXT NOT NULL,                    -- JSON: the command's arguments as given
    result TEXT,                           -- JSON: identities kept / created / retired, authorships moved
    actor TEXT,
    created_at TEXT NOT NULL
);

-- Curation as constraints every rebuild obeys: the person (aid) an authorship was pinned to.  Keyed by paper and
-- position, not authorship id, so a pin survives a paper's authorships being rewritten by a re-ingest.
-- Authorships pinned to one aid are one person; authorships pinned to different aids are different people.
CREATE TABLE identity_pins (
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    aid TEXT NOT NULL,
    curation_id {int} REFERENCES identity_curations (id),
    PRIMARY KEY (paper_id, position)
);
CREATE INDEX identity_pins_aid ON identity_pins (aid);

-- A public id that no longer names a person of its own (merged away, or lost most of its papers in a rebuild)
-- points to where its papers went, so old links keep working.
CREATE TABLE identity_redirects (
    aid TEXT PRIMARY KEY,
    target_aid TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL
);

ALTER TABLE identities ADD COLUMN block_key TEXT;
ALTER TABLE identities ADD COLUMN paper_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN model_version TEXT;
CREATE INDEX identities_block ON identities (block_key);

-- Blocking key of an authorship (folded surname + first initial), filled by the stage: incremental runs and
-- author search find a block's mentions through it.
ALTER TABLE authorships ADD COLUMN block_key TEXT;
CREATE INDEX authorships_block ON authorships (block_key);
