"""The families of dirty documents, each a generator function registered by name.

A family function takes a seeded ``random.Random`` and a :class:`Source` of clean simplified
paragraphs and returns :class:`Case` objects: the dirty bytes as a scraper would have saved them,
the clean answer (the clean paragraphs joined by ``\\n``, which is what the default chain should
output), and every line of the page labelled ``content``, ``chrome`` or ``repeat``.
Add a family by writing one more function with ``@family("name")``; its docstring's first line
paragraph is its description in ``--list``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from . import chrome, garbles

ROOT = Path(__file__).resolve().parent.parent.parent
CLEAN_DIR = ROOT / "fixtures" / "clean"
CONTENT, CHROME, REPEAT = "content", "chrome", "repeat"


@dataclass
class Case:
    """One generated document with its answer."""

    id: str
    family: str
    raw: bytes
    answer: str
    lines: list[tuple[str, str]]  # (label, clean text of the line)
    note: str = ""  # how it was made, e.g. "gbk" or "utf-8 read as gbk"
    duplicate_of: str | None = None  # the case this one copies (dedup should drop it)
    control: bool = False  # clean input: the dirty form is the answer

    def to_json(self) -> dict:
        return {"id": self.id, "family": self.family, "note": self.note, "answer": self.answer,
                "lines": [list(x) for x in self.lines], "duplicate_of": self.duplicate_of,
                "control": self.control}


@dataclass
class Family:
    name: str
    make: Callable[[random.Random, "Source", int], list[Case]]
    count: int
    description: str


FAMILIES: dict[str, Family] = {}


def family(name: str, count: int = 20) -> Callable:
    """Register a family generator under ``name``, making ``count`` documents by default."""

    def register(fn: Callable) -> Callable:
        first_paragraph = (fn.__doc__ or "").strip().split("\n\n")[0]
        description = " ".join(line.strip() for line in first_paragraph.splitlines())
        FAMILIES[name] = Family(name, fn, count, description)
        return fn

    return register


# -- the clean material ------------------------------------------------------------------------

@lru_cache(maxsize=1)
def clean_files() -> tuple[tuple[str, ...], ...]:
    """Paragraphs of the shipped clean sample, one tuple per file (order kept)."""
    files = sorted(CLEAN_DIR.glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"{CLEAN_DIR}: no clean sample (*.txt) to generate from")
    return tuple(tuple(ln.strip() for ln in p.read_text(encoding="utf-8").split("\n") if 8 <= len(ln.strip()) <= 600)
                 for p in files)


@lru_cache(maxsize=None)
def _opencc(profile: str):
    from opencc import OpenCC

    return OpenCC(profile)


@lru_cache(maxsize=200_000)
def to_traditional(text: str) -> str:
    """The traditional form (OpenCC s2t), cached.

    >>> to_traditional("经济发展")
    '經濟發展'
    """
    return _opencc("s2t").convert(text)


@lru_cache(maxsize=200_000)
def round_trips(text: str) -> bool:
    """True when t2s(s2t(text)) == text, so a traditional copy has a well-defined answer."""
    return _opencc("t2s").convert(to_traditional(text)) == text


def encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def want_traditional(p: str) -> bool:
    return round_trips(p)


def want_big5(p: str) -> bool:
    return round_trips(p) and encodable(to_traditional(p), "big5")


def want_gbk(p: str) -> bool:
    return encodable(p, "gbk")


class Source:
    """Draws runs of consecutive clean paragraphs, never the same paragraph twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.files = clean_files()
        self.used: set[tuple[int, int]] = set()

    def paragraphs(self, want: Callable[[str], bool] = want_gbk, low: int = 2, high: int = 6,
                   max_chars: int = 1600) -> list[str]:
        for _ in range(500):
            f = self.rng.randrange(len(self.files))
            lines = self.files[f]
            start = self.rng.randrange(len(lines))
            run: list[str] = []
            size = 0
            goal = self.rng.randint(low, high)
            for i in range(start, len(lines)):
                p = lines[i]
                if (f, i) in self.used or not want(p) or (run and size + len(p) > max_chars):
                    break
                run.append(p)
                size += len(p)
                if len(run) == goal:
                    break
            if len(run) >= low:
                for i in range(start, start + len(run)):
                    self.used.add((f, i))
                return run
        raise RuntimeError("the clean sample has too few usable paragraphs for this family")


# -- helpers ----------------------------------------------------------------------------------

