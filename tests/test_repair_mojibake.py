"""Families 1–3 of the repair stage: Western mojibake (ftfy for Chinese), UTF-8 read as
GBK/Big5 (whole lines, spans, lossy forms, two rounds), GBK/Big5 read as Latin-1/cp1252; the
stage's structure; and proof that clean text never changes."""
from __future__ import annotations

import difflib
import doctest
import json
import random

import pytest

from cleancorp.document import Document, StageRecord
from cleancorp.fixes import cjk_mojibake, western
from cleancorp.fixes.cjk_mojibake import fix_cjk_mojibake
from cleancorp.fixes.western import fix_western
from cleancorp.opencc_fast import converter
from cleancorp.stages import repair
from cleancorp.stages.repair import FIXES, Repair

from conftest import FIXTURES


def mojibake_fixes(line: str, record: StageRecord | None = None) -> str:
    """Families 1–3 in the stage's order."""
    return fix_cjk_mojibake(fix_western(line, record), record)


def char_errors(expected: str, got: str) -> int:
    sm = difflib.SequenceMatcher(None, expected, got, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal")


@pytest.fixture(scope="module")
def sample(clean_lines) -> list[str]:
    """200 paragraphs of the clean sample, 10–200 characters long, fixed seed."""
    rng = random.Random(7)
    lines = [ln for ln in clean_lines if 10 <= len(ln) <= 200]
    return rng.sample(lines, 200)


@pytest.fixture(scope="module")
def sample_traditional(sample) -> list[str]:
    return converter("s2t").convert("\n".join(sample)).split("\n")


def test_doctests():
    for module in (western, cjk_mojibake, repair):
        result = doctest.testmod(module)
        assert result.attempted >= 3 and result.failed == 0, module.__name__


# ---- family 1: Western mojibake --------------------------------------------------------------


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ("â€œä¸­æ–‡â€\x9d", "“中文”"),  # UTF-8 read as cp1252, C1 control for the undefined byte
        ("Ã¤Â¸Â\xadÃ¦Â–Â‡", "中文"),  # two rounds
        ("ä¸­å›½äººæ°‘é“¶è¡Œ", "中国人民银行"),
        ("é‡\x8dåº†æ—¥æŠ¥", "重庆日报"),
        ("a&amp;b &lt;x&gt; &#20013;&#25991;", "a&b <x> 中文"),
        ("中\u200b文\ufeff，\u200d好", "中文，好"),
        ("\x01中\x7f文", "中文"),
        ("Café Müller", "Café Müller"),
    ],
)
def test_western_mojibake(dirty, clean):
    assert fix_western(dirty) == clean


@pytest.mark.parametrize("line", ["“中文”‘引号’，（括号）！？：；ＡＢＣ１２３", "《人民日报》——记者…… ｜ ·"])
def test_western_keeps_chinese_punctuation(line):
    assert fix_western(line) == line


def test_western_leaves_gbk_read_as_latin1_to_the_cjk_fix():
    # ftfy's encoding repair would turn these bytes into other Latin letters
    garble = "中华人民共和国宪法".encode("gbk").decode("latin-1")
    assert fix_western(garble) == garble
    assert mojibake_fixes(garble) == "中华人民共和国宪法"


def test_ftfy_reference_cases(shared):
    """ftfy's own cases: the same answer, except that Chinese-safe settings keep curly quotes,
    full-width forms and ligatures, and that clean Western text is never touched by the CJK fix."""
    keep_typography = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "„": '"'})
    total = same = 0
    for name in ("synthetic", "in-the-wild", "language-names", "negative"):
        for case in json.loads((shared / "external" / "ftfy" / f"{name}.json").read_text(encoding="utf-8")):
            if case.get("expect") != "pass":
                continue
            total += 1
            west = fix_western(case["original"])
            assert fix_cjk_mojibake(west) == west, case["original"]
            same += west.translate(keep_typography) == case["fixed"].translate(keep_typography)
    assert total > 100 and same / total > 0.85


# ---- family 2: UTF-8 read as GBK/GB18030 or Big5 ----------------------------------------------


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ("閲嶅簡鏃ユ姤", "重庆日报"),
        ("鍙戝竷鏃堕棿", "发布时间"),
        ("记者 閲嶅簡鏃ユ姤 报道", "记者 重庆日报 报道"),
        ("鍙戝竷鏃堕棿 2024-05-01", "发布时间 2024-05-01"),
        ("銆婂浗瀹躲€嬫姤閬擄細浠婂ぉ", "《国家》报道：今天"),  # cp936's 0x80 shown as €
        ("涓\ufffd鍗庝汉姘戝叡鍜屽浗瀹\ufffd娉\ufffd", "中华人民共和国宪法"),  # lossy, one byte per mark
        ("涓?鍗庝汉姘戝叡鍜屽浗瀹?娉?", "中华人民共和国宪法"),  # the marks saved as `?`
        ("鏄\ufffd殑锛佸氨鏄\ufffd繖涓\ufffd紒", "是的！就是这个！"),  # browser form: one mark per lost pair
    ],
)
def test_utf8_read_as_gbk(dirty, clean):
    assert fix_cjk_mojibake(dirty) == clean


