# The two front-door commands are `make run` and `make test` (see README.md).
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
GOL    := $(VENV)/bin/gol-workflow

.PHONY: run test install install-test frontend browser pgbouncer serve-demo benchmarks clean

run: install frontend serve-demo

test: install-test frontend browser pgbouncer
	./scripts/test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .

install-test: $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'

frontend:
	npm install --no-audit --no-fund --loglevel=error
	./scripts/build-modeler

browser:
	@command -v chromium >/dev/null 2>&1 || ./scripts/install-chromium

pgbouncer:
	@./scripts/install-pgbouncer

serve-demo:
	$(GOL) db upgrade
	$(GOL) deploy
	$(GOL) demo
	$(GOL) serve

benchmarks: install-test
	./scripts/benchmarks

clean:
	rm -rf var .pytest_cache