def content_lines(paragraphs: Iterable[str]) -> list[tuple[str, str]]:
    return [(CONTENT, p) for p in paragraphs]


def answer_of(lines: list[tuple[str, str]]) -> str:
    return "\n".join(text for label, text in lines if label == CONTENT)


def joiner(rng: random.Random) -> str:
    return rng.choice(["\n", "\n", "\n\n", "\r\n"])


def make_case(fam: str, i: int, raw: bytes, lines: list[tuple[str, str]], note: str, **kw) -> Case:
    return Case(f"{fam}-{i:03d}", fam, raw, answer_of(lines), lines, note, **kw)


BOMS = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}


def encode_family(name: str, codec: str, bom: bool = False, traditional: bool = False):
    """A family of clean pages stored in ``codec`` (`utf-16`: LE or BE at random), with its byte
    order mark when ``bom``; ``traditional``: the traditional form is stored."""

    def make(rng: random.Random, src: Source, n: int) -> list[Case]:
        cases = []
        for i in range(n):
            want = want_big5 if codec == "big5" else (want_traditional if traditional else want_gbk)
            paras = src.paragraphs(want)
            lines = content_lines(paras)
            text = joiner(rng).join(to_traditional(p) if traditional else p for p in paras)
            use = rng.choice(["utf-16-le", "utf-16-be"]) if codec == "utf-16" else codec
            raw = (BOMS[use] if bom else b"") + text.encode(use)
            cases.append(make_case(name, i, raw, lines, use + (" with BOM" if bom else "")))
        return cases

    return make


# -- encodings ---------------------------------------------------------------------------------

@family("clean")
def clean_control(rng: random.Random, src: Source, n: int) -> list[Case]:
    """Control: clean UTF-8 pages, some with body sentences that look like chrome (版权, 首页, `?`).

    Nothing may change: every character lost here is harm to clean text.
    """
    cases = []
    for i in range(n):
        paras = src.paragraphs()
        for _ in range(rng.choice([0, 1, 2])):
            paras.insert(rng.randint(0, len(paras)), rng.choice(chrome.LOOKALIKES))
        paras = list(dict.fromkeys(paras))
        lines = content_lines(paras)
        cases.append(make_case("clean", i, answer_of(lines).encode("utf-8"), lines, "utf-8", control=True))
    return cases


FAMILIES_BY_ENCODING = [
    ("enc-gb18030", "gb18030", False, False, "Clean pages saved as GB18030 (`会议` → `\\xbb\\xe1\\xd2\\xe9`)."),
    ("enc-gbk", "gbk", False, False, "Clean pages saved as GBK (`会议` → `\\xbb\\xe1\\xd2\\xe9`)."),
    ("enc-big5", "big5", False, True, "The traditional form of clean pages saved as Big5 (`會議` → `\\xb7|\\xc4\\xb3`; answer: simplified)."),
    ("enc-utf16-bom", "utf-16", True, False, "Clean pages saved as UTF-16 LE or BE with a BOM (`\\xff\\xfe\\x1a\\x4f...`)."),
    ("enc-utf16", "utf-16", False, False, "Clean pages saved as UTF-16 LE or BE without a BOM (`\\x1a\\x4f\\xae\\x8b`)."),
    ("enc-utf8-bom", "utf-8", True, False, "Clean pages saved as UTF-8 with a BOM (`\\xef\\xbb\\xbf` first)."),
]
for _name, _codec, _bom, _trad, _doc in FAMILIES_BY_ENCODING:
    _fn = encode_family(_name, _codec, _bom, _trad)
    _fn.__doc__ = _doc
    family(_name, count=12)(_fn)


# -- mojibake ----------------------------------------------------------------------------------

def misread_family(name: str, written: list[str], read: list[str]):
    def make(rng: random.Random, src: Source, n: int) -> list[Case]:
        cases = []
        for i in range(n):
            paras = src.paragraphs(low=1, high=4, max_chars=900)
            w, r = rng.choice(written), rng.choice(read)
            text = "\n".join(garbles.misread(p, w, r) for p in paras)
            cases.append(make_case(name, i, text.encode("utf-8"), content_lines(paras), f"{w} read as {r}, saved as utf-8"))
        return cases

    return make


