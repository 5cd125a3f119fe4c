# cleancorp — the commands a user and CI run. Every target creates .venv when it is missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all install test demo eval bench clean-out

all: test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The main job on the shipped dirty pages: cleaned corpus in out/demo/, report beside it.
demo: $(STAMP)
	rm -rf out/demo
	$(BIN)/cleancorp -o out/demo --report out/demo-report.jsonl --summary fixtures/pages/*.txt
	@echo "cleaned corpus: out/demo/ ($$(ls out/demo | wc -l) documents); report: out/demo-report.jsonl"

clean-out:
	rm -rf out
