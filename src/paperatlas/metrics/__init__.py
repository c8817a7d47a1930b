"""Derived figures of papers and authors, each stored with the reason a page shows beside it.

citations (store edges, external counts kept apart) -> author figures (h-index, i10, per year, primary category)
-> novelty (from embeddings) -> AI Score (a learned weak signal) -> trending.  ``stage.run`` computes them in a
build; ``pages`` reads them back exactly as ``paper show`` / ``author show`` and the web pages print them.
Formulas: docs/scores.md.
"""
