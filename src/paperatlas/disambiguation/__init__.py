"""Author disambiguation: from authorships (a name on a paper) to identities (people).

The pipeline follows allenai/S2AND: block mentions by surname + first initial (:mod:`.names`), score pairs inside
a block with a small LightGBM model over vectorized evidence (:mod:`.features`, :mod:`.pairmodel`), obey hard
rules and curation constraints, and cut an average-linkage tree at a tuned threshold (:mod:`.clustering`).
:mod:`.stage` is the build stage that writes ``authorships.identity_id``; :mod:`.curation` keeps the merges,
splits and moves people make; :mod:`.author_search` and :mod:`.clusters` answer "who is behind this name".
"""
