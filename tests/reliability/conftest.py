"""Fixtures of the reliability tests: real `board` processes, stopped at teardown."""

from __future__ import annotations

import pytest
from relsupport import BoardProcess


@pytest.fixture
def start_board(tmp_path):
    """``start_board(logdir, *args, env=None, prefix=())`` -> a running BoardProcess.

    ``prefix`` wraps the command (e.g. setpriv, prlimit); every board is stopped at teardown.
    """
    boards: list[BoardProcess] = []

    def start(logdir, *args, env=None, prefix=()):
        log = tmp_path / f"board-{len(boards)}.log"
        board = BoardProcess(logdir, *args, log_path=log, env=env, prefix=prefix)
        boards.append(board)
        return board

    yield start
    for board in boards:
        board.stop()
