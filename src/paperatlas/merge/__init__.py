"""One paper, one record: matching source records to papers, field precedence, provenance, citation resolution.

``matching`` decides which paper a record is, ``fold`` computes a paper from all its source records, ``writer``
applies a batch of records to the store in one transaction, and ``citations`` is the build stage that resolves
citation references once the cited (or citing) paper has arrived.
"""
