"""`cleancorp corpus --engine dask`: a local Dask cluster gives the same OUT tree as `--engine local`."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import FIXTURES, run_cli

pytest.importorskip("dask.distributed")

from cleancorp import minhash  # noqa: E402

TEXT = (FIXTURES / "clean" / "gov-work-reports.txt").read_text(encoding="utf-8")
BODY = [ln for ln in TEXT.split("\n") if len(ln) > 40]
#: A site's own head line: no rule names it, the corpus statistics remove it (seen in ≥ 8 pages).
MASTHEAD = "江南晚报数字版第三版面"


def page(i: int, n: int = 3, masthead: bool = True) -> str:
    paras = [BODY[(i * n + k) % len(BODY)] for k in range(n)]
    head = MASTHEAD + "\n" if masthead else ""
    return head + "首页 | 新闻 | 时政 | 评论 | 专题 | 视频\n" + "\n".join(paras) + "\n版权所有 某某网 未经授权不得转载\n"


def edited(text: str, every: int, offset: int) -> str:
    """``text`` with every ``every``-th Han character (from ``offset``) replaced by another one."""
    chars = list(text)
    han = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    for i in han[offset::every]:
        chars[i] = "乙" if chars[i] != "乙" else "丙"
    return "".join(chars)


def sketch(text: str) -> minhash.Sketch:
    return minhash.sketch(minhash.comparison_key(text))


def near_chain() -> tuple[str, str, str]:
    """Three versions of a page: B is a near copy of A and C of B (Jaccard ≥ 0.8), but C is not
    one of A (Jaccard and containment < 0.8). The streaming dedup drops B as a copy of A and
    keeps C: a dropped page never becomes the first copy of a later one."""
    a = "\n".join(BODY[40:52])
    sa = sketch(a)
    for every in range(40, 60):
        b = edited(a, every, 0)
        sb = sketch(b)
        if minhash.jaccard(sa.signature, sb.signature) < 0.8:
            continue
        for offset in range(1, every):
            c = edited(b, every, offset)
            sc = sketch(c)
            j_ac = minhash.jaccard(sa.signature, sc.signature)
            if minhash.jaccard(sb.signature, sc.signature) >= 0.8 and j_ac < 0.8 and minhash.containment(j_ac, sc.shingles, sa.shingles) < 0.8:
                return a, b, c
    raise AssertionError("no chain of near copies found")


def make_tree(root: Path) -> None:
    for d in ("site/a", "site/b", "feeds", "misc"):
        (root / d).mkdir(parents=True)
    for i in range(12):  # pages of one site; the masthead recurs
        enc = "gbk" if i % 3 == 0 else "utf-8"
        (root / "site" / ("a" if i % 2 else "b") / f"p{i:02d}.txt").write_bytes(page(i).encode(enc))
    (root / "site" / "b" / "z-copy-of-p03.txt").write_bytes(page(3).encode("utf-8"))  # exact copy
    (root / "misc" / "p05.txt.gz").write_bytes(gzip.compress(page(5, masthead=False).encode("gb18030")))
    (root / "misc" / "blob.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    twice = page(20, masthead=False) + "\n" + "\n".join(BODY[60:63]) + "\n"
    (root / "misc" / "twice.txt").write_bytes((twice + twice).encode("utf-8"))  # article repeated in the page
    a, b, c = near_chain()
    (root / "near").mkdir()
    (root / "near" / "1-a.txt").write_text(a, encoding="utf-8")
    (root / "near" / "2-b.jsonl").write_text(json.dumps({"id": "b", "text": b}, ensure_ascii=False) + "\n", encoding="utf-8")
    (root / "near" / "3-c.txt").write_text(c, encoding="utf-8")
    rows = [
        {"id": "r1", "text": page(30), "url": "http://x/1"},
        {"id": "r2", "text": page(7)},  # copy of site/a/p07.txt
        {"id": "r3", "text": ""},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    (root / "feeds" / "f1.jsonl").write_text("\n".join(lines) + "\n{broken\n", encoding="utf-8")
    (root / "feeds" / "f2.jsonl.gz").write_bytes(gzip.compress((json.dumps({"id": "s1", "text": page(31)}, ensure_ascii=False) + "\n").encode("utf-8")))


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in ("summary.json", "checkpoint.pickle")
    }


def counters(root: Path) -> dict:
    summary = json.loads((root / "_cleancorp" / "summary.json").read_text(encoding="utf-8"))
    for s in summary["stages"]:
        del s["seconds"], s["time_share"]
    return summary


def test_dask_engine_writes_the_tree_of_the_local_engine(tmp_path):
    src = tmp_path / "in"
    make_tree(src)
    local = run_cli("corpus", str(src), str(tmp_path / "local"), "-j", "1", "-q")
    dask = run_cli("corpus", str(src), str(tmp_path / "dask"), "--engine", "dask", "-j", "2")
    assert local.returncode == dask.returncode == 1, dask.stderr.decode()  # binary input, broken line
    assert b"Traceback" not in dask.stderr
    assert b"misc/blob.bin: binary input" in dask.stderr
    expected, got = tree(tmp_path / "local"), tree(tmp_path / "dask")
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == expected[name], name
    assert counters(tmp_path / "dask") == counters(tmp_path / "local")

    # The tree exercises what the corpus-level decisions must get right.
    report = {(r["input"], r["id"]): r for r in map(json.loads, got["_cleancorp/report.jsonl"].decode().splitlines())}

    def dup_of(where: str, doc_id: str | None = None) -> str:
        return report[(where, doc_id or where)]["stages"]["dedup"]["duplicate_of"]

    assert dup_of("site/b/z-copy-of-p03.txt") == "site/a/p03.txt"
    assert dup_of("site/a/p07.txt") == "r2"  # feeds/ comes first
    assert dup_of("near/2-b.jsonl", "b") == "near/1-a.txt"
    assert report[("near/3-c.txt", "near/3-c.txt")]["kept"]  # its near original was dropped
    removed = got["_cleancorp/report.jsonl"].decode()
    assert removed.count('"line-stats"') >= 4  # the masthead, once seen in 8 pages
    assert "repeat-of-line" in removed
    assert got["site/b/p10.txt"].decode().startswith(BODY[30])


def test_dask_engine_again_into_the_same_out_gives_the_same_tree(tmp_path):
    src = tmp_path / "in"
    make_tree(src)
    out = tmp_path / "out"
    first = run_cli("corpus", str(src), str(out), "--engine", "dask", "-j", "1", "-q")
    before = tree(out)
    again = run_cli("corpus", str(src), str(out), "--engine", "dask", "-j", "1", "-q")
    assert first.returncode == again.returncode == 1
    assert tree(out) == before


def test_dask_engine_joins_a_running_cluster_and_keeps_a_dedup_index(tmp_path):
    from dask.distributed import LocalCluster

    src = tmp_path / "in"
    make_tree(src)
    local = run_cli("corpus", str(src), str(tmp_path / "local"), "-j", "1", "-q", "--dedup-index", str(tmp_path / "local.idx"))
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        dask = run_cli(
            "corpus", str(src), str(tmp_path / "dask"), "-q", "--engine", "dask",
            "--address", cluster.scheduler_address, "--dedup-index", str(tmp_path / "dask.idx"),
        )
        assert len(cluster.scheduler_info["workers"]) == 1  # the run left the cluster as it was
    assert local.returncode == dask.returncode == 1, dask.stderr.decode()
    assert tree(tmp_path / "dask") == tree(tmp_path / "local")
    assert counters(tmp_path / "dask") == counters(tmp_path / "local")
    assert (tmp_path / "dask.idx").read_bytes() == (tmp_path / "local.idx").read_bytes()


def test_dask_engine_counts_line_statistics_in_a_first_pass_and_applies_them_in_a_second(tmp_path):
    src = tmp_path / "in"
    make_tree(src)
    for engine in ("local", "dask"):
        stats = f"--set=boilerplate.line_stats={tmp_path / engine}.linestats"
        for n in (1, 2):  # the first run counts and saves; the second applies the saved counts
            r = run_cli("corpus", str(src), str(tmp_path / f"{engine}{n}"), "-q", "-j", "1", "--engine", engine, stats)
            assert r.returncode == 1, r.stderr.decode()
    assert (tmp_path / "dask.linestats").read_bytes() == (tmp_path / "local.linestats").read_bytes()
    for n in (1, 2):
        assert tree(tmp_path / f"dask{n}") == tree(tmp_path / f"local{n}")
    # Frozen counts of the whole corpus: the masthead goes from every page, the first ones too.
    assert not (tmp_path / "dask2" / "site" / "a" / "p01.txt").read_text(encoding="utf-8").startswith(MASTHEAD)
    assert (tmp_path / "dask1" / "site" / "a" / "p01.txt").read_text(encoding="utf-8").startswith(MASTHEAD)


def test_bad_address_and_address_without_engine_are_one_line_errors(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("正文。\n", encoding="utf-8")
    r = run_cli("corpus", str(src), str(tmp_path / "o1"), "--address", "tcp://127.0.0.1:1")
    assert r.returncode == 2 and r.stderr.decode().strip() == "cleancorp: --address needs --engine dask"
    r = run_cli("corpus", str(src), str(tmp_path / "o2"), "--engine", "dask", "--address", "tcp://127.0.0.1:1", timeout=90)
    err = r.stderr.decode().strip()
    assert r.returncode == 2 and "\n" not in err and err.startswith("cleancorp: cannot reach the Dask scheduler"), err
