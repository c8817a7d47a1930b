"""Author disambiguation: from authorships (a name on a paper) to identities (people).

The pipeline follows allenai/S2AND: block mentions by surname + first initial (:mod:`.names`), score pairs inside
a block with a small LightGBM model over vectorized evidence (:mod:`.features`, :mod:`.pairmodel`), obey hard
rules and curation constraints, then cluster (:mod:`.clustering`): near-certain pairs chain into *seeds*, a second
LightGBM model compares seeds as wholes (pooled venues, vocabulary, coauthors, years: :mod:`.seeds`) and seeds
are average-linked at a threshold chosen by nested cross-validation over names (:mod:`.training`).
:mod:`.stage` is the build stage that writes ``authorships.identity_id``; :mod:`.curation` keeps the merges,
splits and moves people make; :mod:`.author_search` and :mod:`.clusters` answer "who is behind this name".
"""
