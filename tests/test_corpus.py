"""`cleancorp corpus IN OUT`: tree in, mirrored tree out, report, -j invariance, resume."""
from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, run_cli

BODY = [ln for ln in (FIXTURES / "clean" / "gov-work-reports.txt").read_text(encoding="utf-8").split("\n") if len(ln) > 40]


def page(i: int, n: int = 3) -> str:
    paras = [BODY[(i * n + k) % len(BODY)] for k in range(n)]
    return "首页 | 新闻 | 时政 | 评论 | 专题 | 视频\n" + "\n".join(paras) + "\n版权所有 某某网 未经授权不得转载\n"


def make_tree(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "z").mkdir()
    (root / "a" / "one.txt").write_bytes(page(1).encode("gbk"))
    (root / "a" / "b" / "two.txt").write_bytes(page(2).encode("utf-8"))
    (root / "z" / "copy-of-one.txt").write_bytes(page(1).encode("utf-8"))  # duplicate: dropped
    (root / "a" / "three.txt.gz").write_bytes(gzip.compress(page(3).encode("gb18030")))
    (root / "a" / "blob.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    rows = [
        {"id": "r1", "text": page(4), "url": "http://x/1"},
        {"id": "r2", "text": page(2)},  # duplicate of a/b/two.txt
        {"id": "r3", "text": ""},
    ]
    (root / "more.jsonl.gz").write_bytes(
        gzip.compress((json.dumps({"id": "g1", "text": page(5)}, ensure_ascii=False) + "\n").encode("utf-8"))
    )
    (root / "shard.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n", encoding="utf-8"
    )


