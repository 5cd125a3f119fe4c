"""The HTML audit report: built from a corpus run, checked in headless Chromium, bounded on
100,000 documents, and inert against markup in the corpus."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cleancorp import report_html
from cleancorp.report_html import MAX_DIFFS, BuildStats, RunFiles, build_data, size_bound, write_report

from conftest import FIXTURES, ROOT, run_cli

HOSTILE = (
    "网页标题:测试页面\n"
    "<script>alert(1)</script>\n"
    "<img src=x onerror=\"document.title='pwned';alert(2)\">\n"
    "这是一段正常的中文正文，用来检查报告把网页标记当作文字显示，而不是执行其中的脚本。\n"
)


def _data_block(page: str) -> str:
    start = page.index('<script type="application/json" id="report-data">')
    return page[start : page.index("</script>", start)]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """The fixture pages plus a duplicate and a page of hostile markup, cleaned with --html."""
    base = tmp_path_factory.mktemp("report")
    src = base / "in"
    shutil.copytree(FIXTURES / "pages", src)
    (src / "zz-copy-of-clean.txt").write_bytes((FIXTURES / "pages" / "utf8-clean.txt").read_bytes())
    (src / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    out = base / "out"
    proc = run_cli("corpus", str(src), str(out), "-j", "1", "-q", "--html")
    assert proc.returncode == 0, proc.stderr.decode()
    return out


# -- the page without a browser ----------------------------------------------------------------


def test_corpus_html_writes_one_self_contained_page(run_dir):
    page = (run_dir / "_cleancorp" / "report.html").read_text(encoding="utf-8")
    # Nothing is fetched: no external script, style, image or font, no URL but the SVG namespace.
    assert not re.search(r"<(link|iframe|img|object|embed)\b", page)
    assert not re.search(r"\ssrc\s*=", page.replace(_data_block(page), ""))
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {"http://www.w3.org/2000/svg"}
    # Exactly the page's own two script elements, however much markup the corpus holds.
    assert page.count("<script") == 2
    block = _data_block(page)
    assert "<" not in block.split(">", 1)[1] and "&" not in block
    data = json.loads(block.split(">", 1)[1])
    assert "\\u003cscript\\u003ealert(1)" in block and "<script>alert(1)" in json.dumps(data, ensure_ascii=False)
    assert data["overview"]["docs_in"] == 8 and data["overview"]["dropped"] == [["duplicate", 1]]


def test_summary_records_in_root_for_the_report(run_dir):
    summary = json.loads((run_dir / "_cleancorp" / "summary.json").read_text(encoding="utf-8"))
    assert Path(summary["in_root"]) == run_dir.parent / "in"
    assert summary["text_field"] == "text"


def test_removed_lines_carry_the_rule_that_removed_them(run_dir):
    files = RunFiles.locate(str(run_dir / "_cleancorp" / "report.jsonl"))
    data = build_data(files)
    ids = data["docs"]["ids"]
    lines = {json.loads(x)["id"]: json.loads(x) for x in open(files.report, encoding="utf-8")}
    checked = 0
    for index, entry in data["diffs"].items():
        doc = lines[ids[int(index)]]
        expected = sorted(
            f"{stage}: {r['rule']}"
            for stage in ("boilerplate", "dedup")
            for r in doc["stages"].get(stage, {}).get("removed", [])
        )
        if not doc["kept"]:
            continue
        marked = sorted(row[2] for row in entry["rows"] if row[0] == "-" and not row[2].startswith("normalize"))
        assert marked == expected, doc["id"]
        checked += len(expected)
    assert checked >= 13  # every removed line of the fixture pages is found and named
    luxun = data["diffs"][str(ids.index("utf16-luxun.txt"))]["rows"]
    fixes = [seg for row in luxun if row[0] == "~" for seg in row[1] if isinstance(seg, list) and seg[2] == "artefacts"]
    assert fixes and all(seg[0] == "????" and seg[1] == "" for seg in fixes)


def test_report_subcommand_and_its_errors(run_dir, tmp_path):
    target = tmp_path / "again.html"
    proc = run_cli("report", str(run_dir / "_cleancorp" / "report.jsonl"), "-o", str(target))
    assert proc.returncode == 0, proc.stderr.decode()
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    missing = run_cli("report", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "x.html"))
    err = missing.stderr.decode()
    assert missing.returncode == 1 and err.count("\n") == 1 and "no such report file" in err
    assert "Traceback" not in err and not (tmp_path / "x.html").exists()


# -- 100,000 documents ----------------------------------------------------------------------------

RULES = ["nav-menu", "share", "copyright", "editor", "breadcrumb"]
FIXES = ["artefacts", "cjk_mojibake"]


def _make_large_run(base: Path, n: int, shards: int = 100) -> Path:
    """A run of ``n`` documents in JSONL shards: IN, OUT and a report line per document, each
    document with a menu line removed by one of RULES and some with a repair."""
    src, out = base / "in", base / "out"
    (out / "_cleancorp").mkdir(parents=True)
    src.mkdir()
    per = n // shards
    report = open(out / "_cleancorp" / "report.jsonl", "w", encoding="utf-8")
    for s in range(shards):
        name = f"shard-{s:03d}.jsonl"
        with open(src / name, "w", encoding="utf-8") as fin, open(out / name, "w", encoding="utf-8") as fout:
            for k in range(per):
                i = s * per + k
                doc_id = f"news-2024-{i:07d}"
                body = f"第{i}篇报道。市政府今天召开会议，研究部署下一阶段的重点工作。"
                fin.write(json.dumps({"id": doc_id, "text": f"首页 | 新闻 | {i % 7}\n????{body}"}, ensure_ascii=False) + "\n")
                dropped = i % 50 == 49
                line = {"id": doc_id, "source": f"{name}:{k + 1}", "kept": not dropped, "input": name, "stages": {
                    "decode": {"bytes": 120, "encoding": "utf-8", "method": "utf-8", "replacements": 0},
                    "repair": {"chars_changed": 4, "fixes": {FIXES[i % 2]: 1}, "changes": [{"fix": FIXES[i % 2], "before": "????", "after": ""}]},
                    "boilerplate": {"chars_changed": 12, "lines_removed": 1, "removed": [{"text": f"首页 | 新闻 | {i % 7}", "rule": RULES[i % len(RULES)], "line": 1}]},
                }}
                if dropped:
                    line.update(drop_reason="duplicate", dropped_by="dedup")
                    line["stages"]["dedup"] = {"duplicate_of": f"news-2024-{i - 1:07d}"}
                else:
                    fout.write(json.dumps({"id": doc_id, "text": body}, ensure_ascii=False) + "\n")
                report.write(json.dumps(line, ensure_ascii=False) + "\n")
    report.close()
    (out / "_cleancorp" / "summary.json").write_text(json.dumps({"in_root": str(src), "stages": []}), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def large_run(tmp_path_factory) -> Path:
    return _make_large_run(tmp_path_factory.mktemp("large"), 100_000)


def test_large_report_is_bounded_in_size_and_work(large_run, monkeypatch):
    diff_calls, lines_read = [0], [0]
    real_diff, real_iter = report_html.diff_document, report_html.iter_report

    def counting_diff(*args, **kwargs):
        diff_calls[0] += 1
        return real_diff(*args, **kwargs)

    def counting_iter(path):
        for line in real_iter(path):
            lines_read[0] += 1
            yield line

    monkeypatch.setattr(report_html, "diff_document", counting_diff)
    monkeypatch.setattr(report_html, "iter_report", counting_iter)
    page_path = large_run / "_cleancorp" / "report.html"
    stats = write_report(str(large_run / "_cleancorp" / "report.jsonl"), str(page_path))
    page = page_path.read_text(encoding="utf-8")
    data = json.loads(_data_block(page).split(">", 1)[1])
    ids = data["docs"]["ids"]
    assert len(ids) == 100_000 and ids[12345] == "news-2024-0012345"  # every id is searchable
    # Work: two streaming passes, one diff per embedded document, only those lines held.
    assert lines_read[0] == 2 * 100_000
    assert diff_calls[0] == stats.diffs <= MAX_DIFFS and stats.records_held <= MAX_DIFFS
    assert stats.diffs == MAX_DIFFS  # small documents: the budget lets every chosen diff in
    assert len(page.encode("utf-8")) == stats.bytes <= size_bound(ids)
    assert stats.bytes <= 12_500_000  # the README's bound for 100,000 documents with 30-character ids
    # Every rule, fix and drop reason has a document with an embedded diff.
    covered = {"rules": set(), "fixes": set(), "dropped": set()}
    for index, entry in data["diffs"].items():
        i = int(index)
        if not entry.get("rows"):
            continue
        covered["rules"].add(RULES[i % len(RULES)])
        covered["fixes"].add(FIXES[i % 2])
        covered["dropped"].add(i % 50 == 49)
        removed = [row for row in entry["rows"] if row[0] == "-"]
        assert removed and removed[0][2] == f"boilerplate: {RULES[i % len(RULES)]}"
    assert covered == {"rules": set(RULES), "fixes": set(FIXES), "dropped": {True, False}}
    # The choice is deterministic: the same run gives the same page.
    again = write_report(str(large_run / "_cleancorp" / "report.jsonl"), str(large_run / "again.html"))
    assert again.bytes == stats.bytes and (large_run / "again.html").read_bytes() == page.encode("utf-8")


def test_diff_budget_caps_the_embedded_texts(tmp_path, monkeypatch):
    out = _make_large_run(tmp_path, 400, shards=4)
    monkeypatch.setattr(report_html, "DIFF_BUDGET_BYTES", 20_000)
    stats = BuildStats()
    data = build_data(RunFiles.locate(str(out / "_cleancorp" / "report.jsonl")), stats=stats)
    with_rows = [e for e in data["diffs"].values() if e.get("rows")]
    assert 0 < len(with_rows) < len(data["diffs"]) and stats.diff_bytes <= 20_000 + 2_000 * len(data["diffs"])
    assert all("bytes of diffs are spent" in e["note"] for e in data["diffs"].values() if not e.get("rows"))


# -- in the browser -------------------------------------------------------------------------------


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed with apt-get when it is missing and we may (root)."""
    path = _find_chromium()
    if path is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=900)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "chromium", "fonts-wqy-zenhei"],
                env=env, capture_output=True, timeout=1800,
            )
        except (OSError, subprocess.TimeoutExpired):
            pass
        path = _find_chromium()
    if path is None:
        pytest.skip("headless Chromium is missing and cannot be installed here (needs root and apt-get: apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def browser(chromium):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives Chromium (pip install -e '.[test]')")
    with sync_api.sync_playwright() as p:
        # --no-sandbox: Chromium refuses its sandbox as root (CI and containers).
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield b
        b.close()


