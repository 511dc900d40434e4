"""Build hook: the wheel ships the repository's top-level `frontend/` as `board/frontend`.

Everything else is declared in pyproject.toml. `frontend/` stays at the top of the
repository, where it is edited and where a source checkout or an editable install serves it
from; board/static.py looks in `board/frontend` first, then there. MANIFEST.in puts the
folder in the sdist, so a wheel built from the sdist has it too.
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithFrontend(build_py):
    def run(self):
        super().run()
        if not self.editable_mode:  # an editable install serves the checkout's frontend/
            self.copy_tree("frontend", os.path.join(self.build_lib, "board", "frontend"))


setup(cmdclass={"build_py": BuildPyWithFrontend})