@pytest.mark.parametrize("word", ["統治", "工業", "建設", "主義", "責任", "年孫中山"])
def test_utf8_read_as_big5(word):
    garble = word.encode("utf-8").decode("big5")  # these happen to decode strictly
    assert fix_cjk_mojibake(f"新聞：{garble}。") == f"新聞：{word}。"


def test_utf8_read_as_big5_lossy_is_left_alone():
    """A Big5 decoder loses most bytes of UTF-8: too little is left to rebuild with confidence,
    and a wrong guess would read as real text."""
    for word in ("學生", "今天天氣很好", "中華民國"):
        garble = word.encode("utf-8").decode("big5", "replace")
        assert fix_cjk_mojibake(garble) == garble


def test_two_rounds():
    garble = "重庆日报发布时间".encode("utf-8").decode("gb18030").encode("utf-8").decode("gb18030")
    assert fix_cjk_mojibake(garble) == "重庆日报发布时间"


def test_change_is_recorded_with_scores():
    rec = StageRecord()
    assert fix_cjk_mojibake("记者 閲嶅簡鏃ユ姤 报道", rec) == "记者 重庆日报 报道"
    [change] = rec.changes
    assert (change.fix, change.before, change.after) == ("cjk_mojibake", "閲嶅簡鏃ユ姤", "重庆日报")
    assert change.detail.startswith("UTF-8 read as gb18030: score ") and " vs " in change.detail


@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_lossless_lines_recover_exactly(sample, sample_traditional, script):
    lines = sample if script == "simplified" else sample_traditional
    tried = exact = 0
    for line in lines:
        try:
            garble = line.encode("utf-8").decode("gb18030")
        except UnicodeDecodeError:
            continue  # not lossless: covered below
        tried += 1
        exact += fix_cjk_mojibake(garble) == line
    assert exact == tried


@pytest.mark.parametrize("script", ["simplified", "traditional"])
@pytest.mark.parametrize("form", ["python", "browser", "question-mark"])
def test_lossy_lines_character_error_rate(sample, sample_traditional, script, form):
    lines = sample if script == "simplified" else sample_traditional
    errors = total = exact = 0
    for line in lines:
        data = line.encode("utf-8")
        if form == "browser":
            garble = data.decode("gbk", "cleancorp-drop-pair")
        else:
            garble = data.decode("gbk", "replace")
        if form == "question-mark":
            garble = garble.replace("\ufffd", "?")
        got = fix_cjk_mojibake(garble)
        errors += char_errors(line, got)
        total += len(line)
        exact += got == line
    # A browser drops a whole invalid pair for one mark: how many bytes a mark stands for is a
    # guess, so that form recovers less exactly.
    assert errors / total < (0.025 if form == "browser" else 0.01)
    assert exact / len(lines) > (0.45 if form == "browser" else 0.7)


@pytest.mark.parametrize(
    "dirty, clean",
    [
        # Two marks in a row, each a dropped pair (AE E9, A2 98): read together, not one by one.
        ("鍏虫敞鐨勬皯鐢熼棶棰樸\ufffd\ufffd", "关注的民生问题。"),
        # A dropped pair (AE A1) just before clean text whose GB18030 bytes are no UTF-8.
        ("鏀跨\ufffd鐞嗭紝根据", "政管理，根据"),
        ("鏂借\ufffd鏀跨\ufffd鐞嗭紝根据宪法", "施行政管理，根据宪法"),
        # One byte lost before clean text whose bytes happen to continue it (`发`, B7 A2).
        ("渚濇硶绠＄悊瀹楁暀浜嬪姟銆\ufffd发挥", "依法管理宗教事务。发挥"),
    ],
)
def test_lost_bytes_next_to_each_other_and_to_clean_text(dirty, clean):
    assert fix_cjk_mojibake(dirty) == clean


def test_dropped_pair_across_characters_must_be_one_the_decoder_rejects():
    # `问` is E9 97 AE; its last byte went with the next lead byte E9. `间` (E9 97 B4) reads
    # better after `民生` but B4 E9 is a valid GBK pair (`撮`): the decoder would have shown it.
    assert "问" in cjk_mojibake._completions((0xE9, 0x97, cjk_mojibake.PAIR_FIRST))
    assert "间" not in cjk_mojibake._completions((0xE9, 0x97, cjk_mojibake.PAIR_FIRST))


