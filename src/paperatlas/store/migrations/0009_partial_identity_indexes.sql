-- The identity and block of an authorship are filled by the disambiguation stage, after the ingest: while a bulk
-- ingest writes, every new authorship has both NULL, and a full index still takes a B-tree insert per row for each.
-- Every reader looks them up by value (identity_id = ?, block_key IN (...), joins on equality), which a partial
-- index over the non-NULL rows serves just as well (SQLite and PostgreSQL both prove "x = ?" implies "x IS NOT
-- NULL").  The one query for NULL block keys (the stage finding unblocked rows) scans instead, once per build.
DROP INDEX IF EXISTS authorships_identity_paper;
CREATE INDEX authorships_identity_paper ON authorships (identity_id, paper_id) WHERE identity_id IS NOT NULL;
DROP INDEX IF EXISTS authorships_block;
CREATE INDEX authorships_block ON authorships (block_key) WHERE block_key IS NOT NULL;
