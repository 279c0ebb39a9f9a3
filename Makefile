# Drama Capital: `make run` and `make test` set everything up themselves.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Solara warns on every page load served over plain http to a host other than "localhost" that its cookie falls back
# to samesite=lax: expected on a planner's own machine, so `make serve` does not print it.
QUIET_SERVE := ignore:Cookies with samesite=none require https:UserWarning
HOST  ?= 127.0.0.1
PORT  ?= 8765

.PHONY: setup run test check fuzz serve bench chromium clean

setup: $(STAMP)

# The venv is rebuilt when pyproject.toml changes. pip's and setuptools' chatter (the editable-install banner, a
# machine's own index warnings) goes to .venv/install.log, shown in full only if the install fails.
$(STAMP): pyproject.toml
	@test -x $(PY) || { p=$$(tools/find-python) && echo "using $$p" && $$p -m venv $(VENV); }
	@echo "installing the project and its dependencies into $(VENV) (a minute or two; log: $(VENV)/install.log)"
	@{ $(PY) -m pip install --quiet --upgrade pip && $(PY) -m pip install --quiet -e '.[test]'; } \
		> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; echo "error: the install failed (above)"; exit 1; }
	@touch $(STAMP)

# Run the default scenario. Every command of the project is then .venv/bin/drama <command> [overrides], from the
# project folder in a plain shell (`.venv/bin/drama --help` lists them); ARGS passes overrides to `make run`, e.g.
#   make run ARGS="scenario=national steps=24 seed=1"
run: $(STAMP)
	@$(VENV)/bin/drama run $(ARGS)

# Spread over the cores (pytest-xdist, one test file per worker at a time): no test depends on having the machine
# to itself, so two at once on two cores is also the "another heavy process beside it" case.
test: $(STAMP) chromium
	$(PY) -m pytest -n auto --dist loadfile $(ARGS)

# The quick loop while changing the code: every test but the slow end-to-end and statistical ones (no browser),
# spread over the cores (pytest-xdist). make test stays the full suite that CI runs.
check: $(STAMP)
	$(PY) -m pytest -m "not slow" -n auto -q $(ARGS)

# The fuzz tests with 1,000 examples each (make test runs them with 200).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/test_fuzz.py $(ARGS)

# The browser app; HOST and PORT override where it listens (127.0.0.1:8765 by default).
# --production and the telemetry switch keep the page from calling home.
serve: $(STAMP)
	@[[ "$(PORT)" =~ ^[0-9]+$$ ]] && (( $(PORT) >= 1 && $(PORT) <= 65535 )) || \
	  { echo "error: PORT: '$(PORT)' is not a port number; allowed 1 to 65535 (e.g. make serve PORT=8765)" >&2; exit 2; }
	@echo "Drama Capital: http://$(HOST):$(PORT)  (Ctrl-C stops it)"
	@SOLARA_TELEMETRY_MIXPANEL_ENABLE=false SOLARA_THEME_SHOW_BANNER=false PYTHONWARNINGS="$(QUIET_SERVE)" \
		$(VENV)/bin/solara run viz/app.py \
		--production --no-check-version --host $(HOST) --port $(PORT)

# Speed figures against issue 12's targets, each in fresh processes (no pass/fail: machines here are
# shared and noisy); writes results/bench/latest.json. ARGS="--only steps_per_s_10k_20 --repeats 5" narrows it.
bench: $(STAMP)
	$(PY) -m benchmarks $(ARGS)

# The browser test drives Debian's chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "error: the browser test needs Debian's chromium; install it with: sudo apt-get install chromium"; \
	    exit 1; \
	  fi; }

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
