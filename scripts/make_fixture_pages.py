#!/usr/bin/env python3
"""Regenerate fixtures/pages/ (dirty pages in several encodings) and fixtures/expected/
(their clean answers) from the clean sample in fixtures/clean/. Deterministic.

    python scripts/make_fixture_pages.py
"""
from __future__ import annotations

import codecs
import os
import sys

from opencc import OpenCC

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLEAN = os.path.join(ROOT, "fixtures", "clean")
PAGES = os.path.join(ROOT, "fixtures", "pages")
EXPECTED = os.path.join(ROOT, "fixtures", "expected")

s2t = OpenCC("s2t")
t2s = OpenCC("t2s")


def paragraphs(name: str, start: int, count: int, *, traditional_safe: str = "") -> list[str]:
    """`count` paragraphs of at least 30 characters from a clean file, starting at line `start`.
    With traditional_safe set to an encoding, keep only paragraphs whose traditional form
    encodes in it and converts back to exactly the same simplified text."""
    lines = open(os.path.join(CLEAN, name), encoding="utf-8").read().split("\n")
    out = []
    for line in lines[start:]:
        if len(line) < 30:
            continue
        if traditional_safe:
            trad = s2t.convert(line)
            if t2s.convert(trad) != line:
                continue
            try:
                trad.encode(traditional_safe)
            except UnicodeEncodeError:
                continue
        out.append(line)
        if len(out) == count:
            break
    return out


def write(name: str, data: bytes, expected: list[str]) -> None:
    os.makedirs(PAGES, exist_ok=True)
    os.makedirs(EXPECTED, exist_ok=True)
    with open(os.path.join(PAGES, name), "wb") as fh:
        fh.write(data)
    with open(os.path.join(EXPECTED, name), "w", encoding="utf-8") as fh:
        fh.write("\n".join(expected) + "\n")


def main() -> int:
    # 1. A traditional page in GBK: menu, breadcrumb, a paragraph pasted twice, editor line, footer.
    body = paragraphs("gov-work-reports.txt", 40, 5, traditional_safe="gbk")
    trad = [s2t.convert(p) for p in body]
    page = [
        "首頁 | 新聞 | 時政 | 評論 | 專題 | 視頻 | 圖片 | 區縣",
        "當前位置:首頁 > 要聞 > 正文",
        "",
        "\u3000\u3000" + trad[0],
        "\u3000\u3000" + trad[1],
        "\u3000\u3000" + trad[2],
        "\u3000\u3000" + trad[1],
        "\u3000\u3000" + trad[3],
        "\u3000\u3000" + trad[4],
        "[責任編輯: 王曉明]",
        "分享到: 微信 微博 QQ空間",
        "版權所有 某某日報社 未經授權不得轉載",
        "渝ICP備05003125號",
    ]
    write("gbk-traditional-news.txt", ("\r\n".join(page) + "\r\n").encode("gbk"), body)

    # 2. Big5 traditional page with a share bar and a copyright footer.
    body = paragraphs("laws.txt", 300, 4, traditional_safe="big5")
    page = ["分享至: 微信 朋友圈 微博", ""] + [s2t.convert(p) for p in body] + [
        "",
        "Copyright (c) 2024 法規資料庫 版權所有",
    ]
    write("big5-law-page.txt", ("\n".join(page) + "\n").encode("big5"), body)

    # 3. UTF-16 LE with BOM, simplified, paragraphs indented with `????` (lost full-width spaces).
    body = paragraphs("luxun.txt", 100, 5)
    page = ["????" + p for p in body] + ["关闭窗口"]
    write("utf16-luxun.txt", codecs.BOM_UTF16_LE + "\r\n".join(page).encode("utf-16-le"), body)

    # 4. UTF-8 with BOM, blank lines between paragraphs, trailing spaces, an editor line.
    body = paragraphs("gov-work-reports.txt", 150, 4)
    page = ["来源:新华社 2024-03-05 10:21", ""]
    for p in body:
        page += [p + "  ", "", ""]
    page += ["(责任编辑:李辉)"]
    write("utf8-bom-report.txt", codecs.BOM_UTF8 + "\n".join(page).encode("utf-8"), body)

    # 5. GB18030 page with a stray U+FFFD where a character was lost and a nav bar.
    body = paragraphs("luxun.txt", 400, 4)
    page = ["首页 | 小说 | 散文 | 杂文 | 诗歌 | 书评"] + body
    page[2] = page[2][:10] + "\ufffd" + page[2][10:]
    write("gb18030-story.txt", ("\n".join(page) + "\n").encode("gb18030"), body)

    # 6. Clean UTF-8 text: must come out unchanged.
    body = paragraphs("laws.txt", 600, 6)
    write("utf8-clean.txt", ("\n".join(body) + "\n").encode("utf-8"), body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
