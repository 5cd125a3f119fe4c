"""Make docs/report.png: the HTML report of `make demo` in headless Chromium.

    .venv/bin/python scripts/report_screenshot.py [REPORT_HTML] [PNG]

Needs Debian's `chromium` (apt-get install chromium fonts-wqy-zenhei) and the `playwright`
package of the test extra; no browser is downloaded. The picture shows the documents view with
the diff of the traditional GBK news page: removed lines named by rule, converted characters.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    page_path = Path(argv[0] if argv else ROOT / "out/demo/_cleancorp/report.html").resolve()
    png = Path(argv[1] if len(argv) > 1 else ROOT / "docs/report.png")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("report_screenshot: chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    if not page_path.is_file():
        print(f"report_screenshot: {page_path}: no such page (run `make demo` first)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    png.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(page_path.as_uri())
        page.wait_for_selector("body[data-ready='1']")
        page.click("#tab-docs")
        page.locator("#doc-list li", has_text="gbk-traditional-news.txt").first.click()
        page.wait_for_selector("#diff")
        page.screenshot(path=str(png))
        browser.close()
    print(f"wrote {png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
