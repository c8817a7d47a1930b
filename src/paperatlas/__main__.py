"""``python -m paperatlas``: the same as the ``paperatlas`` command."""

from paperatlas.cli import run

run()
