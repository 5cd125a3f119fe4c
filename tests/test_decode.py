"""The decode stage: every encoding a Chinese scrape arrives in, detected right, nothing lost."""
from __future__ import annotations

import bz2
import codecs
import doctest
import gzip
import json
import lzma
import random
from collections import Counter, defaultdict

import opencc
import pytest

from cleancorp import compression
from cleancorp.document import Document
from cleancorp.registry import OptionError, create_stage
from cleancorp.stages import decode as decode_mod
from cleancorp.stages.decode import Decode, decode_bytes

from conftest import FIXTURES, SHARED, run_cli

REPORT_KEYS = {"encoding", "method", "confidence", "replacements"}


def decoded(raw: bytes, **options) -> tuple[str | None, dict]:
    doc = Document("t", raw=raw)
    Decode(**options).apply(doc)
    return (doc.text if doc.kept else None), (doc.log["decode"].info if "decode" in doc.log else {})


def test_doctests():
    for module in (decode_mod, compression):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0


# -- the corpus: fixture text in every encoding ---------------------------------------------


def _encodable(text: str, enc: str) -> bool:
    try:
        text.encode(enc)
    except UnicodeEncodeError:
        return False
    return True


def _prefix(text: str, enc: str, lo: int = 50, hi: int = 200) -> str | None:
    """The longest prefix of ``text`` whose encoding is at most ``hi`` bytes, if >= ``lo``."""
    out, size = [], 0
    for ch in text:
        n = len(ch.encode(enc))
        if size + n > hi:
            break
        out.append(ch)
        size += n
    return "".join(out) if size >= lo else None


# Characters outside GBK that GB18030 encodes in four bytes (extension A and B, a pinyin letter).
OUTSIDE_GBK = "𠮷䶮ḿ㐀"


