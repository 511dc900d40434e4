# One command per chore. `make run` and `make test` work on a fresh machine with Python + pip.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PORT    ?= 6006
LOGDIR  ?= logs

.PHONY: run test lint proto bench stress demo clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# `make run` needs only the examples' extra; `make test` adds the test and benchmark peers
# and the object-storage extra (s3fs; tests run a local SeaweedFS S3 server).
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[examples]'
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[examples,test,bench,s3]'
	touch $(TEST_STAMP) $(RUN_STAMP)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not stress" -q

stress: $(TEST_STAMP)
	$(BIN)/python -m pytest -m stress -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

proto: $(TEST_STAMP)
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. writer/proto/*.proto

demo: $(RUN_STAMP)
	$(BIN)/python examples/make_demo.py --logdir $(LOGDIR)

run: demo
	$(BIN)/board --logdir $(LOGDIR) --port $(PORT)

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/write.py
	$(BIN)/python benchmarks/runtime.py
	$(BIN)/python benchmarks/board.py
	$(BIN)/python benchmarks/runs_table.py
	$(BIN)/python benchmarks/page.py

clean:
	rm -rf $(VENV) .pytest_cache
