"""The command-line contract, run as a subprocess the way users and other tools run it."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import FIXTURES, run_cli

PAGE_GBK = (  # the title and lead repeated inside the page: dedup drops the second copy
    "首頁 | 新聞 | 時政 | 評論 | 專題 | 視頻\n"
    "區委全會召開\n"
    "\u3000\u3000全會由區委常委會主持。區委書記王俊講話，強調要堅持穩中求進工作總基調。\n"
    "\u3000\u3000會議指出，一年來全區上下緊密團結，經濟社會發展取得新成績。\n"
    "區委全會召開\n"
    "\u3000\u3000全會由區委常委會主持。區委書記王俊講話，強調要堅持穩中求進工作總基調。\n"
    "版權所有 重慶某某網 未經授權不得轉載\n"
).encode("gbk")
PAGE_CLEAN = (
    "区委全会召开\n"
    "全会由区委常委会主持。区委书记王俊讲话，强调要坚持稳中求进工作总基调。\n"
    "会议指出，一年来全区上下紧密团结，经济社会发展取得新成绩。\n"
).encode("utf-8")


def test_gbk_traditional_page_through_stdin():
    r = run_cli(stdin=PAGE_GBK)
    assert r.returncode == 0, r.stderr
    assert r.stdout == PAGE_CLEAN
    assert r.stderr == b""


def test_files_follow_one_another(tmp_path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_bytes("第一篇文章的正文。".encode("utf-8"))
    b.write_bytes("第二篇文章的正文。\n\n".encode("gb18030"))
    r = run_cli(str(a), str(b))
    assert r.returncode == 0
    assert r.stdout.decode() == "第一篇文章的正文。\n第二篇文章的正文。\n"
    r = run_cli("-", stdin="标准输入的文字。".encode())
    assert r.stdout.decode() == "标准输入的文字。\n"


def test_output_dir_one_file_per_input_and_drops(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_bytes(PAGE_GBK)
    (src / "dup.txt").write_bytes(PAGE_GBK)  # exact duplicate after cleaning: dropped
    (src / "empty.txt").write_bytes(b"")
    out = tmp_path / "out"
    report = tmp_path / "report.jsonl"
    r = run_cli("-o", str(out), "--report", str(report), *sorted(str(p) for p in src.iterdir()))
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["a.txt"]
    assert (out / "a.txt").read_bytes() == PAGE_CLEAN
    lines = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
    assert [(x["id"].rsplit("/", 1)[-1], x["kept"], x.get("drop_reason")) for x in lines] == [
        ("a.txt", True, None),
        ("dup.txt", False, "duplicate"),
        ("empty.txt", False, "empty"),
    ]
    assert lines[0]["stages"]["decode"]["encoding"] == "gb18030"
    assert lines[1]["stages"]["dedup"]["duplicate_of"].endswith("a.txt")
    removed = lines[0]["stages"]["boilerplate"]["removed"]
    assert {x["rule"] for x in removed} == {"nav-menu", "copyright"}
    # outputs are written atomically: no temporary files left behind
    assert not [n for n in os.listdir(out) if n.startswith(".")]


def test_output_dir_refuses_to_overwrite_input(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes("正文。".encode())
    r = run_cli("-o", str(tmp_path), str(f))
    assert r.returncode == 2
    assert b"would overwrite the input" in r.stderr
    assert f.read_bytes() == "正文。".encode()


def test_jsonl_fields_preserved_dropped_omitted_broken_lines_reported(tmp_path):
    rows = [
        {"id": "1", "text": "中國共產黨", "url": "http://a", "n": 3},
        {"id": "2", "text": "中國共產黨", "url": "http://b"},  # duplicate of 1 after cleaning
        "{not json",
        [1, 2],
        {"id": "5", "body": "没有 text 字段"},
        {"id": "6", "text": "  "},
    ]
    data = "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    report = tmp_path / "r.jsonl"
    r = run_cli("--format", "jsonl", "--report", str(report), stdin=data.encode())
    assert r.returncode == 1
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert out == [{"id": "1", "text": "中国共产党", "url": "http://a", "n": 3}]
    err = r.stderr.decode().splitlines()
    assert len(err) == 3
    assert err[0].startswith("cleancorp: <stdin>:3: not valid JSON")
    assert "<stdin>:4: a JSON list" in err[1]
    assert "<stdin>:5: field 'text' is missing" in err[2]
    assert b"Traceback" not in r.stderr
    rep = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
    # every document is accounted for: 6 in, 1 out, 5 in the report with a reason
    assert len(rep) == 6
    assert sum(1 for x in rep if x["kept"]) == 1
    assert all(x.get("drop_reason") for x in rep if not x["kept"])


def test_jsonl_text_field_option():
    r = run_cli("--format", "jsonl", "--text-field", "body", stdin='{"body": "臺灣"}\n'.encode())
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"body": "台湾"}


def test_stages_skip_set_and_config(tmp_path):
    r = run_cli("--stages", "decode,normalize", stdin="中國  \n".encode())
    assert r.stdout.decode() == "中國\n"
    r = run_cli("--skip", "convert", stdin="中國\n".encode())
    assert r.stdout.decode() == "中國\n"
    r = run_cli("--convert", "none", stdin="中國\n".encode())
    assert r.stdout.decode() == "中國\n"
    r = run_cli("--set", "normalize.blank_lines=keep", stdin="甲\n\n乙\n".encode())
    assert r.stdout.decode() == "甲\n\n乙\n"
    cfg = tmp_path / "c.toml"
    cfg.write_text('skip = ["convert"]\n', encoding="utf-8")
    r = run_cli("--config", str(cfg), stdin="中國\n".encode())
    assert r.stdout.decode() == "中國\n"


def test_usage_errors_exit_2_in_one_line(tmp_path):
    for args in (
        ["--stages", "decode,nope"],
        ["--convert", "x2y"],
        ["--set", "normalize"],
        ["--set", "normalize.colour=red"],
        ["--config", str(tmp_path / "missing.toml")],
        ["--format", "xml"],
    ):
        r = run_cli(*args, stdin=b"x")
        assert r.returncode == 2, args
        assert b"Traceback" not in r.stderr
        assert r.stderr.strip(), args


def test_stages_subcommand_lists_every_stage():
    r = run_cli("stages")
    assert r.returncode == 0
    text = r.stdout.decode()
    for name in ("decode", "repair", "convert", "normalize", "boilerplate", "dedup"):
        assert f" {name} " in text


def test_missing_file_and_directory_exit_1_but_others_still_cleaned(tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_bytes("正文。".encode())
    r = run_cli(str(tmp_path / "missing.txt"), str(tmp_path), str(ok))
    assert r.returncode == 1
    assert r.stdout.decode() == "正文。\n"
    err = r.stderr.decode().splitlines()
    assert len(err) == 2
    assert "missing.txt: No such file or directory" in err[0]
    assert "is a directory" in err[1]


def test_files_cleaned_in_batches_report_and_write_in_input_order(tmp_path, clean_lines):
    # Readable, unreadable, over --max-doc-mb and duplicate inputs mixed: the report has one
    # record per input in input order, stdout the kept texts in order, stderr each error once.
    body = "全会充分肯定一年来全区贯彻落实重要讲话精神的工作，认为成绩来之不易。"
    long_lines = [line for line in clean_lines if len(line) > 60]
    names = []
    for i in range(70):
        path = tmp_path / f"p{i:03d}.txt"
        path.write_bytes(f"第{i}篇。{long_lines[3 * i]}".encode())
        names.append(str(path))
    names.insert(5, str(tmp_path / "missing.txt"))
    big = tmp_path / "big.txt"
    big.write_bytes((f"长文。{body}\n" * 11000).encode())
    names.insert(40, str(big))
    names.append(names[0])  # the same page again: a duplicate
    report = tmp_path / "report.jsonl"
    r = run_cli("--max-doc-mb", "1", "--report", str(report), *names)
    assert r.returncode == 1
    assert r.stderr.decode().count("missing.txt") == 1
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [rec["source"] if rec.get("rejected") else rec["id"] for rec in records] == names
    assert [rec.get("drop_reason") for rec in records].count("duplicate") == 1
    out = r.stdout.decode().split("\n")
    firsts = [line[:5] for line in out if line.startswith(("第", "长文"))]
    assert firsts[:6] == [f"第{i}篇。{long_lines[3 * i][0]}" for i in range(6)]
    big_at = next(i for i, line in enumerate(out) if line.startswith("长文"))
    # big.txt is input 40: after page 38 (the missing file is input 5), before page 39.
    assert out[big_at - 1].startswith("第38篇") and next(l for l in out[big_at:] if l.startswith("第")).startswith("第39篇")


def test_binary_input_rejected_with_reason(tmp_path):
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"abc\x00\x01\x02\xff\xfe\x00\x13" * 100)
    r = run_cli(str(png), str(blob))
    assert r.returncode == 1
    assert r.stdout == b""
    err = r.stderr.decode().splitlines()
    assert err == [f"cleancorp: {png}: binary input (PNG image)", f"cleancorp: {blob}: binary input (NUL bytes, not UTF-16)"]


def test_empty_input_is_not_an_error():
    r = run_cli(stdin=b"")
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")


def test_undecodable_bytes_become_visible_not_lost(tmp_path):
    # Valid GBK with one truncated pair at the end: the lone byte is reported, not dropped silently.
    data = "重庆日报报道，全会召开。".encode("gbk") + b"\xd6"
    report = tmp_path / "r.jsonl"
    r = run_cli("--stages", "decode", "--report", str(report), stdin=data)
    assert r.returncode == 0
    assert r.stdout.decode() == "重庆日报报道，全会召开。\ufffd\n"
    assert json.loads(report.read_text(encoding="utf-8"))["stages"]["decode"]["replacements"] == 1


def test_report_through_a_link_or_device_is_written_through(tmp_path):
    target = tmp_path / "real.jsonl"
    target.write_text("", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    r = run_cli("--report", str(link), stdin="正文。".encode())
    assert r.returncode == 0
    assert link.is_symlink()  # never replaced by a regular file
    assert json.loads(target.read_text(encoding="utf-8"))["kept"] is True


def test_closed_stdout_ends_quietly(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("这是一行足够长的中文正文，用来测试管道被提前关闭时的行为。\n" * 200_000, encoding="utf-8")
    cmd = f"{sys.executable} -m cleancorp --stages decode,normalize {big} {big} {big} | head -1"
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, timeout=120)
    assert r.stdout.decode().startswith("这是一行")
    assert r.stderr == b""
    assert r.returncode == 0


def test_fifty_megabyte_line_passes_through(tmp_path):
    line = "新闻发布会上，发言人介绍了有关情况。" * (50 * 1024 * 1024 // 54)
    f = tmp_path / "long.txt"
    f.write_text(line, encoding="utf-8")
    r = run_cli(str(f), timeout=300)
    assert r.returncode == 0, r.stderr[-500:]
    assert r.stdout == line.encode("utf-8") + b"\n"


def test_input_files_never_modified(tmp_path):
    src = tmp_path / "page.txt"
    src.write_bytes(PAGE_GBK)
    before = (src.read_bytes(), os.stat(src).st_mtime_ns)
    run_cli("-o", str(tmp_path / "out"), str(src))
    run_cli(str(src))
    assert (src.read_bytes(), os.stat(src).st_mtime_ns) == before


def test_fixture_pages_clean_to_expected(tmp_path):
    pages = sorted((FIXTURES / "pages").glob("*.txt"))
    assert len(pages) >= 6
    r = run_cli("-o", str(tmp_path), *map(str, pages))
    assert r.returncode == 0, r.stderr
    for page in pages:
        expected = (FIXTURES / "expected" / page.name).read_text(encoding="utf-8")
        assert (tmp_path / page.name).read_text(encoding="utf-8") == expected, page.name


def test_explain_and_summary():
    r = run_cli("--explain", "--summary", stdin=PAGE_GBK)
    err = r.stderr.decode()
    assert "boilerplate/nav-menu" in err and "dedup/repeat-of-line-" in err
    assert "decode" in err and "documents: 1 in, 1 out" in err