_MISREADS = [
    ("utf8-as-gbk", ["utf-8"], ["gbk", "gb18030"],
     "UTF-8 pages read as GBK/GB18030 like a browser (`浼氳\\ufffd`), saved as UTF-8."),
    ("gbk-as-latin1", ["gbk", "gb18030"], ["latin-1", "cp1252-browser"],
     "GBK pages read as Latin-1 or cp1252 (`»áÒé`), saved as UTF-8."),
    ("utf8-as-cp1252", ["utf-8"], ["cp1252-browser"],
     "UTF-8 pages read as cp1252 like a browser, undefined bytes as C1 controls (`ä¼šè®®`)."),
]
for _name, _w, _r, _doc in _MISREADS:
    _fn = misread_family(_name, _w, _r)
    _fn.__doc__ = _doc
    family(_name, count=16)(_fn)


@family("garbled-span", count=16)
def garbled_span(rng: random.Random, src: Source, n: int) -> list[Case]:
    """One clause of an otherwise clean UTF-8 page misread (as GBK, Latin-1 or cp1252).

    e.g. `全会认为，` + misread(`一年来全区工作成绩显著`) + `。`
    """
    methods = [("utf-8", "gbk"), ("gbk", "latin-1"), ("utf-8", "cp1252-browser"), ("gbk", "cp1252-browser")]
    cases = []
    for i in range(n):
        paras = src.paragraphs(low=3, high=6)
        k = rng.randrange(len(paras))
        p = paras[k]
        cuts = [j + 1 for j, ch in enumerate(p) if ch in "，。；：,;:" and j + 1 < len(p)]
        bounds = [0] + cuts + [len(p)]
        a = rng.randrange(len(bounds) - 1)
        b = min(len(bounds) - 1, a + rng.randint(1, 2))
        w, r = rng.choice(methods)
        dirty = p[: bounds[a]] + garbles.misread(p[bounds[a]: bounds[b]], w, r) + p[bounds[b]:]
        text = "\n".join(dirty if j == k else q for j, q in enumerate(paras))
        cases.append(make_case("garbled-span", i, text.encode("utf-8"), content_lines(paras), f"one span {w} read as {r}"))
    return cases


