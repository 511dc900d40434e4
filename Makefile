# One command per chore. `make run` and `make test` work on a fresh machine with Python + pip.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PORT    ?= 6006
LOGDIR  ?= logs

.PHONY: run test lint proto bench stress demo clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -m "not stress" -q

stress: $(STAMP)
	$(BIN)/python -m pytest -m stress -q

lint: $(STAMP)
	$(BIN)/ruff check .

proto: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. writer/proto/*.proto

demo: $(STAMP)
	$(BIN)/python examples/make_demo.py --logdir $(LOGDIR)

run: demo
	$(BIN)/board --logdir $(LOGDIR) --port $(PORT)

bench: $(STAMP)
	$(BIN)/python benchmarks/write.py
	$(BIN)/python benchmarks/runtime.py
	$(BIN)/python benchmarks/board.py

clean:
	rm -rf $(VENV) .pytest_cache
