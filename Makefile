# AuraLab Serve: the two commands. `make run` serves on 127.0.0.1:8888; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= serve_config.yaml

# Local defaults: no hub (nothing can be downloaded anyway), Ray's token auth off for the local
# dashboard (it listens on 127.0.0.1 only), no usage stats.
export HF_HUB_OFFLINE ?= 1
export RAY_AUTH_MODE ?= disabled
export RAY_USAGE_STATS_ENABLED ?= 0

.PHONY: run test test-unit test-integration test-model lint bench setup model clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@command -v ffmpeg >/dev/null || { echo "ffmpeg is required: apt-get install ffmpeg"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip 'setuptools<81' wheel
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

model: $(STAMP)
	$(BIN)/auralab models prepare base

run: $(STAMP)
	$(BIN)/auralab check-config $(CONFIG)
	$(BIN)/auralab models prepare base
	$(BIN)/serve run $(CONFIG)

test: $(STAMP)
	$(BIN)/auralab models prepare base
	$(BIN)/python -m pytest tests

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m unit tests

test-integration: $(STAMP)
	$(BIN)/python -m pytest -m integration tests

test-model: $(STAMP)
	$(BIN)/python -m pytest -m model tests

lint: $(STAMP)
	$(BIN)/ruff check deployments models vivo storage tests benchmarks
	$(BIN)/ruff format --check deployments models vivo storage tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.engine_bench
	$(BIN)/python -m benchmarks.service_bench
	$(BIN)/python -m benchmarks.diarization_bench

clean:
	rm -rf .data