@family("phase-shift", count=16)
def phase_shift(rng: random.Random, src: Source, n: int) -> list[Case]:
    """A lost lead byte in GBK (simplified) or Big5 (traditional) text: rare characters until the
    next ASCII byte (`会议指出?挛欧⒉蓟嵘\\ufffd,宣布`), sometimes NFKC-folded afterwards."""
    cases = []
    for i in range(n):
        codec = rng.choice(["gbk", "big5"])
        traditional = codec == "big5"
        paras = src.paragraphs(want_big5 if traditional else want_gbk, low=2, high=5)
        shown = [to_traditional(p) if traditional else p for p in paras]
        k = rng.randrange(len(shown))
        p = shown[k]
        starts = [j for j, ch in enumerate(p) if ord(ch) > 0x7F]
        j = rng.choice(starts[: max(1, len(starts) // 2)])
        shown[k] = garbles.lose_lead_byte(p, j, codec)
        text = "\n".join(shown)
        folded = rng.random() < 0.4
        if folded:
            text = garbles.nfkc(text)
        note = f"{codec} lead byte lost" + (", NFKC-folded" if folded else "")
        cases.append(make_case("phase-shift", i, text.encode("utf-8"), content_lines(paras), note))
    return cases


# -- artefacts ---------------------------------------------------------------------------------

def readings(text: str) -> list[str | None]:
    """One tone-marked reading per character (None for non-Han), read in context."""
    try:
        from pypinyin import Style, lazy_pinyin
    except ImportError as exc:  # the `eval` extra
        raise RuntimeError("the pinyin-glued family needs pypinyin (pip install -e '.[eval]')") from exc
    out = lazy_pinyin(text, style=Style.TONE, errors=lambda s: [""] * len(s))
    return [r or None for r in out] if len(out) == len(text) else [None] * len(text)


@family("pinyin-glued", count=16)
def pinyin_glued(rng: random.Random, src: Source, n: int) -> list[Case]:
    """Traditional UTF-8 pages with pinyin glued after some characters (`區(qū)`, `經(jīng)`),
    half of them with `????` indents as well."""
    cases = []
    for i in range(n):
        paras = src.paragraphs(want_traditional)
        trad = [to_traditional(p) for p in paras]
        differing = sorted({t for p, q in zip(paras, trad) for s, t in zip(p, q) if s != t})
        # Real pages glue a handful of characters, each every time it occurs (about 7 % of Han).
        glued_chars = set(rng.sample(differing, min(len(differing), rng.randint(3, 10))))
        indent = rng.random() < 0.5
        shown = []
        for p, q in zip(paras, trad):
            line = garbles.glue_pinyin(q, readings(p), glued_chars) if len(p) == len(q) else q
            shown.append(garbles.lost_indent(line) if indent else line)
        text = "\n".join(shown)
        cases.append(make_case("pinyin-glued", i, text.encode("utf-8"), content_lines(paras),
                               f"{len(glued_chars)} characters glued" + (", ???? indents" if indent else "")))
    return cases


@family("artefacts", count=16)
def artefacts(rng: random.Random, src: Source, n: int) -> list[Case]:
    """`????` paragraph indents, `艾? ? 杰` name padding in a byline, stray U+FFFD between
    characters; saved as UTF-8 or GB18030."""
    cases = []
    for i in range(n):
        paras = src.paragraphs(low=2, high=5)
        kinds = rng.sample(["indent", "padding", "fffd"], rng.randint(1, 3))
        answer = list(paras)
        shown = list(paras)
        if "padding" in kinds:
            name = chrome.person(rng, given=1)
            lead = rng.choice(["(记者 {}) ", "本报讯(记者 {})", "(通讯员 {}) "])
            answer[0] = lead.format(name) + answer[0]
            shown[0] = lead.format(garbles.pad_name(name)) + shown[0]
        if "fffd" in kinds:
            for _ in range(rng.randint(1, 3)):
                k = rng.randrange(len(shown))
                spots = [j for j in range(1, len(shown[k])) if "\u4e00" <= shown[k][j - 1] <= "\u9fff" and "\u4e00" <= shown[k][j] <= "\u9fff"]
                if spots:
                    j = rng.choice(spots)
                    shown[k] = shown[k][:j] + "\ufffd" + shown[k][j:]
        if "indent" in kinds:
            width = rng.choice([2, 4, 4])
            shown = [garbles.lost_indent(p, width) for p in shown]
        codec = rng.choice(["utf-8", "gb18030"])
        text = "\n".join(shown)
        cases.append(make_case("artefacts", i, text.encode(codec), content_lines(answer), f"{codec}: {', '.join(kinds)}"))
    return cases


# -- page chrome, repeated bodies, duplicates -------------------------------------------------

def page_lines(rng: random.Random, site: chrome.Site, paras: list[str], body_twice: bool = False) -> list[tuple[str, str]]:
    """A whole page: chrome around a title and the body, every line labelled."""
    body = list(paras)
    if rng.random() < 0.5:
        body.insert(rng.randint(1, len(body)), rng.choice(chrome.LOOKALIKES))
    body = list(dict.fromkeys(body))
    title = chrome.headline(rng)
    lines = [(CHROME, x) for x in site.header(rng)]
    lines.append((CONTENT, title))
    lines.append((CHROME, site.byline(rng)))
    if rng.random() < 0.5:
        lines += [(CHROME, x) for x in chrome.share_bar(rng)]
    lines += content_lines(body)
    if rng.random() < 0.8:
        lines.append((CHROME, chrome.editor_line(rng)))
    if body_twice:
        lines += [(CHROME, x) for x in chrome.share_bar(rng)]
        lines.append((REPEAT, title))
        lines += [(REPEAT, p) for p in body]
        if rng.random() < 0.5:
            lines.append((CHROME, chrome.editor_line(rng)))
    others = [t for t in (chrome.headline(rng) for _ in range(3)) if t != title]
    lines += [(CHROME, x) for x in chrome.after_body(rng, others)]
    lines += [(CHROME, x) for x in site.footer]
    # A line of chrome equal to a content line would make the labels ambiguous.
    content = {t for label, t in lines if label != CHROME}
    return [(label, t) for label, t in lines if label != CHROME or t not in content]


def render(rng: random.Random, lines: list[tuple[str, str]], traditional: bool = False) -> str:
    sep = rng.choice(["\n", "\n", "\n\n"])
    return sep.join(to_traditional(t) if traditional else t for _, t in lines)


@family("chrome", count=24)
def chrome_pages(rng: random.Random, src: Source, n: int) -> list[Case]:
    """News pages with chrome: menus, breadcrumbs, share bars, time/source/click lines, editor
    lines, prev/next and related links, copyright and ICP footers, from 6 random sites
    (`首页 | 新闻 | 财经`, `来源：渝州日报  2021-04-23`, `[责任编辑: 王明]`, `京ICP备12345678号`)."""
    sites = [chrome.Site.make(rng) for _ in range(6)]
    cases = []
    for i in range(n):
        lines = page_lines(rng, rng.choice(sites), src.paragraphs(low=2, high=6))
        text = render(rng, lines)
        codec = rng.choice(["utf-8", "utf-8", "gbk"])
        if not encodable(text, codec):
            codec = "gb18030"  # GBK lacks `©`; such sites are really GB18030
        cases.append(make_case("chrome", i, text.encode(codec), lines, codec))
    return cases


@family("body-twice", count=16)
def body_twice(rng: random.Random, src: Source, n: int) -> list[Case]:
    """Pages whose title and body appear twice (a summary copy and the article), with chrome:
    `首页 …/标题/正文…/[责任编辑: 王明]/分享/标题/正文…/版权所有 …`."""
    sites = [chrome.Site.make(rng) for _ in range(4)]
    cases = []
    for i in range(n):
        lines = page_lines(rng, rng.choice(sites), src.paragraphs(low=2, high=5), body_twice=True)
        cases.append(make_case("body-twice", i, render(rng, lines).encode("utf-8"), lines, "utf-8"))
    return cases


def edit_a_little(rng: random.Random, text: str) -> str:
    """Change one to three Han characters (substitute, delete or insert), as a re-post does."""
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        han = [j for j, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff"]
        if not han:
            break
        j = rng.choice(han)
        op = rng.choice(["sub", "del", "ins"])
        if op == "sub":
            chars[j] = chars[rng.choice(han)]
        elif op == "del":
            del chars[j]
        else:
            chars.insert(j, chars[rng.choice(han)])
    return "".join(chars)


@family("dup-corpus", count=28)
def dup_corpus(rng: random.Random, src: Source, n: int) -> list[Case]:
    """A corpus of pages where some are exact copies (same page, maybe another encoding), near
    copies (1–3 characters edited, another site's chrome) or traditional-script copies of others
    (`国家实施大数据战略` → `國家實施大數據戰略`)."""
    sites = [chrome.Site.make(rng) for _ in range(5)]
    n_orig = max(2, n // 2)
    originals = []
    for i in range(n_orig):
        site = rng.choice(sites)
        paras = src.paragraphs(want_big5, low=3, high=6)
        originals.append((site, paras, page_lines(rng, site, paras)))
    copies = []
    for k in range(n - n_orig):
        o = rng.randrange(n_orig)
        site, paras, lines = originals[o]
        kind = ["exact", "near", "traditional"][k % 3]
        if kind == "exact":
            codec = rng.choice(["utf-8", "gb18030"])
            raw = render(random.Random(f"{o}"), lines).encode(codec)
            copy_lines = lines
        else:
            other = rng.choice([s for s in sites if s is not site])
            body = [edit_a_little(rng, p) if kind == "near" and j == 0 else p for j, p in enumerate(paras)]
            copy_lines = page_lines(rng, other, body)
            codec = "utf-8" if kind == "near" else rng.choice(["utf-8", "big5"])
            text = render(rng, copy_lines, traditional=kind == "traditional")
            if not encodable(text, codec):
                codec = "utf-8"
            raw = text.encode(codec)
        copies.append((o, kind, codec, raw, copy_lines))
    cases = []
    for i, (site, paras, lines) in enumerate(originals):
        raw = render(random.Random(f"{i}"), lines).encode("utf-8")
        cases.append(make_case("dup-corpus", i, raw, lines, "original, utf-8"))
    rng.shuffle(copies)
    for j, (o, kind, codec, raw, lines) in enumerate(copies):
        cases.append(make_case("dup-corpus", n_orig + j, raw, lines, f"{kind} copy, {codec}",
                               duplicate_of=cases[o].id))
    return cases


def generate(names: Iterable[str] | None = None, seed: int = 20240, scale: float = 1.0) -> list[Case]:
    """Every case of the named families (all by default), the same bytes for the same seed.

    >>> [c.id for c in generate(["enc-gbk"], scale=0.2)]
    ['enc-gbk-000', 'enc-gbk-001']
    """
    chosen = list(dict.fromkeys(names)) if names else list(FAMILIES)
    unknown = [x for x in chosen if x not in FAMILIES]
    if unknown:
        raise KeyError(f"unknown famil{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)} (known: {', '.join(FAMILIES)})")
    cases: list[Case] = []
    for name in chosen:
        fam = FAMILIES[name]
        rng = random.Random(f"{seed}:{name}")
        cases += fam.make(rng, Source(rng), max(2, round(fam.count * scale)))
    return cases