class PageWatch:
    """A page with every console error, uncaught exception and dialog it raised."""

    def __init__(self, browser, url: str) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1300, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: self.requests.append(r.url))
        from playwright.sync_api import expect

        self.expect = expect  # polls the DOM from outside: the page's CSP forbids evaluated strings
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready='1']")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open_doc(self, doc_id: str) -> None:
        self.page.click("#tab-docs")
        self.page.fill("#doc-search", doc_id)
        self.page.locator("#doc-list li", has_text=doc_id).first.click()
        self.page.wait_for_selector("#doc-view h2")


def test_report_in_chromium(browser, run_dir, tmp_path):
    page_path = run_dir / "_cleancorp" / "report.html"
    w = PageWatch(browser, page_path.as_uri())
    page = w.page
    # Overview: the cards and the charts.
    assert "documents in" in page.inner_text("#cards")
    for chart in ("docs", "bytes", "encodings", "script", "time", "chars"):
        assert page.locator(f"#chart-{chart} svg rect").count() >= 1, chart
    assert "gb18030" in page.inner_text("#chart-encodings") and "utf-16-le" in page.inner_text("#chart-encodings")
    # One rule with its samples.
    page.click("#tab-rules")
    row = page.locator('tr[data-rule="boilerplate:nav-menu"]')
    assert row.is_visible() and "首页 | 新闻" in row.inner_text()
    # One document's diff: removed lines named by rule, a converted line, a repaired span.
    w.open_doc("gbk-traditional-news.txt")
    diff = page.locator("#diff")
    assert "boilerplate: nav-menu" in diff.inner_text() and "dedup: repeat-of-line-2" in diff.inner_text()
    assert page.locator("#diff .row.del").count() >= 7 and page.locator("#diff span.convert").count() > 10
    w.open_doc("utf16-luxun.txt")
    assert page.locator("#diff span.fix[title^='artefacts'] del").first.inner_text() == "????"
    # A duplicate links to the document it duplicates.
    w.open_doc("zz-copy-of-clean.txt")
    page.locator("#doc-view .dup button").click()
    w.expect(page.locator("#doc-view h2")).to_have_text("utf8-clean.txt")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert w.errors == [] and w.dialogs == []
    assert all(url.startswith("file://") for url in w.requests), w.requests


