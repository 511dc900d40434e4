"""``tf.logging``: TensorFlow 1.15's logging functions over the standard ``logging`` module.

Messages go to the ``tensorflow`` logger (as TF's do, so handlers set up for TF keep working);
``set_verbosity`` sets its level. The default level is WARN, as TensorFlow's.
"""

from __future__ import annotations

import logging as _logging

DEBUG, INFO, WARN, ERROR, FATAL = (_logging.DEBUG, _logging.INFO, _logging.WARN,
                                   _logging.ERROR, _logging.FATAL)
_logger = _logging.getLogger("tensorflow")
if _logger.level == _logging.NOTSET:
    _logger.setLevel(WARN)
if not _logger.handlers:
    _handler = _logging.StreamHandler()
    _handler.setFormatter(_logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    _logger.addHandler(_handler)
    _logger.propagate = False
_counts: dict = {}


def get_logger():
    return _logger


def set_verbosity(v):
    _logger.setLevel(v)


def get_verbosity():
    return _logger.getEffectiveLevel()


def log(level, msg, *args, **kwargs):
    _logger.log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs):
    _logger.debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs):
    _logger.info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs):
    _logger.warning(msg, *args, **kwargs)


def error(msg, *args, **kwargs):
    _logger.error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs):
    _logger.fatal(msg, *args, **kwargs)


warn = warning


def _count(key) -> int:
    _counts[key] = _counts.get(key, 0) + 1
    return _counts[key]


def log_every_n(level, msg, n, *args):
    """Log on the 1st, (n+1)th, (2n+1)th … call from the same place."""
    if (_count(("every", msg)) - 1) % max(n, 1) == 0:
        log(level, msg, *args)


def log_first_n(level, msg, n, *args):
    if _count(("first", msg)) <= n:
        log(level, msg, *args)


def log_if(level, msg, condition, *args):
    if condition:
        log(level, msg, *args)
