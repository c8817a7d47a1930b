-- Search: sorting matches by citations walks paper_metrics in citation order (search/engine.py), which needs
-- this index on large stores (trending already has one in the core schema).
CREATE INDEX paper_metrics_citations ON paper_metrics (citations);
