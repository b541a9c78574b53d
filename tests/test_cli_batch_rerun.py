"""Batch reruns converge: outputs are never inputs, races end in skips, shared folders split the work."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from typer.testing import CliRunner

import irestore.cli.restore as restore
from irestore.cli.main import app
from irestore.io.claims import claim_path

runner = CliRunner()


def photos(folder: Path, count: int = 3, ext: str = "png", sub: str = "") -> list[Path]:
    (folder / sub).mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / sub / f"img{i}.{ext}"
        cv2.imwrite(str(path), np.random.default_rng(i).integers(0, 256, (32, 32, 3), dtype=np.uint8))
        paths.append(path)
    return paths


def run_json(*args) -> dict:
    result = runner.invoke(app, [str(a) for a in args] + ["--json", "-q"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_rerun_with_the_output_folder_inside_the_input_tree_restores_nothing_new(tmp_path, weights):
    root = tmp_path / "photos"
    photos(root)
    photos(root, 1, sub="trip")
    args = ("denoise", "-r", root, "-o", root / "clean", "--skip-existing", "-w", weights)
    first = run_json(*args)
    assert (first["ok"], first["skipped"]) == (4, 0)
    before = files_under(root)
    second = run_json(*args)
    assert (second["ok"], second["skipped"], second["failed"]) == (0, 4, 0)
    assert {f["reason"] for f in second["files"]} == {"output exists"}
    assert files_under(root) == before
    assert not (root / "clean" / "clean").exists()
    assert before == ["clean/img0.png", "clean/img1.png", "clean/img2.png", "clean/trip/img0.png",
                      "img0.png", "img1.png", "img2.png", "trip/img0.png"]


def test_rerun_beside_the_inputs_skips_its_own_outputs_even_after_a_format_change(tmp_path, weights):
    root = tmp_path / "photos"
    photos(root, 2, ext="jpg")
    run_json("denoise", root, "--ext", "png", "-w", weights)
    assert files_under(root) == ["img0.jpg", "img0_denoise.png", "img1.jpg", "img1_denoise.png"]
    again = run_json("denoise", root, "--ext", "png", "--skip-existing", "-w", weights)
    assert (again["ok"], again["skipped"]) == (0, 2)
    other_format = run_json("denoise", root, "--skip-existing", "-w", weights)
    assert sorted(Path(f["input"]).name for f in other_format["files"]) == ["img0.jpg", "img1.jpg"]
    assert not [name for name in files_under(root) if "denoise_denoise" in name]


def test_an_input_that_only_looks_like_an_output_is_still_restored(tmp_path, weights):
    """``beach_denoise.png`` with no ``beach.*`` beside it is somebody's photo, not irestore's output."""
    root = tmp_path / "photos"
    photos(root, 1)
    (root / "img0.png").rename(root / "beach_denoise.png")
    report = run_json("denoise", root, "-w", weights)
    assert report["ok"] == 1 and (root / "beach_denoise_denoise.png").is_file()


def test_output_that_appears_while_restoring_is_skipped_not_failed(tmp_path, weights, monkeypatch):
    source = photos(tmp_path / "in", 1)[0]
    target = tmp_path / "out.png"
    real = restore.restore_image

    def racing(image, restorer):
        target.write_bytes(b"theirs")  # another worker finishes first
        return real(image, restorer)

    monkeypatch.setattr(restore, "restore_image", racing)
    report = run_json("denoise", source, "-o", target, "--skip-existing", "-w", weights)
    assert report["skipped"] == 1 and "appeared" in report["files"][0]["reason"]
    assert target.read_bytes() == b"theirs"
    target.unlink()
    result = runner.invoke(app, ["denoise", str(source), "-o", str(target), "-w", str(weights)])
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert target.read_bytes() == b"theirs"


def test_a_file_claimed_by_a_live_process_is_skipped_and_a_dead_ones_claim_is_taken_over(tmp_path, weights):
    sources = photos(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        claim_path(out / "img0.png").write_text(f"{sleeper.pid} {socket.gethostname()}\n")
        report = run_json("denoise", tmp_path / "in", "-o", out, "--skip-existing", "-w", weights)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert [f["status"] for f in report["files"]] == ["skipped", "ok"]
    assert f"pid {sleeper.pid}" in report["files"][0]["reason"]
    report = run_json("denoise", tmp_path / "in", "-o", out, "--skip-existing", "-w", weights)
    assert [f["status"] for f in report["files"]] == ["ok", "skipped"]
    assert files_under(out) == ["img0.png", "img1.png"] and len(sources) == 2


def test_claims_are_dropped_when_restoring_fails(tmp_path, weights):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.png").write_bytes(b"not an image")
    result = runner.invoke(app, ["denoise", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--skip-existing", "-w", str(weights), "-q"])
    assert result.exit_code == 1
    assert files_under(tmp_path / "out") == []


_SLOW_START = '''
"""Test harness: line the workers up, then make each restore slow enough that they overlap."""
import os, time
from pathlib import Path
import irestore.cli.restore
import irestore.pipeline
Path(os.environ["IRESTORE_TEST_READY"] + str(os.getpid())).touch()
while not Path(os.environ["IRESTORE_TEST_GO"]).exists():
    time.sleep(0.02)
_restore = irestore.pipeline.restore_image
def _slow(image, restorer):
    time.sleep(0.4)
    return _restore(image, restorer)
irestore.cli.restore.restore_image = _slow
'''


def test_two_processes_sharing_a_folder_restore_each_file_once(tmp_path, weights):
    folder = tmp_path / "shared"
    photos(folder, 6)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_SLOW_START)
    env = {
        **os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]),
        "IRESTORE_TEST_READY": str(tmp_path / "ready-"), "IRESTORE_TEST_GO": str(tmp_path / "go"),
    }
    command = [sys.executable, "-m", "irestore", "denoise", str(folder), "-o", str(folder / "clean"), "--skip-existing", "-w", str(weights), "--json", "-q", "--threads", "1"]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < 2 and time.monotonic() < deadline and all(w.poll() is None for w in workers):
        time.sleep(0.05)
    (tmp_path / "go").touch()
    results = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-2000:] for _, err in results]
    reports = [json.loads(out) for out, _ in results]
    restored = [Path(f["input"]).name for r in reports for f in r["files"] if f["status"] == "ok"]
    assert sorted(restored) == [f"img{i}.png" for i in range(6)]  # each once, between them
    assert all(r["ok"] > 0 for r in reports), "the workers did not overlap"
    assert all(r["failed"] == 0 and r["ok"] + r["skipped"] == 6 for r in reports)
    assert files_under(folder / "clean") == [f"img{i}.png" for i in range(6)]  # no claims or temp files left
