"""``tf.app`` and ``tf.flags``: absl's flags and ``run``, as TensorFlow 1.15 uses them.

``tf.app.run(main=None, argv=None)`` parses the command line's flags into ``tf.flags.FLAGS``
(flags no program defined stay in ``argv``, as TF's parser tolerates them), calls
``main(argv)`` and exits with its return value.
"""

from __future__ import annotations

import sys

from absl import app as _absl_app
from absl import flags

FLAGS = flags.FLAGS


def _parse_flags_tolerate_undef(argv):
    return FLAGS(sys.argv if argv is None else argv, known_only=True)


def run(main=None, argv=None):
    """Parse flags, then ``sys.exit(main(argv))``; ``main`` defaults to ``__main__.main``."""
    main = main or sys.modules["__main__"].main
    _absl_app.run(main=main, argv=argv, flags_parser=_parse_flags_tolerate_undef)
