"""The convert stage: output identical to the declared library, script detection, auto."""
from __future__ import annotations

import doctest
import json
import multiprocessing
import os
import random
import re
from collections import defaultdict

import pytest
from opencc import OpenCC

from cleancorp import opencc_fast
from cleancorp.document import Document
from cleancorp.pipeline import Pipeline
from cleancorp.registry import OptionError, create_stage
from cleancorp.stages import convert as convert_mod
from cleancorp.stages.convert import Convert, detect_script

from conftest import FIXTURES, run_cli

PROFILES = ("t2s", "tw2s", "hk2s", "tw2sp", "s2t")


@pytest.fixture(scope="module")
def reference():
    """The declared library, one instance per profile."""
    return {p: OpenCC(p) for p in PROFILES}


@pytest.fixture(scope="module")
def clean_text() -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "clean").glob("*.txt")))


def converted(text: str, profile: str = "t2s") -> tuple[str, dict]:
    doc = Document("t", text=text)
    Convert(profile).apply(doc)
    return doc.text, doc.log["convert"].info if "convert" in doc.log else {}


def test_doctests():
    for module in (opencc_fast, convert_mod):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0


# -- identity with the declared library ----------------------------------------------------


def load_upstream_cases(shared) -> list[dict]:
    raw = (shared / "external" / "opencc" / "testcases.json").read_text(encoding="utf-8")
    # JSONC: drop // comments and trailing commas, as upstream's own test does.
    raw = re.sub(r"^\s*//.*$", "", raw, flags=re.M)
    raw = re.sub(r",(\s*[}\]])", r"\1", raw)
    return json.loads(raw)["cases"]