def test_spans_inside_clean_text(sample):
    errors = total = 0
    for line in sample:
        a, b = len(line) // 3, 2 * len(line) // 3
        garble = line[:a] + line[a:b].encode("utf-8").decode("gbk", "replace") + line[b:]
        got = fix_cjk_mojibake(garble)
        errors += char_errors(line, got)
        total += len(line)
    assert errors / total < 0.02


# ---- family 3: GBK/Big5 read as Latin-1/cp1252 ------------------------------------------------


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ("ÖØÇìÈÕ±¨", "重庆日报"),
        ("¤¤¤å", "中文"),
        ("本法自2021Äê11月1日起施行。", "本法自2021年11月1日起施行。"),
        ("记者：ÖØÇìÈÕ±¨ 2024", "记者：重庆日报 2024"),
        ("Beta Haber: HÄ±rsÄ±zÄ±", "Beta Haber: HÄ±rsÄ±zÄ±"),  # Turkish: left to ftfy
        ("Café Müller, São Paulo, Ångström", "Café Müller, São Paulo, Ångström"),
        # Classical Chinese scores low, but ten characters decoded strictly are evidence enough.
        ("â·ÒÃÁ¬ôæÙâ¶àÉÙÒ»·ò¡£", "夥颐连翩兮多少一夫。"),
        ("ÀÉÈÊËÎÏÔÛÙÜŸÇàéèêëîïôûùüÿç", "ÀÉÈÊËÎÏÔÛÙÜŸÇàéèêëîïôûùüÿç"),
        ("ÆØÅæøåÄÖÜäöüßÑñ¿¡«»°±²³µ¶·¹º¼½¾", "ÆØÅæøåÄÖÜäöüßÑñ¿¡«»°±²³µ¶·¹º¼½¾"),
    ],
)
def test_legacy_read_as_latin1(dirty, clean):
    assert fix_cjk_mojibake(dirty) == clean


@pytest.mark.parametrize(
    "codec, garble_as",
    [("gbk", "latin-1"), ("gbk", "cp1252"), ("big5", "latin-1"), ("big5", "cp1252")],
)
def test_legacy_lines_recover(sample, sample_traditional, codec, garble_as):
    lines = sample if codec == "gbk" else sample_traditional
    tried = exact = 0
    for line in lines:
        try:
            garble = line.encode(codec).decode(garble_as)
        except UnicodeError:
            continue  # unencodable or an undefined cp1252 byte: not this form
        tried += 1
        exact += mojibake_fixes(garble) == line
    assert tried > 50 and exact / tried >= 0.95


def test_c1_controls_of_gbk_read_as_latin1(sample_traditional):
    """Traditional text in GBK has bytes 80–9F, which Latin-1 shows as C1 controls."""
    lines = [ln for ln in sample_traditional if any(0x80 <= b <= 0x9F for b in ln.encode("gbk", "ignore"))]
    exact = sum(mojibake_fixes(ln.encode("gbk").decode("latin-1")) == ln for ln in lines)
    assert len(lines) > 50 and exact / len(lines) >= 0.95


# ---- safety -----------------------------------------------------------------------------------


def _assert_untouched(lines: list[str]) -> None:
    changed = [ln for ln in lines if mojibake_fixes(ln) != ln]
    assert changed == []


def test_clean_sample_untouched(clean_lines):
    _assert_untouched(clean_lines)


def test_clean_sample_traditional_untouched(clean_lines):
    for profile in ("s2t", "s2tw", "s2hk"):
        _assert_untouched(converter(profile).convert("\n".join(clean_lines)).split("\n"))


def test_shared_corpus_untouched(shared):
    for path in sorted((shared / "corpora" / "zh-clean").glob("*.txt")):
        lines = path.read_text(encoding="utf-8").split("\n")
        _assert_untouched(lines)
        _assert_untouched(converter("s2t").convert("\n".join(lines)).split("\n"))


def test_real_page_untouched(shared):
    page = (shared / "samples" / "page-a.txt").read_text(encoding="utf-8")
    _assert_untouched(page.split("\n"))


def test_stage_leaves_clean_fixture_alone(clean_lines):
    doc = Document("clean", text="\n".join(clean_lines))
    Repair().apply(doc)
    assert doc.text == "\n".join(clean_lines)
    assert doc.log.get("repair") is None or doc.log["repair"].chars_changed == 0


# ---- linear work ------------------------------------------------------------------------------


