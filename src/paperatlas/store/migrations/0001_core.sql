-- Core schema: papers, their identifiers and source records, authorships, identities, citations, and the
-- derived-figure tables that pages read.  Type tokens in braces are replaced per dialect by store/migrate.py.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
);

-- One row per real paper, whatever the number of sources that describe it.
CREATE TABLE papers (
    id {pk},
    pid TEXT NOT NULL UNIQUE,              -- public PaperAtlas id, stable for the life of the paper
    title TEXT,
    abstract TEXT,
    title_key TEXT,                        -- normalize.title_key(title), for fuzzy merging
    first_author_key TEXT,                 -- normalize.surname_key(first author's surname)
    year INTEGER,
    submitted TEXT,                        -- ISO dates
    updated TEXT,
    published TEXT,
    arxiv_version INTEGER,
    primary_category TEXT,
    categories TEXT,                       -- JSON list
    venue_name TEXT,
    venue_year INTEGER,
    venue_kind TEXT,
    comments TEXT,
    journal_ref TEXT,
    license TEXT,
    code_links TEXT,                       -- JSON list of URLs
    external_citation_count INTEGER,       -- a count a source states without listing edges
    external_citation_source TEXT,
    provenance TEXT,                       -- JSON {field: "source:file:locator"}
    change_seq {int} NOT NULL DEFAULT 0,   -- the ingest batch that last changed it (incremental stages)
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL
);
CREATE INDEX papers_title_key ON papers (title_key);
CREATE INDEX papers_submitted ON papers (submitted);
CREATE INDEX papers_primary_category ON papers (primary_category, submitted);
CREATE INDEX papers_change_seq ON papers (change_seq);

-- Every identifier any source gave a paper; "scheme:value" references resolve through here.
CREATE TABLE paper_ids (
    scheme TEXT NOT NULL,
    value TEXT NOT NULL,
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    PRIMARY KEY (scheme, value)
);
CREATE INDEX paper_ids_paper ON paper_ids (paper_id);

-- Each source record that was folded into a paper, kept whole so a merge can be redone and every field traced.
CREATE TABLE paper_records (
    record_key TEXT PRIMARY KEY,           -- SourceRecord.key: the record's identity within its source
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    file TEXT NOT NULL,
    locator TEXT NOT NULL,
    content_hash TEXT NOT NULL,            -- unchanged hash on re-ingest = nothing to do
    data TEXT NOT NULL,                    -- the SourceRecord as JSON
    ingested_at TEXT NOT NULL
);
CREATE INDEX paper_records_paper ON paper_records (paper_id);

CREATE TABLE authorships (
    id {pk},
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,                    -- exactly as the chosen source wrote it
    forenames TEXT,
    surname TEXT,
    suffix TEXT,
    name_key TEXT NOT NULL,                -- normalize.name_key(name): the name-cluster key
    affiliations TEXT,                     -- JSON list of affiliation names/slugs
    orcid TEXT,
    dblp_homonym TEXT,
    source_author_ids TEXT,                -- JSON {source: id}
    source TEXT,
    identity_id {int} REFERENCES identities (id) ON DELETE SET NULL,
    UNIQUE (paper_id, position)
);
CREATE INDEX authorships_name_key ON authorships (name_key);
CREATE INDEX authorships_identity ON authorships (identity_id);

-- A person.  Filled and kept stable by the disambiguation stage.
CREATE TABLE identities (
    id {pk},
    aid TEXT NOT NULL UNIQUE,              -- public id
    name TEXT NOT NULL,                    -- display name
    name_key TEXT NOT NULL,
    orcid TEXT,
    dblp_homonym TEXT,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL
);
CREATE INDEX identities_name_key ON identities (name_key);

-- Citation edges as sources state them; cited_id is filled once the cited paper is in the store.
CREATE TABLE citations (
    citing_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    cited_ref TEXT NOT NULL,               -- "scheme:value"
    cited_id {int} REFERENCES papers (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    PRIMARY KEY (citing_id, cited_ref, source)
);
CREATE INDEX citations_cited ON citations (cited_id);
CREATE INDEX citations_ref ON citations (cited_ref);

-- Figures the metrics stage derives per paper; every figure has its reason beside it (JSON) for the page.
CREATE TABLE paper_metrics (
    paper_id {int} PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
    citations INTEGER NOT NULL DEFAULT 0,  -- distinct citing papers in the store
    citations_external INTEGER,            -- a source's stated count, when larger / no edges known
    novelty {real},                        -- percentile 0..100
    novelty_reason TEXT,
    ai_score {real},                       -- 0..100
    ai_score_reason TEXT,
    trending {real},
    trending_reason TEXT,
    computed_at TEXT
);
CREATE INDEX paper_metrics_trending ON paper_metrics (trending);

CREATE TABLE author_metrics (
    identity_id {int} PRIMARY KEY REFERENCES identities (id) ON DELETE CASCADE,
    paper_count INTEGER NOT NULL DEFAULT 0,
    citations INTEGER NOT NULL DEFAULT 0,
    h_index INTEGER NOT NULL DEFAULT 0,
    i10_index INTEGER NOT NULL DEFAULT 0,
    primary_category TEXT,
    novelty {real},
    ai_score {real},
    per_year TEXT,                         -- JSON {year: {"papers": n, "citations": n}}
    reason TEXT,
    computed_at TEXT
);

CREATE TABLE embeddings (
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    model TEXT NOT NULL,                   -- model name and version
    content_hash TEXT NOT NULL,            -- hash of the embedded text: re-embed only when it changes
    dim INTEGER NOT NULL,
    vector {blob} NOT NULL,                -- float32 little-endian
    PRIMARY KEY (paper_id, model)
);

-- Watermarks of incremental stages: "I have processed everything up to change_seq N".
CREATE TABLE stage_state (
    stage TEXT PRIMARY KEY,
    watermark {int} NOT NULL DEFAULT 0,
    info TEXT,
    updated_at TEXT
);