def tree(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "summary.json" and p.name != "checkpoint.pickle":
            out[str(p.relative_to(root))] = p.read_bytes()
    return out


def test_corpus_mirrors_tree_reports_everything(tmp_path):
    src = tmp_path / "in"
    make_tree(src)
    before = tree(src)
    out = tmp_path / "out"
    r = run_cli("corpus", str(src), str(out), "-j", "2")
    assert r.returncode == 1  # one rejected input (binary) and one broken JSON line
    assert tree(src) == before  # inputs untouched
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and "_cleancorp" not in p.parts)
    assert files == ["a/b/two.txt", "a/one.txt", "a/three.txt", "more.jsonl", "shard.jsonl"]
    assert json.loads((out / "more.jsonl").read_text(encoding="utf-8"))["id"] == "g1"
    assert (out / "a" / "one.txt").read_text(encoding="utf-8") == "\n".join(BODY[3:6]) + "\n"
    shard = [json.loads(x) for x in (out / "shard.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in shard] == ["r1"] and shard[0]["url"] == "http://x/1"
    report = [json.loads(x) for x in (out / "_cleancorp" / "report.jsonl").read_text(encoding="utf-8").splitlines()]
    by_id = {x["id"]: x for x in report}
    # every document that went in is accounted for
    assert len(report) == 10
    assert by_id["z/copy-of-one.txt"]["drop_reason"] == "duplicate"
    assert by_id["z/copy-of-one.txt"]["stages"]["dedup"]["duplicate_of"] == "a/one.txt"
    assert by_id["r2"]["drop_reason"] == "duplicate"
    assert by_id["r3"]["drop_reason"] == "empty"
    assert by_id["a/blob.bin"]["rejected"] and "binary" in by_id["a/blob.bin"]["drop_reason"]
    assert by_id["shard.jsonl:4"]["rejected"]
    assert by_id["a/one.txt"]["stages"]["decode"]["encoding"] == "gb18030"
    summary = json.loads((out / "_cleancorp" / "summary.json").read_text(encoding="utf-8"))
    assert summary["docs_in"] == 10 and summary["docs_kept"] == 5
    assert set(summary["rejected"]) == {"a/blob.bin", "shard.jsonl:4"}
    assert summary["dropped"]["duplicate"] == 2
    assert [s["stage"] for s in summary["stages"]] == ["decode", "repair", "convert", "normalize", "boilerplate", "dedup"]
    err = r.stderr.decode()
    assert "a/blob.bin: binary input" in err and "documents: 10 in, 5 kept" in err
    assert "Traceback" not in err


def test_output_identical_for_any_jobs(tmp_path):
    src = tmp_path / "in"
    for i in range(40):
        d = src / f"d{i % 3}"
        d.mkdir(parents=True, exist_ok=True)
        # every fifth page repeats an earlier one: which copy is kept must not depend on -j
        (d / f"p{i:03d}.txt").write_text(page(i // 5 * 5 if i % 5 == 4 else i), encoding="utf-8")
    trees = []
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"out{jobs}"
        r = run_cli("corpus", str(src), str(out), "-j", jobs, "-q")
        assert r.returncode == 0, r.stderr
        trees.append(tree(out))
    assert trees[0] == trees[1] == trees[2]
    assert len([k for k in trees[0] if not k.startswith("_cleancorp")]) < 40


def test_out_inside_in_and_missing_in_are_usage_errors(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("正文。", encoding="utf-8")
    r = run_cli("corpus", str(src), str(src / "out"))
    assert r.returncode == 2 and b"inside IN" in r.stderr
    r = run_cli("corpus", str(src), str(src))
    assert r.returncode == 2
    r = run_cli("corpus", str(tmp_path / "nope"), str(tmp_path / "o"))
    assert r.returncode == 2 and b"no such file" in r.stderr


def test_files_from_and_glob(tmp_path):
    src = tmp_path / "in"
    make_tree(src)
    listing = tmp_path / "list.txt"
    listing.write_text("a/one.txt\na/b/two.txt\n", encoding="utf-8")
    out = tmp_path / "o1"
    r = run_cli("corpus", str(src), str(out), "--files-from", str(listing), "-q")
    assert r.returncode == 0, r.stderr
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.txt")) == ["a/b/two.txt", "a/one.txt"]
    out = tmp_path / "o2"
    r = run_cli("corpus", str(src / "a" / "*.txt"), str(out), "-q")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.glob("*.txt")) == ["one.txt"]


def test_resume_after_kill_gives_the_same_tree(tmp_path):
    src = tmp_path / "in"
    for i in range(600):
        d = src / f"d{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        text = page(i // 3 * 3 if i % 3 == 2 else i, n=6)  # a third are duplicates
        (d / f"p{i:04d}.txt").write_bytes(text.encode("gbk" if i % 4 == 0 else "utf-8"))
    whole = tmp_path / "whole"
    r = run_cli("corpus", str(src), str(whole), "-j", "2", "-q")
    assert r.returncode == 0, r.stderr

    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "cleancorp", "corpus", str(src), str(killed), "-j", "2", "-q", "--checkpoint-seconds", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    manifest = killed / "_cleancorp" / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if manifest.exists() and manifest.read_bytes().count(b"\n") >= 150:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = manifest.read_bytes().count(b"\n")
    assert 0 < done_before < 600

    r = run_cli("corpus", str(src), str(killed), "-j", "2", "-q")
    assert r.returncode == 0, r.stderr
    assert tree(killed) == tree(whole)
    a = json.loads((whole / "_cleancorp" / "summary.json").read_text(encoding="utf-8"))
    b = json.loads((killed / "_cleancorp" / "summary.json").read_text(encoding="utf-8"))
    for key in ("docs_in", "docs_kept", "dropped", "rejected", "bytes_in", "bytes_out"):
        assert a[key] == b[key], key
    # no temporary files anywhere
    assert not [p for p in killed.rglob(".cleancorp-*")]


def test_resume_refuses_other_options(tmp_path):
    src = tmp_path / "in"
    make_tree(src)
    out = tmp_path / "out"
    run_cli("corpus", str(src), str(out), "-q")
    r = run_cli("corpus", str(src), str(out), "-q", "--convert", "none")
    assert r.returncode == 2 and b"--restart" in r.stderr
    r = run_cli("corpus", str(src), str(out), "-q", "--convert", "none", "--restart")
    assert r.returncode == 1  # the binary input and the broken line, as before


#: A site's own head line that no rule names: the corpus line statistics remove it once the run
#: has seen it in 8 pages.
MASTHEAD = "江南晚报数字版第三版面"


def edited(text: str, every: int) -> str:
    """``text`` with every ``every``-th Han character replaced: a near copy."""
    chars = list(text)
    han = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    for i in han[::every]:
        chars[i] = "乙" if chars[i] != "乙" else "丙"
    return "".join(chars)


def split_corpus(root: Path) -> list[str]:
    """JSONL shards (and one text file) whose cleaning needs every corpus-level decision: the
    masthead goes by line statistics from the 8th page on, near and exact copies are dropped,
    pages repeat their article inside; some copies only become copies once the statistics
    took the masthead, some pages are left empty by them. Returns the shard names in order."""
    texts = []
    for i in range(60):
        body = "\n".join(BODY[(i * 2 + k) % len(BODY)] for k in range(2))
        if i % 10 == 3:
            text = f"{MASTHEAD}\n{body}\n首页 | 新闻 | 时政 | 评论 | 专题 | 视频\n{body}"  # the article twice
        elif i % 10 == 5:
            text = f"{MASTHEAD}\n" + texts[i - 4].split("\n", 1)[-1]  # a copy once the masthead goes
        elif i % 10 == 7:
            text = edited(texts[i - 6], 40)  # a near copy
        elif i % 10 == 9:
            text = MASTHEAD  # nothing left once the masthead goes
        else:
            text = f"{MASTHEAD}\n{body}\n版权所有 某某网 未经授权不得转载"
        texts.append(text)
    names = []
    for shard in range(4):
        name = f"s{shard}.jsonl"
        rows = [{"id": f"d{n}", "text": texts[n], "n": n} for n in range(shard * 15, shard * 15 + 15)]
        (root / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        names.append(name)
    return names


@pytest.mark.parametrize("chain", [[], ["--skip", "dedup"], ["--set", "boilerplate.line_stats_min_docs=0"]], ids=["default", "no-dedup", "no-line-stats"])
def test_split_stages_give_the_filters_output_for_any_jobs(tmp_path, chain):
    """Workers run the per-document halves of boilerplate and dedup; the ordered halves decide
    in the main process: the output equals the one-process filter's, record for record."""
    src = tmp_path / "in"
    src.mkdir()
    names = split_corpus(src)
    filtered = run_cli("--format", "jsonl", "--report", str(tmp_path / "filter-report.jsonl"), *chain, *names, cwd=src)
    assert filtered.returncode == 0, filtered.stderr
    expected_report = (tmp_path / "filter-report.jsonl").read_bytes().decode().splitlines()
    trees = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        r = run_cli("corpus", str(src), str(out), "-j", jobs, "-q", *chain)
        assert r.returncode == 0, r.stderr
        trees.append(tree(out))
        assert b"".join((out / name).read_bytes() for name in names) == filtered.stdout
        report = []
        for line in (out / "_cleancorp" / "report.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            del record["input"]
            report.append(json.dumps(record, ensure_ascii=False))
        assert report == expected_report
    assert trees[0] == trees[1]
    if chain:
        return
    # The corpus exercised every decision.
    report = [json.loads(x) for x in expected_report]
    assert sum('"line-stats"' in json.dumps(r) for r in report) >= 20
    measures = {r["stages"]["dedup"].get("measure") for r in report if r.get("drop_reason") == "duplicate"}
    assert "exact" in measures and measures - {"exact"}  # exact and near copies
    assert any(r.get("drop_reason") == "empty" for r in report)
    assert any("repeats_dropped" in r["stages"].get("dedup", {}) for r in report if r["kept"])
    later = [r for r in report if r["id"] in {f"d{n}" for n in range(15, 60, 10)}]
    assert later and all(r["drop_reason"] == "duplicate" for r in later)  # copies only without the masthead


def test_duplicate_line_is_the_report_line_of_the_dropped_document():
    """A worker writes a document's report line as kept; the main process derives the line of a
    duplicate from it. It must be the line the dropped document itself gives, also when the
    stages removed lines, dedup dropped a repeated body, or the document has a source."""
    from cleancorp.corpus import Unit, duplicate_line, report_line
    from cleancorp.document import Document
    from cleancorp.pipeline import Pipeline

    texts = [page(i) for i in range(6)]
    texts.append(page(7) + page(7))  # the body twice: dedup records what it dropped
    texts.append("\n".join(BODY[:3]))  # nothing for the last stages to record
    texts.append("區(qū)委全會強調，" + BODY[5])  # repair and convert record changes
    unit = Unit("in/s.jsonl", "s.jsonl", True)
    checked = 0
    for n, text in enumerate(texts):
        for meta in ({}, {"source": "s.jsonl"}):
            pipeline = Pipeline()
            doc = pipeline.process(Document(f"d{n}", text=text, metadata=dict(meta)))
            assert doc.dropped is None
            kept_line = report_line(doc, unit)
            for measure, similarity in (("jaccard", 0.8125), ("containment", 1.0), ("exact", 1.0)):
                derived = duplicate_line(kept_line, "dedup", "原件-1", similarity, measure)
                copy = Pipeline().process(Document(f"d{n}", text=text, metadata=dict(meta)))
                copy.drop("duplicate", "dedup", duplicate_of="原件-1", similarity=similarity, measure=measure)
                assert derived == report_line(copy, unit)
                checked += 1
    assert checked == len(texts) * 6
