"""``paperatlas check identities`` on the demo store: the stage's identities pass their own check, and a planted
fault of each kind is found (so the zero is not a check that cannot fail)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from paperatlas.store import STORE_FILENAME, open_store

DEMO_CORPUS = Path(__file__).resolve().parents[1] / "demo" / "corpus"


@pytest.fixture(scope="module")
def demo_identities(tmp_path_factory) -> Path:
    """The demo corpus ingested and its identities built, once for this module."""
    from click.testing import CliRunner

    from paperatlas.cli import main

    folder = tmp_path_factory.mktemp("demo-identities")
    runner = CliRunner()
    for args in (["ingest", str(DEMO_CORPUS)], ["build", "--only", "identities"]):
        result = runner.invoke(main, ["--quiet", "--data-dir", str(folder), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return folder


def _copy(template: Path, target: Path) -> Path:
    import shutil

    target.mkdir()
    shutil.copy(template / STORE_FILENAME, target / STORE_FILENAME)
    return target


def test_demo_store_has_no_identity_faults(demo_identities, tmp_path):
    from click.testing import CliRunner

    from paperatlas.cli import main

    result = CliRunner().invoke(main, ["--quiet", "--data-dir", str(demo_identities), "check", "identities",
                                       "--json"], catch_exceptions=False)
    report = orjson.loads(result.output)
    assert report["authorships_checked"] > 10_000
    assert report["problems"] == 0, report
    assert result.exit_code == 0


def test_planted_faults_are_found_and_exit_one(demo_identities, tmp_path):
    """Move one authorship onto a person whose written given name cannot be its own, give one identity a second
    ORCID, and make one paper count wrong: each is reported, and the command exits 1."""
    from click.testing import CliRunner

    from paperatlas.cli import main
    from paperatlas.disambiguation.names import compatible, parts_of

    folder = _copy(demo_identities, tmp_path / "store")
    store = open_store(folder)
    db = store.db
    people = db.query_tuples("SELECT i.id, i.name, a.id, a.name FROM identities i JOIN authorships a "
                             "ON a.identity_id = i.id WHERE i.paper_count >= 2 ORDER BY i.id")
    target, source = None, None
    for identity, name, _, _ in people:
        for other_identity, _, authorship, written in people:
            if other_identity != identity and not parts_of(written).first_is_initial \
                    and not compatible(parts_of(written), parts_of(name)):
                target, source = identity, authorship
                break
        if target is not None:
            break
    assert target is not None
    orcid_owner = people[0][0]
    with db.transaction():
        db.execute("UPDATE authorships SET identity_id = ? WHERE id = ?", (target, source))
        two = db.query_tuples("SELECT id FROM authorships WHERE identity_id = ? LIMIT 2", (orcid_owner,))
        db.execute("UPDATE authorships SET orcid = '0000-0001-0000-0001' WHERE id = ?", (two[0][0],))
        db.execute("UPDATE authorships SET orcid = '0000-0002-0000-0002' WHERE id = ?", (two[1][0],))
    store.close()
    result = CliRunner().invoke(main, ["--quiet", "--data-dir", str(folder), "check", "identities", "--json"],
                                catch_exceptions=False)
    report = orjson.loads(result.output)
    assert result.exit_code == 1
    assert [case["authorship"] for case in report["incompatible_authorships"]["examples"]] == [source]
    assert report["two_orcids"]["count"] == 1
    # the moved authorship left one identity a paper short and gave another one more than its stored count
    assert report["figures_disagree"]["count"] >= 1
