"""Readers: one per real file format, each turning a file into canonical records (see ``base.py``)."""
