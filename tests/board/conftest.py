"""Fixtures for the board tests (helpers live in boardkit.py)."""

from __future__ import annotations

import pytest
from boardkit import Board, BoardProcess


@pytest.fixture
def board_factory():
    boards = []

    def make(logdir, **kwargs) -> Board:
        b = Board(logdir, **kwargs)
        boards.append(b)
        return b

    yield make
    for b in boards:
        b.client.close()


@pytest.fixture
def board_process():
    procs = []

    def start(*args: str, env: dict | None = None) -> BoardProcess:
        p = BoardProcess(list(args), env=env)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()
