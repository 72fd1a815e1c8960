# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Everything installs into .venv (the service) and .tools (the analyzers: semgrep, ruff, bandit live
# apart because semgrep pins library versions that clash with Ray's).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
TOOLS := .tools
BIN := $(VENV)/bin
export SEMGREP_ENABLE_VERSION_CHECK := 0
export LITELLM_LOCAL_MODEL_COST_MAP := True
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER := 0
export RAY_USAGE_STATS_ENABLED := 0

.PHONY: install tools image run stop status test bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

tools: $(TOOLS)/.installed

$(TOOLS)/.installed: sandbox/requirements-analyzers.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --upgrade pip
	$(TOOLS)/bin/python -m pip install -q -r sandbox/requirements-analyzers.txt
	touch $@

run: install tools
	$(BIN)/dcoder-integrations up

stop:
	$(BIN)/dcoder-integrations down

status: install
	$(BIN)/dcoder-integrations status

# The Docker sandbox's analysis image, built locally (cached; rebuilt when its inputs change).
image:
	sandbox/docker/engine.sh image

# Builds the image first whenever a Docker engine answers, so the Docker backend is tested for real.
test: install tools
	@if sandbox/docker/engine.sh status >/dev/null 2>&1; then sandbox/docker/engine.sh image; fi
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install tools
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| echo "install wrk (apt-get install wrk) for the HTTP benchmarks"
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core plugin_sdk plugins sandbox actors serve_app simulators

clean:
	rm -rf $(VENV) $(TOOLS) build dist *.egg-info