def build_corpus(lines: list[str]) -> list[tuple[str, str, bytes]]:
    """(kind, text, bytes) for each line in each encoding, plus short samples and mostly-ASCII
    wrappings. Traditional text comes from OpenCC s2t (Big5) and s2hk (Big5-HKSCS)."""
    s2t = opencc.OpenCC("s2t")
    s2hk = opencc.OpenCC("s2hk")
    cases: list[tuple[str, str, bytes]] = []

    def add(kind: str, text: str | None, enc: str, bom: bytes = b"") -> None:
        if text and _encodable(text, enc):
            cases.append((kind, text, bom + text.encode(enc)))

    for line in lines:
        trad = s2t.convert(line)
        hk = s2hk.convert(line)
        outside = line[: len(line) // 2] + OUTSIDE_GBK + line[len(line) // 2 :]
        full = {
            "utf-8": (line, "utf-8", b""),
            "utf-8 BOM": (line, "utf-8", codecs.BOM_UTF8),
            "utf-16-le": (line, "utf-16-le", b""),
            "utf-16-be": (line, "utf-16-be", b""),
            "utf-16-le BOM": (line, "utf-16-le", codecs.BOM_UTF16_LE),
            "utf-16-be BOM": (line, "utf-16-be", codecs.BOM_UTF16_BE),
            "gb2312": (line, "gb2312", b""),
            "gbk": (line, "gbk", b""),
            "gbk traditional": (trad, "gbk", b""),
            "gb18030 outside gbk": (outside, "gb18030", b""),
            "big5": (trad, "big5", b""),
            "big5-hkscs": (hk, "big5hkscs", b""),
        }
        for kind, (text, enc, bom) in full.items():
            add(kind, text, enc, bom)
            if not bom and _encodable(text, enc):
                add(f"short {kind}", _prefix(text, enc), enc)
        # English page with a few Chinese characters: the decision rests on a handful of bytes.
        name = line[:3]
        for enc, text in (("gbk", name), ("big5", s2t.convert(name))):
            add(f"mostly-ascii {enc}", f"<p class=\"byline\">Reporter: {text} (Xinhua) - updated 2024-05-01</p>", enc)
    return cases


def test_corpus_decodes_exactly(clean_lines, capsys):
    lines = clean_lines[::3]
    cases = build_corpus(lines)
    totals: Counter[str] = Counter()
    misses: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for kind, text, raw in cases:
        out, info = decode_bytes(raw)
        totals[kind] += 1
        if out != text:
            out = out or ""
            at = next((i for i, (a, b) in enumerate(zip(text, out)) if a != b), min(len(text), len(out)))
            window = slice(max(0, at - 8), at + 16)  # where the decode went wrong
            misses[kind].append((info.get("encoding", info.get("error", "?")), text[window], out[window]))
    n_miss = sum(len(v) for v in misses.values())
    with capsys.disabled():
        print(f"\ndecode corpus: {len(cases)} cases, {n_miss} misses ({100 * (1 - n_miss / len(cases)):.2f}% exact)")
        print(f"  {'kind':<28} {'cases':>6} {'misses':>6}")
        for kind in totals:
            print(f"  {kind:<28} {totals[kind]:>6} {len(misses[kind]):>6}")
        for kind, items in misses.items():
            for enc, want, got in items[:3]:
                print(f"  miss {kind}: decoded as {enc}: {want!r} → {got!r}")
    assert len(totals) == 23  # every kind is represented
    assert n_miss <= 0.01 * len(cases)
    for kind, items in misses.items():
        assert len(items) <= 0.05 * totals[kind], kind


def test_opening_lines_decide_only_what_the_whole_sample_decides(clean_lines):
    # Pages of several KB, legacy-encoded, some with an all-ASCII or mixed head: detection that
    # stops at the opening lines picks what scoring the whole sample picks.
    s2t = opencc.OpenCC("s2t")
    rng = random.Random(5)
    heads = ["", "<html><head><title>news</title></head>\n" * 30, "首页 | 新闻 | 体育 | 财经\n", "Reporter: Xinhua 2024-05-01\n"]
    checked = 0
    for i in range(0, len(clean_lines) - 40, 15):
        body = "\n".join(clean_lines[i : i + rng.randint(8, 40)])
        for enc, text in (("gbk", body), ("gb18030", body), ("big5", s2t.convert(body)), ("big5hkscs", s2t.convert(body))):
            text = rng.choice(heads) + text
            if not _encodable(text, enc):
                continue
            raw = text.encode(enc)
            if len(raw) <= 2 * decode_mod._OPENING_BYTES:
                continue
            quick = decode_mod.detect(raw)[0]
            whole = decode_mod._detect(decode_mod._sample(raw), None, len(raw))[0]
            assert quick == whole, (enc, text[:60])
            checked += 1
    assert checked > 100


def test_rough_big5_scores_decide_as_exact_ones(clean_lines, monkeypatch):
    # Big5 candidates failing at many pairs are scored with the plain "replace" handler; the
    # decision and its confidence are those of scoring every candidate exactly.
    s2t, s2hk = opencc.OpenCC("s2t"), opencc.OpenCC("s2hk")
    raws = []
    for i in range(0, len(clean_lines), 8):
        body = "\n".join(clean_lines[i : i + 6])
        for enc, text in (("gbk", body), ("big5", s2t.convert(body)), ("big5hkscs", s2hk.convert(body) + "€")):
            if _encodable(text, enc):
                raws.append(text.encode(enc))
    rough = [decode_mod.detect(raw)[:2] for raw in raws]
    monkeypatch.setattr(decode_mod, "_ROUGH_ABOVE", 10**9)
    exact = [decode_mod.detect(raw)[:2] for raw in raws]
    assert len(raws) > 200 and rough == exact


def test_clean_utf8_unchanged_and_cheap(monkeypatch):
    # Clean UTF-8 never reaches detection: bound the work by forbidding it.
    def no_detection(*args, **kwargs):
        raise AssertionError("detection ran on clean UTF-8")

    monkeypatch.setattr(decode_mod, "detect", no_detection)
    paths = sorted((FIXTURES / "clean").glob("*.txt"))
    if SHARED.is_dir():
        paths += sorted((SHARED / "corpora" / "zh-clean").glob("*.txt"))
        paths += sorted((SHARED / "samples").glob("*.txt"))
    for path in paths:
        raw = path.read_bytes()
        text, info = decoded(raw)
        assert text == raw.decode("utf-8")
        assert info["method"] == "utf-8" and info["replacements"] == 0


def test_fixture_text_in_legacy_encodings_whole_files():
    for path in sorted((FIXTURES / "clean").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for enc, want in (("gb18030", "gb18030"), ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be")):
            out, info = decoded(text.encode(enc))
            assert out == text, (path.name, enc)
            assert info["encoding"] == want and info["replacements"] == 0


# -- report --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, method",
    [
        (b"", "empty"),
        ("纯文本".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "有BOM".encode(), "bom"),
        (codecs.BOM_UTF16_BE + "有BOM".encode("utf-16-be"), "bom"),
        (codecs.BOM_UTF32_LE + "有BOM".encode("utf-32-le"), "bom"),
        ("国务院政府工作报告".encode("gbk"), "detected"),
    ],
)
def test_report_keys(raw, method):
    _, info = decoded(raw)
    assert REPORT_KEYS <= set(info)
    assert info["method"] == method
    assert 0.0 <= info["confidence"] <= 1.0


def test_report_line_through_pipeline():
    from cleancorp.pipeline import Pipeline

    doc = Pipeline(["decode"]).process("政府工作报告".encode("gbk"))
    rep = doc.report()["stages"]["decode"]
    assert rep["encoding"] == "gb18030" and rep["method"] == "detected" and rep["replacements"] == 0


def test_replacements_counted_and_visible():
    raw = "重庆日报报道".encode("gbk") + b"\xff" + "全会召开".encode("gbk") + b"\xff"
    text, info = decoded(raw)
    assert text == "重庆日报报道\ufffd全会召开\ufffd"
    assert info["encoding"] == "gb18030" and info["replacements"] == 2


def test_utf8_with_a_broken_byte_stays_utf8():
    raw = "重庆日报报道，全会召开。".encode() + b"\xe4\xb8"  # a character cut in half
    text, info = decoded(raw)
    assert text == "重庆日报报道，全会召开。\ufffd"
    assert info["encoding"] == "utf-8" and info["replacements"] == 1


def test_legitimate_replacement_character_is_not_counted():
    text, info = decoded("原文有\ufffd字".encode())
    assert text == "原文有\ufffd字" and info["replacements"] == 0


# -- forced and restricted encodings -------------------------------------------------------


def test_forced_encoding():
    raw = "中華民國".encode("big5")
    text, info = decoded(raw, encoding="big5")
    assert text == "中華民國"
    assert info == {"bytes": len(raw), "encoding": "cp950", "method": "forced", "confidence": 1.0, "replacements": 0}
    text, info = decoded("中文".encode("gbk"), encoding="utf-8")
    assert text == "\ufffd" * 4  # D6 D0 CE C4: four bytes that start no UTF-8 sequence
    assert info["method"] == "forced" and info["replacements"] == 4
    # Forcing UTF-8 or UTF-16 drops the matching BOM.
    assert decoded(codecs.BOM_UTF8 + b"ok", encoding="utf-8")[0] == "ok"


def test_restricted_encodings():
    raw = "臺灣".encode("big5")
    assert decoded(raw)[1]["encoding"] == "cp950"
    text, info = decoded(raw, encodings=["gbk"])
    assert info["encoding"] == "gb18030" and info["method"] == "detected"
    assert text == raw.decode("gb18030")
    # A BOM outside the allowed list does not decide.
    text, info = decoded(codecs.BOM_UTF8 + "中文".encode(), encodings=["gbk"])
    assert info["encoding"] == "gb18030"


def test_restricted_to_utf8_and_gbk_keeps_broken_utf8():
    raw = "重庆日报报道，全会召开。".encode() + b"\xff"
    text, info = decoded(raw, encodings=["utf-8", "gbk"])
    assert text == "重庆日报报道，全会召开。\ufffd" and info["encoding"] == "utf-8"
    text, info = decoded(raw, encodings=["utf-8"])
    assert info["encoding"] == "utf-8" and info["replacements"] == 1


def test_unknown_encoding_is_an_option_error():
    with pytest.raises(OptionError, match="unknown encoding"):
        create_stage("decode", {"encoding": "no-such-codec"})
    with pytest.raises(OptionError, match="unknown encoding"):
        create_stage("decode", {"encodings": "gbk,nope"})


def test_cli_encoding_options():
    r = run_cli("--stages", "decode", "--encoding", "gbk", stdin="中文".encode("gbk"))
    assert r.returncode == 0 and r.stdout.decode() == "中文\n"
    r = run_cli("--stages", "decode", "--encodings", "big5,utf-8", stdin="中文".encode("gbk"))
    assert r.returncode == 0 and r.stdout.decode() == "中文".encode("gbk").decode("big5") + "\n"
    r = run_cli("--encoding", "klingon", stdin=b"x")
    assert r.returncode == 2
    err = r.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "unknown encoding" in err[0]


# -- Chinese specifics ---------------------------------------------------------------------


def test_gbk_traditional_is_gb18030_not_big5():
    text = "香港特別行政區政府發言人表示，會繼續與各界溝通。"
    out, info = decoded(text.encode("gbk"))
    assert out == text and info["encoding"] == "gb18030"


def test_short_gbk_that_is_valid_utf8():
    # GBK 什么 is C9 CA C3 B4, valid UTF-8 for "ʲô": Chinese wins on a short input.
    for text in ("什么", "实施农业", "同志们好"):
        out, info = decoded(text.encode("gbk"))
        assert out == text and info["encoding"] == "gb18030", text


@pytest.mark.parametrize(
    "text",
    ["café", "Привет, мир", "Ελληνικά", "Lǚ Bù and Zhāng Fēi", "© 2024", "John·Smith", "25°C",
     "±5%", "3×4", "§ 12", "£20", "¥100", "µm", "½ cup", "«quote»", "x ÷ y", "Müller & Söhne"],
)
def test_short_clean_utf8_is_never_reread_as_gbk(text):
    out, info = decoded(text.encode())
    assert out == text and info["encoding"] == "utf-8"


def test_big5_cp950_and_hkscs_characters_survive():
    euro = "售價€100元"  # € is A3E1 in cp950 only
    out, info = decoded(euro.encode("cp950"))
    assert out == euro and info["replacements"] == 0
    hk = "香港人講嘢冇咗𥚃"  # HKSCS characters, absent from cp950
    out, info = decoded(hk.encode("big5hkscs"))
    assert out == hk and info["replacements"] == 0
    both = "€" + hk
    out, info = decoded("€".encode("cp950") + hk.encode("big5hkscs"))
    assert out == both and info["replacements"] == 0


def test_big5_variants_where_they_disagree():
    # A1E3 is ～ in cp950 (what Taiwanese sites write) and ∼ in HKSCS: cp950 is preferred.
    tw = "營業時間：上午九時～下午五時"
    out, info = decoded(tw.encode("cp950"))
    assert out == tw and info["encoding"] == "cp950"
    # C6A1.. are circled numbers in HKSCS (and on the web) but kana in Python's cp950.
    hk = "注意事項：①香港居民②九龍區③新界區"
    out, info = decoded(hk.encode("big5hkscs"))
    assert out == hk and info["encoding"] == "big5hkscs"


def test_gb18030_four_byte_characters():
    text = "姓名：𠮷田，地名：䶮"
    out, info = decoded(text.encode("gb18030"))
    assert out == text and info["encoding"] == "gb18030" and info["replacements"] == 0


@pytest.mark.parametrize("enc", ["gbk", "big5"])
def test_mostly_ascii_decided_by_the_chinese_bytes(enc):
    name = {"gbk": "王小明", "big5": "陳大文"}[enc]
    html = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"x\"><title>World News</title></head>\n<body>\n"
        + "<p>" + "Markets rose on Monday as investors weighed new data. " * 20 + "</p>\n"
        + f"<p>Reporter: {name}</p>\n</body></html>\n"
    )
    out, info = decoded(html.encode(enc))
    assert out == html
    assert info["encoding"] == ("gb18030" if enc == "gbk" else "cp950")


def test_mostly_ascii_single_character():
    for text, enc in (("Interview with 李 in Shanghai", "gbk"), ("Interview with 張 in Taipei", "big5")):
        assert decoded(text.encode(enc))[0] == text


# -- UTF-16/32 without BOM -----------------------------------------------------------------


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(enc):
    ascii_heavy = "Breaking news: the State Council met on Friday. 国务院常务会议 was chaired by the premier.\n"
    pure_cjk = "一、过去一年的工作回顾。全国人民团结奋斗，经济社会发展取得新成就。"
    for text in (ascii_heavy, pure_cjk, pure_cjk[:10]):
        out, info = decoded(text.encode(enc))
        assert out == text, (enc, text)
        assert info["encoding"] == enc and info["method"] == "detected"


def test_truncated_utf16_keeps_its_text():
    text = "Report: 国务院常务会议 today.\n"
    out, info = decoded(text.encode("utf-16-le")[:-1])
    assert out == text[:-1] + "\ufffd"
    assert info["encoding"] == "utf-16-le" and info["replacements"] == 1


def test_utf32_without_bom():
    text = "UTF-32 text: 中文内容 and more"
    for enc in ("utf-32-le", "utf-32-be"):
        out, info = decoded(text.encode(enc))
        assert out == text and info["encoding"] == enc


# -- mixed files ---------------------------------------------------------------------------


def test_per_line_mixed_file():
    parts = [
        ("第一页：这一行是UTF-8编码的新闻正文。", "utf-8"),
        ("第二页：这一行来自GBK编码的网页，内容完整。", "gbk"),
        ("Plain ASCII line between pages.", "ascii"),
        ("第三页：又是一行UTF-8。", "utf-8"),
        ("第四頁：這一行是繁體BIG5編碼的網頁。", "big5"),
    ]
    raw = b"\n".join(text.encode(enc) for text, enc in parts) + b"\n"
    out, info = decoded(raw)
    assert out == "\n".join(text for text, _ in parts) + "\n"
    assert info["method"] == "per-line"
    assert info["encodings"] == {"utf-8": 2, "gb18030": 1, "cp950": 1}
    assert info["replacements"] == 0


def test_mostly_gbk_file_with_one_bad_byte_is_not_per_line():
    raw = "\n".join(["政府工作报告第一部分。"] * 5).encode("gbk") + b"\n\xff\n"
    out, info = decoded(raw)
    assert info["method"] == "detected" and info["encoding"] == "gb18030" and info["replacements"] == 1


# -- binary input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, kind",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "PNG image"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)), "ZIP archive"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
        (b"some text\x00\x00\x01\x02 more text\x00\xff\xfe binary", "NUL bytes"),
    ],
)
def test_binary_rejected(raw, kind):
    doc = Document("bin", raw=raw)
    Decode().apply(doc)
    assert not doc.kept and doc.rejected
    assert doc.dropped.startswith("binary input") and kind in doc.dropped


