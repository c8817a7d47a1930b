-- Ingest: what readers say besides papers.  Owned by ingest-core (ingest/, merge/).

-- Non-paper entities a source describes (OpenAlex authors and institutions, S2 authors, DBLP person pages): kept
-- as evidence for disambiguation and affiliation slugs.  content_hash makes re-ingest a no-op.
CREATE TABLE source_entities (
    source TEXT NOT NULL,
    id TEXT NOT NULL,                      -- "scheme:value", e.g. "openalex:A5023888391"
    kind TEXT NOT NULL,                    -- "author" | "institution" | "venue"
    file TEXT NOT NULL,
    locator TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    data TEXT NOT NULL,                    -- EntityRecord.data as JSON
    ingested_at TEXT NOT NULL,
    PRIMARY KEY (source, id)
);
CREATE INDEX source_entities_kind ON source_entities (kind);

-- Citation edges whose *citing* paper is not in the store yet (citations.citing_id cannot be NULL).  The
-- citations stage (merge/citations.py) moves them into citations once the citing paper arrives.
CREATE TABLE pending_citations (
    citing_ref TEXT NOT NULL,              -- "scheme:value"
    cited_ref TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (citing_ref, cited_ref, source)
);
