"""Huge documents: inputs over --max-doc-mb are cleaned in segments with flat memory."""
from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from pathlib import Path

import cleancorp.segments
from conftest import FIXTURES, ROOT, run_cli

MB = 1024 * 1024


def clean_paragraphs() -> list[str]:
    paras: list[str] = []
    for path in sorted((FIXTURES / "clean").glob("*.txt")):
        paras += [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
    return paras


def write_document(path: Path, size: int, *, blank_every: int = 7, repeat_long: bool = False) -> None:
    """About ``size`` bytes of clean paragraphs, each numbered so none repeats, blank lines
    between some; with ``repeat_long`` a long paragraph early on comes back near the end."""
    paras = clean_paragraphs()
    long_para = max(paras, key=len)
    written = 0
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        if repeat_long:
            fh.write(long_para + "\n")
        while written < size:
            block = []
            for _ in range(100):
                block.append(f"{paras[n % len(paras)]}（第{n}段）\n")
                if n % blank_every == 0:
                    block.append("\n")
                n += 1
            data = "".join(block)
            fh.write(data)
            written += len(data.encode("utf-8"))
        if repeat_long:
            fh.write(long_para + "\n")


def run_stdin(args: list[str], stdin_path: Path) -> tuple[int, bytes, bytes]:
    """Run the CLI with a file as its standard input; return exit code, stdout, stderr."""
    with open(stdin_path, "rb") as fh:
        r = subprocess.run([sys.executable, "-m", "cleancorp", *args], stdin=fh, capture_output=True,
                           cwd=ROOT, timeout=600)
    return r.returncode, r.stdout, r.stderr


PEAK_RSS_PROBE = """
import resource, subprocess, sys
with open(sys.argv[1], "rb") as src, open(sys.argv[2], "wb") as dst:
    code = subprocess.call([sys.executable, "-m", "cleancorp", *sys.argv[3:]], stdin=src, stdout=dst)
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_kib(stdin_path: Path, out_path: Path, *args: str) -> int:
    """Peak RSS (KiB) of the CLI cleaning ``stdin_path``, measured in a fresh process so no
    other child counts."""
    r = subprocess.run([sys.executable, "-c", PEAK_RSS_PROBE, str(stdin_path), str(out_path), *args],
                       capture_output=True, cwd=ROOT, timeout=600)
    code, rss = r.stdout.decode().split()
    assert code == "0", r.stderr.decode()[-500:]
    return int(rss)


def test_doctests_run():
    result = doctest.testmod(cleancorp.segments)
    assert result.attempted >= 8 and result.failed == 0


def test_segmented_output_equals_whole_output(tmp_path):
    src = tmp_path / "doc.txt"
    write_document(src, 5 * MB, repeat_long=True)
    code, whole, err = run_stdin([], src)
    assert code == 0, err[-500:]
    code, parts, err = run_stdin(["--max-doc-mb", "1", "--report", str(tmp_path / "r.jsonl")], src)
    assert code == 0, err[-500:]
    assert parts == whole
    # The long paragraph that came back at the end is gone in both.
    long_para = max(clean_paragraphs(), key=len).encode("utf-8")
    assert parts.split(b"\n").count(long_para) == 1
    report = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(report) == 1 and report[0]["kept"] is True
    assert report[0]["stages"]["decode"]["segments"] >= 3
    assert report[0]["stages"]["dedup"]["removed"][0]["rule"] == "repeat-of-earlier-segment"


def test_gbk_input_decoded_across_reads(tmp_path):
    utf8 = tmp_path / "doc.txt"
    write_document(utf8, 3 * MB)
    gbk = tmp_path / "doc-gbk.txt"
    gbk.write_bytes(utf8.read_text(encoding="utf-8").encode("gb18030"))
    code, whole, err = run_stdin([], utf8)
    assert code == 0, err[-500:]
    # 0.3 MB: the 1 MB reads end inside two-byte characters, the decoder carries them over.
    code, parts, err = run_stdin(["--max-doc-mb", "0.3"], gbk)
    assert code == 0, err[-500:]
    assert parts == whole


def test_one_line_longer_than_a_segment(tmp_path):
    line = "新闻发布会上，发言人介绍了有关情况。" * (3 * MB // 54)
    src = tmp_path / "line.txt"
    src.write_text(line, encoding="utf-8")
    r = run_cli("--max-doc-mb", "0.5", str(src), timeout=300)
    assert r.returncode == 0, r.stderr[-500:]
    assert r.stdout == line.encode("utf-8") + b"\n"


def test_output_dir_and_empty_result(tmp_path):
    src = tmp_path / "big.txt"
    write_document(src, 2 * MB)
    out = tmp_path / "out"
    r = run_cli("--max-doc-mb", "0.5", "-o", str(out), str(src), timeout=300)
    assert r.returncode == 0, r.stderr[-500:]
    whole = run_cli(str(src), timeout=300)
    assert (out / "big.txt").read_bytes() == whole.stdout
    # A large input with nothing left to keep leaves no output file, as a small one does.
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b"   \n\n" * (MB // 5))
    r = run_cli("--max-doc-mb", "0.5", "-o", str(out), str(blank), "--report", str(tmp_path / "r.jsonl"))
    assert r.returncode == 0, r.stderr[-500:]
    assert not (out / "blank.txt").exists()
    assert json.loads((tmp_path / "r.jsonl").read_text(encoding="utf-8"))["drop_reason"] == "empty"


def test_bad_max_doc_mb_is_a_usage_error():
    r = run_cli("--max-doc-mb", "0")
    assert r.returncode == 2
    assert b"--max-doc-mb" in r.stderr and b"Traceback" not in r.stderr


def test_memory_stays_flat_on_a_large_stdin_document(tmp_path):
    """A 40 MB document through stdin: the peak RSS of the child is bounded by the segment
    buffers, not the input: doubling the input from 20 MB to 40 MB adds next to nothing
    (a memory bound, not a timing one)."""
    small = tmp_path / "small.txt"
    write_document(small, 20 * MB)
    big = tmp_path / "big.txt"
    write_document(big, 40 * MB)
    args = ("--max-doc-mb", "2")
    base = peak_rss_kib(small, tmp_path / "small.out", *args)
    peak = peak_rss_kib(big, tmp_path / "big.out", *args)
    assert os.path.getsize(tmp_path / "big.out") > 30 * MB
    grown_mb = (peak - base) / 1024
    assert grown_mb < 8, f"peak RSS grew by {grown_mb:.0f} MB from 20 MB to 40 MB of input (base {base // 1024} MB)"