class CountingModel:
    """The character model, counting how many characters it is asked to look at."""

    def __init__(self, model) -> None:
        self.model = model
        self.chars = model.chars
        self.work = 0

    def score(self, text: str) -> float:
        self.work += len(text)
        return self.model.score(text)

    def pair_logp(self, a: str, b: str) -> float:
        self.work += 1
        return self.model.pair_logp(a, b)

    def logp(self, ch: str) -> float:
        self.work += 1
        return self.model.logp(ch)

    def is_common(self, ch: str) -> bool:
        return self.model.is_common(ch)


def _pathological_inputs(n: int) -> dict[str, str]:
    rng = random.Random(3)
    base = (FIXTURES / "clean" / "laws.txt").read_text(encoding="utf-8").replace("\n", "")
    text = (base * (n // len(base) + 1))[: n // 2]
    return {
        "question marks": "?" * n,
        "brackets": "(" * n,
        "replacement chars": "\ufffd" * n,
        "rare CJK": "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n)),
        "garble alphabet": "".join(rng.choice("閲嶅簡鏃ユ姤鍙戝竷浼氳銆") for _ in range(n)),
        "garble and marks": "閲?" * (n // 2),
        "lossy mojibake": text.encode("utf-8").decode("gbk", "replace"),
        # a browser drops a whole invalid pair for one U+FFFD: the costliest form to rebuild
        "lossy mojibake, browser": text.encode("utf-8").decode("gbk", "cleancorp-drop-pair"),
        "lossy mojibake, question marks": text.encode("utf-8").decode("gbk", "replace").replace("\ufffd", "?"),
        "latin mojibake": text.encode("gbk").decode("latin-1"),
        "latin letters": "é" * n,
    }


@pytest.mark.parametrize("kind", list(_pathological_inputs(10)))
def test_work_grows_linearly(monkeypatch, kind):
    """Work (characters the model is asked about) per input character stays bounded, and
    doubling the input at most doubles the work."""
    real = cjk_mojibake._model()
    work = {}
    for n in (20_000, 40_000):
        counting = CountingModel(real)
        monkeypatch.setattr(cjk_mojibake, "_model", lambda: counting)
        mojibake_fixes(_pathological_inputs(n)[kind])
        work[n] = counting.work
    assert work[20_000] <= 40 * 20_000
    assert work[40_000] <= 2.2 * work[20_000] + 1000


# ---- the stage --------------------------------------------------------------------------------


def test_fix_order_and_switches():
    names = [fix.name for fix in FIXES]
    assert names[:2] == ["ftfy", "cjk_mojibake"]
    doc = Document("a", text="閲嶅簡鏃ユ姤 &amp;")
    Repair(cjk_mojibake=False).apply(doc)
    assert doc.text == "閲嶅簡鏃ユ姤 &"
    doc = Document("a", text="閲嶅簡鏃ユ姤 &amp;")
    Repair(ftfy=False).apply(doc)
    assert doc.text == "重庆日报 &amp;"


def test_stage_records_changes_and_counts():
    doc = Document("a", text="第一行干净。\n记者 閲嶅簡鏃ユ姤 报道\nâ€œä¸­æ–‡â€\x9d")
    Repair().apply(doc)
    assert doc.text == "第一行干净。\n记者 重庆日报 报道\n“中文”"
    rec = doc.log["repair"]
    assert rec.info["fixes"] == {"cjk_mojibake": 1, "ftfy": 1}
    assert rec.chars_changed == 6 + 12  # the longer side of each edit


def test_strict_prefix_is_where_a_byte_by_byte_decoder_stops():
    """Family 3 reads a run of Latin-1 letters as far as its bytes decode strictly: the
    prefix a strict decode reports is the one an incremental decoder fed byte by byte ends
    between two characters (checked on random bytes and on every pair of byte values)."""
    import codecs

    def byte_by_byte(data: bytes, codec: str) -> int:
        decoder = codecs.getincrementaldecoder(codec)()
        end = 0
        try:
            for k, b in enumerate(data):
                decoder.decode(bytes((b,)))
                if not decoder.getstate()[0]:
                    end = k + 1
        except UnicodeDecodeError:
            pass
        return end

    rng = random.Random(6)
    samples = [bytes(rng.randrange(0x20, 0x100) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    samples += [bytes((a, b)) + tail for a in range(0x80, 0x100, 3) for b in range(0x20, 0x100, 5) for tail in (b"", b"\x30", b"A")]
    for data in samples:
        for codec in cjk_mojibake.MISREAD_LEGACY:
            assert cjk_mojibake._strict_prefix(data, codec) == byte_by_byte(data, codec), (data, codec)
