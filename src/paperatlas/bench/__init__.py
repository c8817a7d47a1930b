"""``paperatlas bench ...``: measured speed and quality on real data.  See ``bench/report.py`` for the output."""
