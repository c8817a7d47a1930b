"""The labelled-collection readers skip a malformed record with its file and line, and keep every other one."""

from __future__ import annotations

from pathlib import Path

import orjson

from paperatlas.disambiguation.datasets import read_aminer, read_dblp_homonyms, read_ufmg


def _publication(title: str, label: str | None, authors: str = "Ann Lee,Bo Chen") -> str:
    label_tag = f"\t\t<label>{label}</label>\n" if label is not None else ""
    return (f"\t<publication>\n\t\t<title>{title}</title>\n\t\t<year>2010</year>\n"
            f"\t\t<authors>{authors}</authors>\n\t\t<jconf>VLDB</jconf>\n{label_tag}\t</publication>\n")


def _aminer_file(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.xml"
    path.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<person>\n\t<FullName>{name}</FullName>\n{body}'
                    f"</person>\n", encoding="utf-8")
    return path


def test_aminer_reader_skips_unlabelled_and_unclosed_publications_with_their_lines(tmp_path):
    unclosed = "\t<publication>\n\t\t<title>Cut short</title>\n\t\t<label>0</label>\n"
    body = (_publication("Spatial joins", "0") + _publication("No gold person", None) + unclosed
            + _publication("Top-k queries", "1", "Bo Chen"))
    path = _aminer_file(tmp_path / "xml", "Bo Chen", body)
    data = read_aminer(tmp_path)

    assert [m.title for m in data.mentions] == ["Spatial joins", "Top-k queries"]  # the last is not glued on
    assert data.gold == ["Bo Chen#0", "Bo Chen#1"]
    assert [m.name for m in data.mentions] == ["Bo Chen", "Bo Chen"]
    assert data.problems == [
        f"{path}:11: publication without a <label>; skipped",
        f"{path}:17: <publication> is never closed; skipped",
    ]


def test_bibtex_reader_skips_an_entry_that_never_closes(tmp_path):
    good = ("@article{DBLP:journals/x/ZhangL10,\n  author    = {Jun Zhang and\n               Li Wei},\n"
            "  title     = {Spatial joins},\n  journal   = {TKDE},\n  year      = {2010}\n}\n\n")
    cut = "@article{DBLP:journals/x/Zhang11,\n  author    = {Jun Zhang},\n  title     = {Cut short\n\n"
    later = good.replace("ZhangL10", "ZhangL12").replace("Spatial joins", "Top-k queries")
    path = tmp_path / "Zhang_0001_Jun.bib"
    path.write_text(good + cut + later, encoding="utf-8")
    data = read_dblp_homonyms(tmp_path)

    assert [m.title for m in data.mentions] == ["Spatial joins", "Top-k queries"]
    assert data.gold == ["0001", "0001"] and data.mentions[0].coauthors == ["Li Wei"]
    assert data.problems == [f"{path}:9: BibTeX entry without a key or a closing brace; skipped"]


def test_ufmg_reader_reports_short_lines_and_ignores_blank_ones(tmp_path):
    folder = tmp_path / "kisti"
    folder.mkdir()
    path = folder / "jlee_test_f0.txt"
    path.write_text("1;0;j lee;k kim;spatial join;vldb;2010\n\n2;0;j lee;broken\n3;1;j lee;;top k queri;icde;2011\n",
                    encoding="utf-8")
    data = read_ufmg(tmp_path)

    assert [m.title for m in data.mentions] == ["spatial join", "top k queri"]
    assert data.problems == [f"{path}:3: 4 of the 7 ;-separated columns; skipped"]


def test_bench_data_warns_of_each_skipped_record_and_refuses_a_folder_of_nothing_but_them(tmp_path, cli):
    good = tmp_path / "good"
    body = "".join(_publication(f"Paper {k}", str(k % 2), "Bo Chen,Ann Lee" if k % 2 else "Bo Chen") for k in range(6))
    _aminer_file(good, "Bo Chen", body)
    bad = _aminer_file(good, "Cut Short", "\t<publication>\n\t\t<title>x</title>\n")
    result = cli("bench", "disambiguation", "--data", str(good), "--no-speed", "--json")
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.stdout)["good"]
    assert figures["mentions"] == 6 and figures["skipped_records"] == 1
    assert f"warning: {bad}:4: <publication> is never closed; skipped" in result.stderr

    only_bad = tmp_path / "only-bad"
    _aminer_file(only_bad, "Cut Short", "\t<publication>\n\t\t<title>x</title>\n")
    refused = cli("bench", "disambiguation", "--data", str(only_bad), "--no-speed", "--json")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines()[-1] == (
        f"paperatlas: no labelled records in {only_bad} (malformed records skipped: 1)")
