"""Ship the release weights inside the package, so a wheel (``pip install .``, pipx) can restore.

``weights/`` at the top level stays the source of truth (training and release tooling write
there; an editable install reads it directly). Building copies the files the manifest lists, and
the manifest, into ``irestore/_weights`` in the build tree only, where :mod:`irestore.models.zoo`
finds them once installed. MANIFEST.in puts ``weights/`` in the sdist so a wheel built from it
carries them too.
"""

import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

WEIGHTS = Path(__file__).resolve().parent / "weights"
PACKAGED = Path("irestore", "_weights")


def release_files() -> list[Path]:
    manifest = WEIGHTS / "manifest.json"
    if not manifest.is_file():
        return []
    entries = json.loads(manifest.read_text())["models"].values()
    return [manifest] + sorted({WEIGHTS / e["file"] for e in entries if (WEIGHTS / e["file"]).is_file()})


class BuildPyWithWeights(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib, PACKAGED)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for path in release_files():
            self.copy_file(str(path), str(target / path.name))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        own = [] if self.editable_mode else [str(Path(self.build_lib, PACKAGED, p.name)) for p in release_files()]
        return super().get_outputs(include_bytecode) + own


setup(cmdclass={"build_py": BuildPyWithWeights})
