# cleancorp — the commands a user and CI run. Every target creates .venv when it is missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all install test demo report report-png corpus eval eval-boilerplate eval-dedup bench bench-dedup clean-out

all: test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The main job on the shipped dirty pages: the corpus command over fixtures/pages/, cleaned
# tree in out/demo/, report, summary and the HTML audit report in out/demo/_cleancorp/.
demo: $(STAMP)
	rm -rf out/demo
	$(BIN)/cleancorp corpus fixtures/pages out/demo --html
	@echo "cleaned corpus: out/demo/ ($$(ls out/demo/*.txt | wc -l) documents); report: out/demo/_cleancorp/report.jsonl, out/demo/_cleancorp/report.html"

# The HTML audit report of an earlier run: make report OUT=path  (writes OUT/_cleancorp/report.html)
report: $(STAMP)
	@test -n "$(OUT)" || { echo "usage: make report OUT=path"; exit 2; }
	$(BIN)/cleancorp report "$(OUT)/_cleancorp/report.jsonl" -o "$(OUT)/_cleancorp/report.html"

# docs/report.png: the demo's HTML report in headless Chromium (apt-get install chromium)
report-png: demo
	$(BIN)/python scripts/report_screenshot.py out/demo/_cleancorp/report.html docs/report.png

# Clean a whole tree: make corpus IN=path OUT=path [JOBS=n]  (resumes when run again)
corpus: $(STAMP)
	@test -n "$(IN)" -a -n "$(OUT)" || { echo "usage: make corpus IN=path OUT=path [JOBS=n]"; exit 2; }
	$(BIN)/cleancorp corpus "$(IN)" "$(OUT)" $(if $(JOBS),-j $(JOBS))

# Throughput and memory: every stage alone, the default chain (1 process, all cores, the CLI),
# the naive chain, a 200 MB document on stdin; table on stdout, bench/results.json (corpus cached
# in bench/work/). Then the convert engine beside the library whose output it reproduces.
bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python scripts/bench_convert.py
	$(BIN)/python -m cleancorp.evaluation.dedup_set --bench 1000000

# Line-level scores of the boilerplate stage on the labelled pages in fixtures/boilerplate/.
eval-boilerplate: $(STAMP)
	$(BIN)/python -m cleancorp.evaluation.boilerplate_set

# Quality on generated dirty documents with known answers, cleancorp beside the naive chain.
# A subset: make eval FAMILIES=gbk-as-latin1,chrome   (list: python -m cleancorp.evaluation --list)
eval: $(STAMP)
	$(BIN)/python -c "import pypinyin" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[eval]'
	$(BIN)/python -m cleancorp.evaluation --out out/eval $(if $(FAMILIES),--family $(FAMILIES))
	$(if $(FAMILIES),,$(BIN)/python -m cleancorp.evaluation.dedup_set --out out/eval-dedup)

# The dedup stage alone: duplicate drops across a generated corpus and repeats inside pages;
# its throughput and index memory on 1,000,000 generated short documents.
eval-dedup: $(STAMP)
	$(BIN)/python -m cleancorp.evaluation.dedup_set --out out/eval-dedup

bench-dedup: $(STAMP)
	$(BIN)/python -m cleancorp.evaluation.dedup_set --bench 1000000

clean-out:
	rm -rf out
