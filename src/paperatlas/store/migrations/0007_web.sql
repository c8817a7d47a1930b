-- Indexes the web pages and the HTTP cache validators need, so every page query is an index lookup.

-- Last-Modified / ETag: the newest change to papers and identities, read as one index probe per request.
CREATE INDEX papers_modified_at ON papers (modified_at);
CREATE INDEX identities_modified_at ON identities (modified_at);
-- Author page: the papers of one identity (covering: no table visit).
CREATE INDEX authorships_identity_paper ON authorships (identity_id, paper_id);
-- Name-cluster page: the papers and identities of one exact name (covering).
CREATE INDEX authorships_name_key_paper ON authorships (name_key, paper_id, identity_id);
-- Paper page: who cites this paper, distinct citing papers (covering).
CREATE INDEX citations_cited_citing ON citations (cited_id, citing_id);