def test_upstream_testcases_identical_to_library(shared, reference):
    cases = load_upstream_cases(shared)
    checked = 0
    library_misses: dict[str, int] = defaultdict(int)
    for case in cases:
        for profile in PROFILES:
            expected = reference[profile].convert(case["input"])
            assert opencc_fast.converter(profile).convert(case["input"]) == expected, (case["id"], profile)
            checked += 1
            upstream = case["expected"].get(profile)
            if upstream is not None and upstream != expected:
                library_misses[profile] += 1
    assert checked == len(cases) * len(PROFILES) and len(cases) > 200
    # The library itself departs from upstream OpenCC on some cases (it matches longest key
    # anywhere first, and its dictionaries are older); identity is with the library.
    assert sum(library_misses.values()) < sum(
        1 for c in cases for p in PROFILES if p in c["expected"]
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_fixture_corpus_identical_to_library(profile, reference, clean_text):
    traditional = reference["s2t"].convert(clean_text)
    source = clean_text if profile == "s2t" else traditional
    assert opencc_fast.converter(profile).convert(source) == reference[profile].convert(source)
    assert opencc_fast.converter(profile).convert(clean_text) == reference[profile].convert(clean_text)


def dictionary_keys(profile: str) -> list[str]:
    keys: list[str] = []
    for files in opencc_fast.config_groups(profile):
        for name in files:
            path = os.path.join(opencc_fast._library_dir(), "dictionary", name)
            keys += list(opencc_fast.read_dictionary(path))
    return keys


OTHER_TEXT = [
    "abc", "Z", "2024", "3.14", " ", "  ", "\n", "\t", "-", ",", ".", "!", "?", "　", "，", "。", "、",
    "「", "」", "《", "》", "（", "）", "…", "—", "·", "・", "．", "ひらがな", "カタカナ", "한국어",
    "😀", "👍🏽", "\u200b", "\xa0", "é", "\U0002070e", "\U00020000", "Ⅻ", "①", "％",
]


def random_strings(profile: str, count: int, seed: int) -> list[str]:
    """Random mixes of dictionary keys (chained so that keys overlap), single Han characters
    from the dictionaries, and other text of every kind."""
    rng = random.Random(seed)
    keys = dictionary_keys(profile) + dictionary_keys("s2t")[:2000]
    by_first: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_first[key[0]].append(key)
    chars = sorted({c for k in keys for c in k})
    out = []
    for _ in range(count):
        parts: list[str] = []
        for _ in range(rng.randint(1, 12)):
            roll = rng.random()
            if roll < 0.35:
                parts.append(rng.choice(keys))
            elif roll < 0.55 and parts and parts[-1] and by_first.get(parts[-1][-1]):
                # A key starting with the last character of what came before: overlaps.
                parts.append(rng.choice(by_first[parts[-1][-1]])[1:])
            elif roll < 0.8:
                parts.append("".join(rng.choice(chars) for _ in range(rng.randint(1, 4))))
            else:
                parts.append(rng.choice(OTHER_TEXT))
        out.append("".join(parts))
    return out


@pytest.mark.parametrize("profile", PROFILES)
def test_random_mixes_identical_to_library(profile, reference):
    for text in random_strings(profile, 1500, seed=PROFILES.index(profile)):
        assert opencc_fast.converter(profile).convert(text) == reference[profile].convert(text), text


def test_longest_key_anywhere_wins_like_the_library(reference):
    # 下面 and 面條 overlap; the library replaces the longer key found anywhere first.
    for text in ("這一下面條好吃", "天下面條", "乾隆皇帝", "頭髮乾了", "發展中國家"):
        assert opencc_fast.converter("t2s").convert(text) == reference["t2s"].convert(text)
    group = [opencc_fast.Dictionary.build("p", {"AB": "ab", "BCD": "bcd"})]
    assert opencc_fast._convert_group("ABCD", group) == "Abcd"


@pytest.mark.parametrize("profile", PROFILES)
def test_characters_that_change_only_in_phrases_trigger_exactly_where_a_phrase_is(profile, reference):
    # 覆 changes only inside 反覆, 答覆, ...: simplified 覆盖 must not send a text to the
    # converter, and every such phrase, at any place in a text, must.
    conv = opencc_fast.converter(profile)
    assert conv._phrase_only or profile not in ("t2s", "tw2s", "hk2s", "tw2sp")
    rng = random.Random(11)
    for char, keys in conv._phrase_only.items():
        for key in keys.pattern.split("|"):
            key = re.sub(r"\\(.)", r"\1", key)
            for text in (key, f"前文{key}", f"{key}后文", f"前{char}文{key}后"):
                assert conv.triggered_by(text), (char, text)
                assert conv.convert(text) == reference[profile].convert(text), text
        for _ in range(30):
            text = "".join(rng.choice(["覆盖", "覆", "藉", "瞭", "的", "了", "全省", char]) for _ in range(rng.randint(1, 8)))
            assert conv.convert(text) == reference[profile].convert(text), text
    assert not opencc_fast.converter("t2s").triggered_by("覆盖全省，颠覆")


def test_dense_table_lookup_equals_str_translate():
    # Many changes go through a NumPy lookup per code point; lone surrogates, characters beyond
    # U+FFFF and long texts come out as str.translate gives them.
    table = opencc_fast.converter("t2s").groups[0][-1]
    rng = random.Random(3)
    pieces = ["國", "髮", "乾", "這", "中", "a", "。", "\ud840", "\udc3e", "𠀾", "\U0002a6a5", "\n"]
    for n in (4, 40, 400, 4000):
        for _ in range(50):
            text = "".join(rng.choice(pieces) for _ in range(n))
            assert table.translate(text) == text.translate(table.translation), repr(text[:40])


# -- what passes through -------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_non_han_text_untouched(profile):
    text = "Hello, world! 123 ひらがな カタカナ 한국어 😀 ①②③ — “quotes” «» ½ Ωμέγα\n\tend"
    assert opencc_fast.converter(profile).convert(text) == text
    assert converted(text, profile)[0] == text


def test_empty_and_separator_only_text():
    for text in ("", "\n\n", "，。、", "   "):
        assert converted(text)[0] == text


def test_none_profile_changes_nothing_but_reports_script():
    text, info = converted("中國共產黨", "none")
    assert text == "中國共產黨"
    assert info["script"]["detected"] == "traditional"


# -- script detection and auto -------------------------------------------------------------


def test_detect_script_verdicts():
    assert detect_script("这是简体中文，没有繁体字。") == {"traditional_share": 0.0, "detected": "simplified"}
    assert detect_script("這是繁體中文，沒有簡體字。")["detected"] == "traditional"
    assert detect_script("Hello 123") == {"traditional_share": 0.0, "detected": "simplified"}
    # Two traditional characters among 100 simplified ones: a quotation, not a traditional text.
    mixed = "这是简体中文的一段话" * 10 + "國會"
    assert detect_script(mixed) == {"traditional_share": 0.02, "detected": "mixed"}


def test_detection_on_fixture_paragraphs(reference, clean_text):
    paragraphs = [p for p in clean_text.split("\n") if len(p) >= 20]
    assert len(paragraphs) > 300
    for para in paragraphs:
        assert detect_script(para)["detected"] == "simplified", para
        assert detect_script(reference["s2t"].convert(para))["detected"] == "traditional", para


def test_auto_converts_only_traditional_documents():
    trad, info = converted("中國共產黨大渡口區委員會", "auto")
    assert trad == "中国共产党大渡口区委员会"
    assert info["converted"] is True and info["script"]["detected"] == "traditional"
    # 夥 is rewritten by t2s although simplified text uses it: auto leaves simplified text alone.
    simp, info = converted("他们结成了团夥。", "auto")
    assert simp == "他们结成了团夥。"
    assert info["converted"] is False
    assert converted("他们结成了团夥。", "t2s")[0] == "他们结成了团伙。"
    mixed_text = "这是简体中文的一段话" * 10 + "國會"
    mixed, info = converted(mixed_text, "auto")
    assert mixed == mixed_text and info["script"]["detected"] == "mixed" and info["converted"] is False


def test_auto_never_changes_clean_text(clean_text, shared_corpus_texts):
    for text in [clean_text, *shared_corpus_texts]:
        doc = Document("c", text=text)
        Convert("auto").apply(doc)
        assert doc.text == text


@pytest.fixture(scope="module")
def shared_corpus_texts() -> list[str]:
    from conftest import SHARED

    folder = SHARED / "corpora" / "zh-clean"
    if not folder.is_dir():
        return []
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]


