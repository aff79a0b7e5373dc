# All set-up lives here: users, CI and developers run the same targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test install data browser bench lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# The embedded default data set: Debian's dataset-fashion-mnist (four gzip'd IDX files).
data:
	@test -f $(FMNIST) || { $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq dataset-fashion-mnist; }

# The report's browser test: Debian's headless Chromium and its driver (no download at run time).
browser:
	@command -v chromedriver >/dev/null && command -v chromium >/dev/null || { \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver; }

demo: install data
	$(BIN)/designspace demo

# One worker per core, each test file on one worker (a file's module fixtures, e.g. a shared
# Ray session or a trained sweep, are built once): most tests wait on subprocesses.
test: install data browser
	$(BIN)/python -m pytest -q -n auto --dist loadfile

bench: install data
	$(BIN)/python benchmarks/run_all.py

lint: install
	$(BIN)/ruff check designspace tests benchmarks experiments
	$(BIN)/ruff format --check designspace tests benchmarks experiments

format: install
	$(BIN)/ruff format designspace tests benchmarks experiments
	$(BIN)/ruff check --fix designspace tests benchmarks experiments

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
