"""A seeded, generated corpus of realistic scraped pages for the benchmark.

Pages are built from the clean paragraphs of ``fixtures/clean/`` (and of the shared clean corpus
when it is present): most are clean UTF-8 pages wrapped in page chrome (menu, breadcrumb, source
line, share bar, editor line, copyright footer); a minority are dirty (GBK or Big5 encoded,
traditional script, ``????`` indents, a repeated paragraph, a mojibake span). Nothing is
downloaded; the same seed gives the same bytes.

>>> paras = ["全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"] * 3
>>> page = make_page(random.Random(1), paras, paras, kind="clean", number=0)
>>> page.decode("utf-8").splitlines()[0]
'首页 | 新闻 | 国内 | 国际 | 财经 | 体育 | 评论'
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLEAN_DIRS = [ROOT / "fixtures" / "clean", ROOT.parent / "shared" / "corpora" / "zh-clean"]
WORK = ROOT / "bench" / "work"

#: Share of pages per kind; the rest are clean UTF-8 pages.
DIRTY_MIX = {"gbk": 0.04, "big5-traditional": 0.03, "traditional": 0.03, "question-indent": 0.03,
             "repeated": 0.03, "mojibake": 0.02}

MENUS = ["首页 | 新闻 | 国内 | 国际 | 财经 | 体育 | 评论", "网站首页 政务公开 办事服务 政民互动 走进本地",
         "首页 · 要闻 · 时政 · 社会 · 图片 · 视频", "新闻中心 | 滚动新闻 | 图片 | 专题 | 直播"]
SITES = ["新华网", "人民网", "中国新闻网", "本网", "央视网", "重庆日报"]
SHARES = ["分享到：微信 微博 QQ空间", "分享到: 微信 朋友圈 新浪微博", "【打印本页】 【关闭窗口】"]
EDITORS = ["责任编辑：王晓", "编辑：李明", "（责任编辑：张伟）", "责编：陈静"]
FOOTERS = ["Copyright © 2005-2024 {site} All Rights Reserved 京ICP备{n:08d}号",
           "版权所有 {site} 未经授权禁止转载 ICP备案号：渝ICP备{n:08d}号-1",
           "关于我们 | 联系我们 | 广告服务 | 版权声明 | 网站地图"]


def clean_paragraphs() -> list[str]:
    """Every non-empty line of the clean sample texts (the shared corpus too, when present)."""
    paras: list[str] = []
    for folder in CLEAN_DIRS:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.txt")):
            paras += [ln.strip() for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
    return paras


def traditional_paragraphs(paras: list[str], count: int, seed: int) -> list[str]:
    """``count`` long paragraphs in traditional script (converted once with OpenCC s2t), cached
    under bench/work/ because the reference converter is slow."""
    cache = WORK / f"traditional-{count}-{seed}-{len(paras)}.json"
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    from opencc import OpenCC

    rng = random.Random(seed)
    long = [p for p in paras if len(p) >= 40]
    picked = rng.sample(long, min(count, len(long)))
    s2t = OpenCC("s2t")
    out = [s2t.convert(p) for p in picked]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return out


def _encodable(paras: list[str], encoding: str) -> list[str]:
    out = []
    for p in paras:
        try:
            p.encode(encoding)
        except UnicodeEncodeError:
            continue
        out.append(p)
    return out


def _mojibake(text: str) -> str:
    """UTF-8 bytes read as cp1252: the garble ftfy-style repairs undo."""
    return text.encode("utf-8").decode("cp1252", "replace")


def make_page(rng: random.Random, paras: list[str], trad: list[str], kind: str, number: int) -> bytes:
    """One page of ``kind`` (clean, gbk, big5-traditional, traditional, question-indent,
    repeated, mojibake) as bytes."""
    source = trad if kind in ("big5-traditional", "traditional") else paras
    count = min(rng.randint(4, 24), len(source))
    # Paragraphs drawn from all over the text (kept in their order): 50 MB of pages from a few
    # MB of text, yet two pages rarely share enough to count as near-duplicates.
    body = [source[i] for i in sorted(rng.sample(range(len(source)), count))]
    site = rng.choice(SITES)
    title = body[0][:24] if body else "新闻"
    lines = [MENUS[number % len(MENUS)], "当前位置：首页 > 新闻 > 正文", title,
             f"来源：{site}  {2010 + number % 14}-{1 + number % 12:02d}-{1 + number % 28:02d} 10:{number % 60:02d}"]
    body = list(body)
    if kind == "question-indent":
        body = ["????" + p for p in body]
    elif kind == "repeated" and len(body) > 2:
        body.insert(rng.randrange(2, len(body)), body[1])
    elif kind == "mojibake" and body:
        i = rng.randrange(len(body))
        cut = min(len(body[i]), 12)
        body[i] = _mojibake(body[i][:cut]) + body[i][cut:]
    lines += body
    lines += [rng.choice(SHARES), rng.choice(EDITORS),
              rng.choice(FOOTERS).format(site=site, n=rng.randrange(10**8))]
    text = "\n".join(lines) + "\n"
    if kind == "gbk":
        return text.encode("gbk", "replace")
    if kind == "big5-traditional":
        return text.encode("big5", "replace")
    return text.encode("utf-8")


def page_kinds(rng: random.Random, n: int) -> list[str]:
    kinds = []
    for _ in range(n):
        x = rng.random()
        kind = "clean"
        for name, share in DIRTY_MIX.items():
            if x < share:
                kind = name
                break
            x -= share
        kinds.append(kind)
    return kinds


def build_corpus(target_mb: float = 50, seed: int = 1, work: Path = WORK) -> Path:
    """Write pages (one file each) until ``target_mb`` MB, into a cached folder; return it.
    The folder holds ``manifest.json`` with each page's kind and size."""
    folder = work / f"corpus-v2-{target_mb:g}mb-seed{seed}"
    manifest = folder / "manifest.json"
    if manifest.exists():
        return folder
    paras = clean_paragraphs()
    trad = traditional_paragraphs(paras, 400, seed)
    gbk_paras = _encodable(paras, "gbk")
    big5_trad = _encodable(trad, "big5")
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    total = 0
    target = int(target_mb * 1024 * 1024)
    number = 0
    while total < target:
        kind = page_kinds(rng, 1)[0]
        pool = gbk_paras if kind == "gbk" else paras
        data = make_page(rng, pool, big5_trad if kind == "big5-traditional" else trad, kind, number)
        name = f"page-{number:06d}.txt"
        (folder / name).write_bytes(data)
        pages.append({"file": name, "kind": kind, "bytes": len(data)})
        total += len(data)
        number += 1
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps({"seed": seed, "bytes": total, "pages": pages}), encoding="utf-8")
    os.replace(tmp, manifest)
    return folder


def load_manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
