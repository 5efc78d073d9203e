# Two commands for a newcomer; both create .venv and install what is missing.
#   make up    run the whole system locally on its embedded defaults
#   make test  lint, type check and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The local stack runs the demo strategy (a day is a minute) unless told otherwise.
export COLLECTIONS_POLICY ?= demo

.PHONY: up test mutate

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/collections up

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# Mutation testing of the rule modules ([tool.mutmut] in pyproject.toml; scores in MUTATION.md).
# Not part of `test`: about 12 minutes on 2 cores. mutants/ starts afresh, since mutmut never
# refreshes the copies it already made. Run under a zone other than UTC, so that an instant
# handed back in the machine's zone instead of UTC shows.
mutate: $(STAMP)
	rm -rf mutants
	TZ=Asia/Shanghai $(BIN)/mutmut run
	$(BIN)/mutmut results
