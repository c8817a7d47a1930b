-- Scores (metrics stage): raw novelty beside its percentile, the instance's own reader signals for trending,
-- and which AI-Score model produced the stored scores.

-- 1 - highest cosine similarity to earlier papers, before it becomes a percentile; kept so percentiles can be
-- recomputed when the corpus grows without recomputing the similarities.
ALTER TABLE paper_metrics ADD COLUMN novelty_raw {real};
ALTER TABLE paper_metrics ADD COLUMN novelty_model TEXT;
-- The counts behind citations: store edges (distinct citing papers) and the external count, kept apart.
ALTER TABLE paper_metrics ADD COLUMN citations_source TEXT;
ALTER TABLE paper_metrics ADD COLUMN ai_score_model TEXT;
ALTER TABLE paper_metrics ADD COLUMN trending_as_of TEXT;

-- Upvotes and saves made on this instance (empty until the web UI lets users make them).  One row per reader
-- and paper and kind, so a reader counts once.
CREATE TABLE paper_signals (
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                    -- "upvote" or "save"
    user_key TEXT NOT NULL,                -- an account id, subscriber id or hashed session: whoever made it
    created_at TEXT NOT NULL,
    PRIMARY KEY (paper_id, kind, user_key)
);
CREATE INDEX paper_signals_created ON paper_signals (created_at);
