# Drama Capital: `make run` and `make test` set everything up themselves.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test clean

setup: $(STAMP)

# The venv is rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || { p=$$(tools/find-python) && echo "using $$p" && $$p -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# Run the default scenario; extra Hydra overrides go in ARGS, e.g.
#   make run ARGS="scenario=symmetric steps=24 seed=1"
run: $(STAMP)
	$(PY) -m sim $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
