"""The PostgreSQL store: SQL translation (no server needed), and server behaviour the portable tests don't cover."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from paperatlas.store import open_store
from paperatlas.store.migrate import order_by_references, split_statements
from paperatlas.store.postgres import split_sql, to_pyformat


@pytest.mark.parametrize(
    ("portable", "expected"),
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        ("SELECT '?' , ?", "SELECT '?' , %s"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
        ('SELECT "odd?name" FROM t WHERE x = ?', 'SELECT "odd?name" FROM t WHERE x = %s'),
        ("SELECT ? -- really?\n, 1", "SELECT %s -- really?\n, 1"),
        ("SELECT /* ? */ ?", "SELECT /* ? */ %s"),
        ("SELECT $$ a ? b $$, ?", "SELECT $$ a ? b $$, %s"),
        ("SELECT E'\\'?', ?", "SELECT E'\\'?', %s"),
        ("SELECT * FROM t WHERE title LIKE '%net%' AND y = ?", "SELECT * FROM t WHERE title LIKE '%%net%%' AND y = %s"),
        ("SELECT 5 % 2", "SELECT 5 %% 2"),
        ("SELECT IFNULL(a, 0) FROM t", "SELECT COALESCE(a, 0) FROM t"),
    ],
)
def test_placeholder_translation_respects_literals(portable, expected):
    assert to_pyformat(portable) == expected


def test_split_sql_keeps_every_character():
    text = "SELECT 'a''b', \"c\" -- d\n/* e */ $x$ f $x$ ?"
    assert "".join(piece for _, piece in split_sql(text)) == text
    assert [is_code for is_code, _ in split_sql(text)] == [True, False, True, False, True, False, True, False, True,
                                                           False, True]


def test_foreign_keys_to_later_tables_are_created_in_order():
    statements = split_statements(
        "CREATE TABLE a (x INTEGER REFERENCES c (id));\nCREATE INDEX a_x ON a (x);\n"
        "CREATE TABLE b (id INTEGER);\nCREATE TABLE c (id INTEGER PRIMARY KEY);\n"
    )
    ordered = order_by_references(statements)
    assert [s.split("(")[0].strip() for s in ordered] == [
        "CREATE TABLE b", "CREATE TABLE c", "CREATE TABLE a", "CREATE INDEX a_x ON a"]


def test_insert_or_ignore_and_replace(postgres_url, tmp_path):
    store = open_store(tmp_path, postgres_url)
    db = store.db
    try:
        db.execute("INSERT INTO meta (key, value) VALUES ('k', 'one')")
        db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", ("k", "two"))
        assert db.scalar("SELECT value FROM meta WHERE key = 'k'") == "one"
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", ("k", "three"))
        assert db.scalar("SELECT value FROM meta WHERE key = 'k'") == "three"
        rows = db.query("INSERT OR IGNORE INTO meta (key, value) VALUES ('n', 'v') RETURNING key")
        assert rows == [{"key": "n"}]
    finally:
        store.close()


def test_killed_writer_leaves_no_partial_batch(postgres_url, tmp_path):
    """A process that dies mid-transaction (SIGKILL, no COMMIT) leaves the server store as before."""
    script = (
        "import os, signal, sys\n"
        "from paperatlas.store import open_store\n"
        "db = open_store(sys.argv[2], sys.argv[1]).db\n"
        "with db.transaction():\n"
        "    for i in range(100):\n"
        "        db.execute(\"INSERT INTO papers (pid, created_at, modified_at) VALUES (?, '-', '-')\", (f'k{i}',))\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, postgres_url, str(tmp_path)], capture_output=True)
    assert done.returncode == -9
    store = open_store(tmp_path, postgres_url)
    try:
        assert store.db.scalar("SELECT COUNT(*) FROM papers") == 0
    finally:
        store.close()


def test_cli_uses_the_server_store(postgres_url, tmp_path):
    from click.testing import CliRunner

    from paperatlas.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["--quiet", "--data-dir", str(tmp_path), "--database", postgres_url,
                                  "stats", "--json"])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.output)["papers"] == 0
    assert not (tmp_path / "paperatlas.sqlite3").exists()


@pytest.mark.slow
def test_unreachable_server_is_one_clear_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "from paperatlas.cli import run; run()", "--data-dir", str(tmp_path), "--database",
         "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", "stats"],
        capture_output=True, text=True,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "cannot open the store" in done.stderr