def test_report_carries_script_and_changes():
    doc = Pipeline(["convert"]).process("頭髮乾了")
    rep = doc.report()
    assert rep["stages"]["convert"]["script"]["detected"] == "traditional"
    assert rep["stages"]["convert"]["chars_changed"] == 3
    assert doc.text == "头发干了"


# -- options, CLI, loading once ------------------------------------------------------------


def test_unknown_profile_is_an_option_error():
    with pytest.raises(OptionError, match="profile must be one of"):
        create_stage("convert", {"profile": "x2y"})
    assert create_stage("convert", {"profile": "auto"}).profile == "auto"


def test_cli_convert_auto_and_help():
    r = run_cli("--convert", "auto", stdin="中國共產黨\n".encode())
    assert r.returncode == 0 and r.stdout.decode() == "中国共产党\n"
    r = run_cli("--convert", "auto", stdin="团夥\n".encode())
    assert r.stdout.decode() == "团夥\n"
    r = run_cli("--convert", "nope", stdin=b"x\n")
    assert r.returncode == 2 and len(r.stderr.decode().strip().splitlines()) == 1
    assert "auto" in run_cli("--help").stdout.decode()


def test_dictionaries_load_once_per_process(monkeypatch):
    opencc_fast.converter("t2s")
    calls = []
    real = opencc_fast.read_dictionary
    monkeypatch.setattr(opencc_fast, "read_dictionary", lambda path: calls.append(path) or real(path))
    stage = Convert("t2s")
    for i in range(50):
        stage.apply(Document(str(i), text="國家發展"))
        Convert("t2s").apply(Document(str(i), text="國家發展"))
    assert calls == []
    assert opencc_fast.converter("t2s") is opencc_fast.converter("t2s")


def _child_has_converter(_: int) -> bool:
    return "t2s" in opencc_fast._CONVERTERS and opencc_fast.converter("t2s").convert("國") == "国"


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_forked_workers_share_the_loaded_converter():
    opencc_fast.converter("t2s")
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.map(_child_has_converter, [0]) == [True]


def test_auto_loads_its_tables_on_the_first_document_even_a_simplified_one(monkeypatch):
    # A run warms up on one document before forking workers; auto must load t2s then too.
    monkeypatch.setattr(opencc_fast, "_CONVERTERS", {})
    doc = Document("s", text="这是简体中文。")
    Convert("auto").apply(doc)
    assert doc.text == "这是简体中文。" and "t2s" in opencc_fast._CONVERTERS


# -- one scan, then only what is needed ---------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_classify_equals_the_separate_scans(profile):
    # One scan for marks and trigger characters together must answer as the two scans apart.
    texts = random_strings(profile, 600, seed=40 + PROFILES.index(profile))
    texts += ["这是简体中文，覆盖全文。" * 50, "沒有" + "中文" * 300, "\U0002070e" * 3 + "简体" * 300, ""]
    for text in texts:
        triggered = opencc_fast.converter(profile).triggered_by(text)
        assert convert_mod.classify(text, profile) == (detect_script(text), triggered)
        assert convert_mod.classify(text, None) == (detect_script(text), False)


@pytest.mark.parametrize("profile", PROFILES)
def test_stage_on_long_documents_identical_to_library(profile, reference):
    # Whole pages, traditional and simplified, characters beyond U+FFFF among them.
    rng = random.Random(77 + PROFILES.index(profile))
    pieces = random_strings(profile, 400, seed=90 + PROFILES.index(profile))
    simplified = ["全会充分肯定一年来的工作，覆盖全区。", "反复研究后答复群众。", "\U00020000记者"]
    for n in range(30):
        source = pieces if n % 2 else simplified
        text = "\n".join(rng.choice(source) for _ in range(120))
        out, info = converted(text, profile)
        assert out == reference[profile].convert(text)
        assert info["script"] == detect_script(text)