def test_random_bytes_rejected():
    raw = random.Random(1).randbytes(5000)
    text, _ = decoded(raw)
    assert text is None


def test_cli_binary_one_line_error(tmp_path):
    png = tmp_path / "img.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    good = tmp_path / "ok.txt"
    good.write_bytes("正文。".encode("gbk"))
    r = run_cli("--stages", "decode", str(png), str(good))
    assert r.returncode == 1
    assert r.stdout.decode() == "正文。\n"
    err = r.stderr.decode().strip().splitlines()
    assert err == [f"cleancorp: {png}: binary input (PNG image)"]


# -- compressed input ----------------------------------------------------------------------

GBK_PAGE = "重庆日报报道，全会由区委常委会主持。\n会议强调，要坚持稳中求进。\n"


@pytest.mark.parametrize(
    "suffix, compress",
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
def test_cli_compressed_gbk_file(tmp_path, suffix, compress):
    suffix_kind = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
    path = tmp_path / f"page.txt{suffix}"
    path.write_bytes(compress(GBK_PAGE.encode("gbk")))
    report = tmp_path / "report.jsonl"
    r = run_cli("--stages", "decode", "--report", str(report), str(path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == GBK_PAGE + "\n"
    info = json.loads(report.read_text(encoding="utf-8"))["stages"]["decode"]
    assert info["encoding"] == "gb18030" and info["compression"] == suffix_kind[suffix]


def test_cli_compressed_stdin():
    r = run_cli("--stages", "decode", stdin=gzip.compress(GBK_PAGE.encode("gbk")))
    assert r.returncode == 0 and r.stdout.decode() == GBK_PAGE + "\n"


def test_cli_compressed_jsonl(tmp_path):
    rows = [{"id": "a", "text": "第一篇。"}, {"id": "b", "text": "第二篇。", "url": "x"}]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    path = tmp_path / "docs.jsonl.gz"
    path.write_bytes(gzip.compress(data))
    r = run_cli("--format", "jsonl", "--stages", "decode", str(path))
    assert r.returncode == 0, r.stderr
    assert [json.loads(x) for x in r.stdout.decode().splitlines()] == rows
    r = run_cli("--format", "jsonl", "--stages", "decode", "-", stdin=lzma.compress(data))
    assert [json.loads(x) for x in r.stdout.decode().splitlines()] == rows


def test_decompression_cap(tmp_path):
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(b"a" * 2_000_000))
    r = run_cli("--stages", "decode", "--set", "decode.max_decompressed=100000", str(bomb))
    assert r.returncode == 1 and r.stdout == b""
    err = r.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "decompresses to more than 100000 bytes" in err[0]
    jbomb = tmp_path / "bomb.jsonl.gz"
    jbomb.write_bytes(gzip.compress(b'{"text": "x"}\n' * 200_000))
    r = run_cli("--format", "jsonl", "--stages", "decode", "--set", "decode.max_decompressed=100000", str(jbomb))
    assert r.returncode == 1 and "decompresses to more than" in r.stderr.decode()


@pytest.mark.parametrize(
    "raw",
    [
        b"\x1f\x8b\x08\x00garbage that is not deflate",
        gzip.compress(GBK_PAGE.encode("gbk") * 50)[:-30],  # truncated
    ],
)
def test_corrupt_compressed_input(raw):
    doc = Document("c", raw=raw)
    Decode().apply(doc)
    assert doc.rejected and doc.dropped.startswith("corrupt gzip data")


def test_zstd_input():
    zstd = pytest.importorskip("zstandard")
    raw = zstd.ZstdCompressor().compress(GBK_PAGE.encode("gbk"))
    assert decoded(raw)[0] == GBK_PAGE


def test_plain_text_starting_like_bzip2_is_text():
    assert decoded(b"BZh is how a bzip2 stream starts")[0] == "BZh is how a bzip2 stream starts"


def test_zstd_without_module_is_a_clear_error():
    if compression._zstd is not None:
        pytest.skip("zstandard is installed")
    doc = Document("z", raw=b"\x28\xb5\x2f\xfd" + bytes(20))
    Decode().apply(doc)
    assert doc.rejected and doc.dropped == "zstd-compressed input (install the zstandard module to read it)"


def test_hz_escaped_gb2312():
    text = "中国新闻：国务院常务会议 (HZ) today"
    out, info = decoded(text.encode("hz"))
    assert out == text and info["encoding"] == "hz"
    code = "regex: s~{a}~}g; done\n" * 20
    out, info = decoded(code.encode())
    assert out == code and info["encoding"] == "utf-8"


# -- the fast paths give what the general ones give -----------------------------------------


def test_vector_score_equals_the_sum_of_character_costs():
    model = decode_mod.char_model()
    # Every code point of the BMP and a spread beyond it: the table holds what cost() gives.
    points = list(range(0x10000)) + list(range(0x10000, 0x110000, 97)) + [0x20000, 0x3FFFF, 0x40000, 0x10FFFF]
    text = "".join(map(chr, points))
    expected = sum(model.costs.get(ch, model._class_cost(ch)) for ch in text)
    assert abs(model.score(text) - expected) < 1e-6 * abs(expected)
    table = model._table
    for o in points:
        ch = chr(o)
        assert table[min(o, len(table) - 1)] == model.costs.get(ch, model._class_cost(ch)), hex(o)
    # Texts on either side of the length where scoring switches to the table agree.
    rng = random.Random(11)
    pool = "的是了中國鍩ｸ©·×Ωжāǚ\ufffd\u3000，。abc 123\n" + "".join(map(chr, (0x3400, 0x20001, 0xE000, 0x0250)))
    for size in (1, 10, decode_mod._VECTOR_SCORE_FROM - 1, decode_mod._VECTOR_SCORE_FROM, 500):
        sample = "".join(rng.choice(pool) for _ in range(size))
        direct = sum(model.costs.get(ch, model._class_cost(ch)) for ch in sample)
        assert abs(model.score(sample) - direct) < 1e-9 * max(1.0, abs(direct)), size


def test_big5_fallback_decodes_like_a_plain_handler():
    # The handler of a Big5 variant asks the other variant about each failing pair and keeps
    # the answers; the plain rule, written out again here, must give the same text and count.
    counted = [0]

    def plain(other):
        def handler(exc):
            pair = exc.object[exc.start : exc.start + 2]
            if len(pair) == 2 and pair[0] >= 0x81:
                try:
                    return bytes(pair).decode(other), exc.start + 2
                except UnicodeDecodeError:
                    pass
            counted[0] += 1
            return "\ufffd", exc.end

        return handler

    codecs.register_error("test-plain-big5hkscs", plain("big5hkscs"))
    codecs.register_error("test-plain-cp950", plain("cp950"))
    rng = random.Random(4)
    samples = ["香港特別行政區政府新聞公報".encode("big5hkscs"), "重庆日报报道全会召开".encode("gbk"), b"\x81\x40\xfe"]
    for _ in range(400):
        samples.append(bytes(rng.choice((rng.randrange(0x20, 0x7F), rng.randrange(0x81, 0x100), 0x88, 0xC6, 0xF9))
                             for _ in range(rng.randint(1, 40))))
    for raw in samples:
        for enc, other in (("cp950", "big5hkscs"), ("big5hkscs", "cp950")):
            counted[0] = 0
            want = raw.decode(enc, f"test-plain-{other}")
            assert decode_mod.decode_with(raw, enc) == (want, counted[0]), (raw, enc)


def test_stage_reports_what_decode_bytes_reports():
    # The stage answers clean UTF-8 pages itself; its report must be decode_bytes' word for word.
    raws = [p.read_bytes() for p in sorted((FIXTURES / "clean").glob("*.txt"))]
    raws += [p.read_bytes() for p in sorted((FIXTURES / "pages").glob("*")) if p.is_file()]
    raws += [raws[0][:300], b"~{" + raws[0], raws[0] + b"\x00", codecs.BOM_UTF8 + raws[0], GBK_PAGE.encode("gbk")]
    for raw in raws:
        doc = Document("r", raw=raw)
        Decode().apply(doc)
        text, info = decode_bytes(raw)
        if text is None:
            assert doc.rejected and doc.dropped == info["error"]
            continue
        assert doc.text == text
        assert list(doc.log["decode"].info.items()) == list({"bytes": len(raw), **info}.items())
