# The README's two commands. Both start from a fresh clone: they create .venv and install
# everything they need (torch from the pinned CPU wheel first, so no other build is downloaded).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# The main job: the built-in workflows, then the evaluation on the wafer preset at the quick
# size (a few minutes on 2 cores). The full size: .venv/bin/octopus evaluate (see README).
run: $(STAMP)
	$(VENV)/bin/octopus workflows
	$(VENV)/bin/octopus evaluate --quick --out reports/evaluation-quick

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
