"""Every command answers --help; stats reports an empty store truthfully."""

from __future__ import annotations

import orjson

from paperatlas.cli import main


def _all_commands(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path
        if hasattr(command, "commands"):
            yield from _all_commands(command, path)


def test_every_command_has_help(cli):
    paths = list(_all_commands(main))
    assert ("stats",) in paths
    for path in paths:
        result = cli(*path, "--help")
        assert result.exit_code == 0, path
        assert "Usage:" in result.output


def test_stats_json_on_empty_store(cli):
    result = cli("stats", "--json")
    assert result.exit_code == 0
    figures = orjson.loads(result.output)
    assert figures["papers"] == 0
    assert set(figures) >= {"papers", "authorships", "author_identities", "name_clusters", "citation_edges",
                            "papers_per_source"}
