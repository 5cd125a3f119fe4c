"""The benchmark runs end to end on a tiny corpus: every row is there, every number is sane.
It reports and never gates, so nothing here compares a speed with a target."""
from __future__ import annotations

import doctest
import json
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))  # `bench` is a folder of the repository, not an installed package

from bench import corpus, run  # noqa: E402

ROWS = ["stage:decode", "stage:repair", "stage:convert", "stage:normalize", "stage:boilerplate", "stage:dedup",
        "decode_vs_utf8", "convert_vs_opencc", "chain_1", "chain_all", "cli", "naive", "corpus_1", "corpus_all", "stream", "stream_small_buffer", "dedup_many"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench-work")
    return run.run(mb=0.3, seed=5, workers=2, naive_mb=0.05, convert_ref_mb=0.02, stream_mb=2, dedup_docs=2000,
                   corpus_docs=300, work=work)


def test_doctests_run():
    for module in (corpus, run):
        result = doctest.testmod(module)
        assert result.attempted >= 1 and result.failed == 0, module.__name__


def test_corpus_is_seeded_and_mixed(tmp_path):
    first = corpus.build_corpus(0.2, seed=3, work=tmp_path / "a")
    again = corpus.build_corpus(0.2, seed=3, work=tmp_path / "b")
    pages = corpus.load_manifest(first)["pages"]
    assert pages == corpus.load_manifest(again)["pages"]
    assert sum(p["bytes"] for p in pages) >= 0.2 * 1024 * 1024
    kinds = {p["kind"] for p in pages}
    assert "clean" in kinds and len(kinds) >= 3
    gbk = next(p for p in pages if p["kind"] == "gbk")
    with pytest.raises(UnicodeDecodeError):
        (first / gbk["file"]).read_bytes().decode("utf-8")


def test_every_row_measured(results):
    assert list(results["rows"]) == ROWS
    for key, row in results["rows"].items():
        assert row["mb_per_s"] > 0 and row["seconds"] > 0 and row["bytes"] > 0, key
    for key in ("chain_1", "chain_all", "cli", "stream", "stream_small_buffer", "dedup_many"):
        assert results["rows"][key]["peak_rss_mb"] > 0, key
    for key in ("decode_vs_utf8", "convert_vs_opencc", "chain_1"):
        assert results["rows"][key]["ratio"] > 0, key
    assert results["rows"]["cli"]["exit_code"] == 0
    assert results["rows"]["corpus_1"]["exit_code"] == 0 and results["rows"]["corpus_all"]["exit_code"] == 0
    assert results["rows"]["corpus_1"]["docs"] == results["rows"]["corpus_all"]["docs"] == 300
    assert results["rows"]["corpus_all"]["ratio"] > 0
    assert results["rows"]["stream"]["exit_code"] == 0
    assert results["rows"]["stream"]["bytes"] == 2 * 1024 * 1024
    assert results["rows"]["chain_all"]["workers"] == 2
    assert results["rows"]["chain_1"]["docs"] == results["corpus"]["pages"]
    assert results["machine"]["cpu_count"] >= 1 and results["machine"]["python"]


def test_table_and_json(results, tmp_path):
    table = run.format_table(results)
    lines = table.splitlines()
    assert len(lines) == 2 + len(ROWS)
    for row in results["rows"].values():
        assert row["label"] in table
    out = tmp_path / "results.json"
    out.write_text(json.dumps(results))
    assert json.loads(out.read_text())["rows"].keys() == results["rows"].keys()
