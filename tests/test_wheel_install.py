"""A built package restores out of the box: sdist -> wheel -> fresh environment -> ``irestore``.

Only an editable install reads the checkout's ``weights/``; everyone else (``pip install .``,
pipx, a wheel) gets the copy the build puts in ``irestore/_weights``. Building from the sdist
checks MANIFEST.in and the build hook in one go. The wheel goes into a folder of its own on
PYTHONPATH (``pip install --target``), ahead of this interpreter's site-packages, so torch is not
reinstalled yet the checkout's editable install cannot stand in for it; a venv with
``--system-site-packages`` would lose the packages when the tests themselves run in a venv.
Commands run from an empty folder.
"""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_a_wheel_built_from_the_sdist_ships_every_model_and_restores(tmp_path):
    manifest = json.loads((REPO / "weights" / "manifest.json").read_text())["models"]
    dist = tmp_path / "dist"
    build = f"from setuptools import build_meta; build_meta.build_sdist({str(dist)!r})"
    run([sys.executable, "-c", build], cwd=REPO)
    (sdist,) = dist.glob("irestore-*.tar.gz")
    run([sys.executable, "-m", "pip", "wheel", sdist, "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist], cwd=tmp_path)
    (wheel,) = dist.glob("irestore-*.whl")
    shipped = {Path(n).name for n in zipfile.ZipFile(wheel).namelist() if n.startswith("irestore/_weights/")}
    assert shipped == {"manifest.json"} | {e["file"] for e in manifest.values()}

    site = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", site, wheel], cwd=tmp_path)

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "IRESTORE_WEIGHTS"} | {"PYTHONPATH": str(site)}
    where = run([sys.executable, "-c", "import irestore; from irestore.models.zoo import weights_dir; print(irestore.__file__); print(weights_dir())"], cwd=empty, env=env)
    module, folder = where.stdout.split()
    assert Path(module).is_relative_to(site) and Path(folder).is_relative_to(site), where.stdout

    irestore = site / "bin" / "irestore"
    listed = json.loads(run([irestore, "models", "--json"], cwd=empty, env=env).stdout)
    assert sorted(r["name"] for r in listed) == sorted(manifest)
    assert all(Path(r["file"]).is_relative_to(site) and r["params"] for r in listed)
    run([irestore, "denoise", REPO / "examples" / "coffee-noisy.png", "-o", "out.png", "-q"], cwd=empty, env=env)
    assert (empty / "out.png").stat().st_size > 0
    for phone in ("photo.heic", "photo.avif"):  # what phones write, read by the installed package
        run([irestore, "denoise", "out.png", "--ext", phone.split(".")[1], "-o", phone, "-q"], cwd=empty, env=env)
        run([irestore, "denoise", phone, "-o", phone + ".png", "-q"], cwd=empty, env=env)
        assert (empty / (phone + ".png")).stat().st_size > 0
