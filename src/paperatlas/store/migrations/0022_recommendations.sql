-- Recommendations (issue 22): a reader's thumbs up/down on recommended papers, and each reader's precomputed
-- "For you" list, so the page reads a few indexed rows instead of scoring candidates per request.
-- Numbered 0022 (the issue) so parallel branches never collide.

-- 'up' (more like this: a positive, like a saved paper) or 'down' (not relevant: a negative).  One per paper.
CREATE TABLE reader_feedback (
    account_id {int} NOT NULL REFERENCES reader_accounts (id) ON DELETE CASCADE,
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, paper_id)
);

-- The ranked list made by the last retraining of the reader: rank 1 is best; reasons is a JSON list of strings.
CREATE TABLE reader_recommendations (
    account_id {int} NOT NULL REFERENCES reader_accounts (id) ON DELETE CASCADE,
    rank {int} NOT NULL,
    paper_id {int} NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    score {real} NOT NULL,
    reasons {json} NOT NULL,
    PRIMARY KEY (account_id, rank)
);

-- One row per reader ever trained or acted: stale = 1 after an action (vote, save, follow, thumbs) until the next
-- retraining; trained_at is when the list above was made (NULL: never).
CREATE TABLE reader_recommendation_state (
    account_id {int} PRIMARY KEY REFERENCES reader_accounts (id) ON DELETE CASCADE,
    stale {int} NOT NULL DEFAULT 1,
    trained_at TEXT,
    train_ms {real},
    items {int}
);