def test_markup_in_the_corpus_shows_as_text(browser, run_dir):
    w = PageWatch(browser, (run_dir / "_cleancorp" / "report.html").as_uri())
    w.open_doc("hostile.txt")
    text = w.page.inner_text("#diff")
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=" in text
    for view in ("#tab-overview", "#tab-rules"):
        w.page.click(view)
    assert w.page.locator("img").count() == 0
    assert w.page.locator("script").count() == 2
    assert w.page.title() != "pwned" and w.dialogs == [] and w.errors == []


def test_large_report_stays_light_in_chromium(browser, large_run):
    page_path = large_run / "_cleancorp" / "report.html"
    if not page_path.exists():
        write_report(str(large_run / "_cleancorp" / "report.jsonl"), str(page_path))
    w = PageWatch(browser, page_path.as_uri())
    page = w.page
    page.click("#tab-docs")
    assert "100,000 documents" in page.inner_text("#doc-count")
    assert page.locator("#doc-list li").count() <= 201  # a bounded list in the DOM, not 100,000 rows
    page.fill("#doc-search", "news-2024-0099999")
    w.expect(page.locator("#doc-list li")).to_have_count(1)
    page.locator("#doc-list li").first.click()
    assert "duplicate of" in page.inner_text("#doc-view")
    assert w.errors == []


def test_demo_screenshot_is_committed():
    shot = ROOT / "docs" / "report.png"
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "docs/report.png" in (ROOT / "README.md").read_text(encoding="utf-8")
