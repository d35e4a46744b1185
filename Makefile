# The README's two commands. Both start from a fresh clone: they create .venv and install what
# they need (torch from the pinned CPU wheel first, so no other build is downloaded). `run`
# installs the package with torch and matplotlib only; `test` adds the test tools.
VENV  := .venv
PY    := $(VENV)/bin/python
BASE  := $(VENV)/.base
RUN   := $(VENV)/.installed-run
TEST  := $(VENV)/.installed-test
TORCH := torch==2.13.0

.PHONY: run test lint clean

$(BASE):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	touch $@

$(RUN): pyproject.toml $(BASE)
	$(PY) -m pip install -q -e '.[torch,plot]' $(TORCH)
	touch $@

$(TEST): pyproject.toml $(BASE)
	$(PY) -m pip install -q -e '.[test]' $(TORCH)
	touch $@ $(RUN)

# The main job: the built-in workflows, then the serving evaluation at the quick size (chip only;
# a few minutes on 2 cores; a line per stage when not on a terminal). The full size (chip, chip-4, wafer):
# .venv/bin/octopus evaluate --out runs/evaluation (see README).
run: $(RUN)
	$(VENV)/bin/octopus workflows
	$(VENV)/bin/octopus evaluate --quick --out runs/evaluation-quick

test: $(TEST)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2

lint: $(TEST)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
