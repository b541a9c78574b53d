import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage
from typer.testing import CliRunner

from irestore.checkpoint import save_checkpoint
from irestore.cli.main import app
from irestore.io import read_image
from irestore.models import build_model

runner = CliRunner()


def invoke(*args: str, input: bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_single_file_is_restored_and_input_left_untouched(tmp_path, photo, weights):
    before = (photo.read_bytes(), photo.stat().st_mtime_ns)
    result = invoke("denoise", photo, "-o", tmp_path / "out.png", "-w", weights)
    assert result.exit_code == 0, result.output
    out = cv2.imread(str(tmp_path / "out.png"))
    assert out.shape == (24, 36, 3)
    assert (photo.read_bytes(), photo.stat().st_mtime_ns) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_default_output_sits_beside_the_input_with_a_task_suffix(tmp_path, photo, weights):
    assert invoke("denoise", photo, "-w", weights, "-q").exit_code == 0
    assert (tmp_path / "photo_denoise.png").is_file()


def test_missing_release_weights_fail_with_one_line(tmp_path, photo, monkeypatch):
    monkeypatch.setenv("IRESTORE_WEIGHTS", str(tmp_path / "none"))
    result = invoke("deblur", photo, "-o", tmp_path / "o.png")
    assert result.exit_code == 1
    assert "deblur.safetensors" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_existing_outputs_need_overwrite_or_skip(tmp_path, photo, weights):
    out = tmp_path / "out.png"
    out.write_bytes(b"keep")
    result = invoke("denoise", photo, "-o", out, "-w", weights)
    assert result.exit_code == 1 and "exists" in result.stderr
    assert out.read_bytes() == b"keep"
    assert invoke("denoise", photo, "-o", out, "-w", weights, "--skip-existing", "-q").exit_code == 0
    assert out.read_bytes() == b"keep"
    assert invoke("denoise", photo, "-o", out, "-w", weights, "--overwrite", "-q").exit_code == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_folder_mode_keeps_relative_paths_and_continues_past_bad_files(tmp_path, weights):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    img = (np.random.default_rng(1).random((10, 12, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(src / "a.png"), img)
    cv2.imwrite(str(src / "sub" / "b.jpg"), img)
    (src / "broken.png").write_bytes(b"not an image")
    result = invoke("denoise", src, "-o", tmp_path / "out", "-w", weights, "--recursive", "--suffix", "_clean", "--json", "-q")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["failed"]) == (2, 1)
    assert (tmp_path / "out" / "a_clean.png").is_file()
    assert (tmp_path / "out" / "sub" / "b_clean.jpg").is_file()
    failed = [f for f in report["files"] if f["status"] == "failed"][0]
    assert "broken.png" in failed["error"]
    assert not (tmp_path / "out" / "broken_clean.png").exists()


def test_ext_changes_the_output_format(tmp_path, photo, weights):
    assert invoke("denoise", photo, "-o", f"{tmp_path / 'o'}/", "--ext", "tif", "-w", weights, "-q").exit_code == 0
    assert (tmp_path / "o" / "photo.tif").read_bytes()[:2] in (b"II", b"MM")


def test_stdin_to_stdout(photo, weights):
    result = invoke("denoise", "-", "-o", "-", "-w", weights, "-q", input=photo.read_bytes())
    assert result.exit_code == 0, result.stderr
    decoded = cv2.imdecode(np.frombuffer(result.stdout_bytes, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.shape == (24, 36, 3)


def test_sixteen_bit_in_sixteen_bit_out_and_alpha_passes_through(tmp_path, weights):
    rgba = np.random.default_rng(2).integers(0, 65535, (20, 22, 4), dtype=np.uint16)
    src = tmp_path / "deep.png"
    cv2.imwrite(str(src), rgba)
    assert invoke("denoise", src, "-o", tmp_path / "o.png", "-w", weights, "-q").exit_code == 0
    out = cv2.imread(str(tmp_path / "o.png"), cv2.IMREAD_UNCHANGED)
    assert out.dtype == np.uint16 and out.shape == (20, 22, 4)
    assert np.array_equal(out[..., 3], rgba[..., 3])


def test_sr_resizes_alpha_with_the_image(tmp_path):
    weights = tmp_path / "sr.safetensors"
    save_checkpoint(weights, build_model("tiny", task="sr", scale=2), {"task": "sr"})
    rgba = np.full((8, 10, 4), 200, np.uint8)
    cv2.imwrite(str(tmp_path / "s.png"), rgba)
    assert invoke("sr", tmp_path / "s.png", "--scale", "2", "-o", tmp_path / "o.png", "-w", weights, "-q").exit_code == 0
    out = cv2.imread(str(tmp_path / "o.png"), cv2.IMREAD_UNCHANGED)
    assert out.shape == (16, 20, 4) and (out[..., 3] == 200).all()


def test_weights_for_another_task_are_refused(tmp_path, photo, weights):
    result = invoke("jpeg", photo, "-o", tmp_path / "o.png", "-w", weights)
    assert result.exit_code == 1 and "not 'jpeg'" in result.stderr


@pytest.mark.parametrize(
    "make, args, message",
    [
        (lambda d: None, ["missing.png"], "missing.png"),
        (lambda d: (d / "empty.png").write_bytes(b""), ["empty.png"], "empty"),
        (lambda d: (d / "notes.png").write_text("plain text"), ["notes.png"], "notes.png"),
        (lambda d: (d / "emptydir").mkdir(), ["emptydir"], "emptydir"),
    ],
)
def test_bad_inputs_exit_non_zero_with_one_line(tmp_path, weights, make, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    result = invoke("denoise", *args, "-o", "out.png", "-w", weights)
    assert result.exit_code != 0
    assert message in result.stderr and "Traceback" not in result.output


def test_oversized_image_is_refused_from_the_header(tmp_path, photo, weights):
    result = invoke("denoise", photo, "-o", tmp_path / "o.png", "-w", weights, "--max-pixels", "100")
    assert result.exit_code == 1 and "photo.png" in result.stderr


def test_output_in_missing_folder_is_refused(tmp_path, photo, weights):
    result = invoke("denoise", photo, "-o", tmp_path / "nope" / "o.png", "-w", weights)
    assert result.exit_code == 1 and "nope" in result.stderr


def test_corrupt_weights_are_refused(tmp_path, photo, weights):
    weights.write_bytes(weights.read_bytes()[:300])
    result = invoke("denoise", photo, "-o", tmp_path / "o.png", "-w", weights)
    assert result.exit_code == 1 and "corrupt or truncated" in result.stderr


def test_shards_partition_the_inputs(tmp_path, weights):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(5):
        cv2.imwrite(str(src / f"{i}.png"), np.full((8, 8, 3), i * 40, np.uint8))
    seen = []
    for shard in ("0/2", "1/2"):
        result = invoke("denoise", src, "-o", tmp_path / "out", "-w", weights, "--shard", shard, "--json", "-q")
        assert result.exit_code == 0
        seen.append({f["input"] for f in json.loads(result.stdout)["files"]})
    assert not seen[0] & seen[1] and len(seen[0] | seen[1]) == 5
    assert invoke("denoise", src, "-w", weights, "--shard", "2/2").exit_code == 1


def test_torchrun_processes_share_a_batch(tmp_path, weights):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(4):
        cv2.imwrite(str(src / f"{i}.png"), np.full((8, 8, 3), i * 50, np.uint8))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517", "-m", "irestore", "denoise", str(src), "-o", str(tmp_path / "out"), "-w", str(weights), "--json", "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.png", "1.png", "2.png", "3.png"]
    assert proc.stdout.count('"status": "ok"') == 4


def test_help_reads_well():
    result = invoke("--help")
    rows = [line.strip("│ ").split(maxsplit=1) for line in result.stdout.splitlines()]
    listed = {row[0]: row[1:] for row in rows if row}
    for command in ("denoise", "sr", "jpeg", "deblur", "derain", "models", "eval", "train", "diagnose", "bench", "export"):
        assert listed.get(command), f"{command} is missing from --help or has no description"
    for command in ("denoise", "sr", "jpeg", "deblur", "derain"):
        text = invoke(command, "--help").stdout
        assert "--tile" in text and "--ensemble" in text and "--output" in text


@pytest.mark.parametrize(
    "name, make",
    [
        ("dot.png", lambda p: cv2.imwrite(str(p), np.full((1, 1, 3), 90, np.uint8))),
        ("strip.png", lambda p: cv2.imwrite(str(p), np.full((1, 17), 90, np.uint8))),
        ("palette.png", lambda p: PILImage.fromarray(np.full((9, 7, 3), 60, np.uint8)).convert("P").save(p)),
        ("cmyk.jpg", lambda p: PILImage.new("CMYK", (10, 6), (10, 200, 30, 5)).save(p)),
    ],
)
def test_unusual_but_valid_images_are_restored(tmp_path, weights, name, make):
    src = tmp_path / name
    make(src)
    out = tmp_path / f"out-{Path(name).stem}.png"
    result = invoke("denoise", src, "-o", out, "-w", weights, "-q")
    assert result.exit_code == 0, result.stderr
    assert read_image(out).pixels.shape[:2] == read_image(src).pixels.shape[:2]


def test_sigma_hint_needs_gaussian_noise_and_warns_outside_the_training_range(tmp_path, photo):
    weights = tmp_path / "g.safetensors"
    save_checkpoint(weights, build_model("tiny"), {"task": "denoise", "recipe": {"degradation": {"sigma_range": [0, 50]}}})
    result = invoke("denoise", photo, "--sigma", "25", "-o", tmp_path / "a.png", "-w", weights)
    assert result.exit_code == 1 and "--noise gaussian" in result.stderr
    inside = invoke("denoise", photo, "--noise", "gaussian", "--sigma", "25", "-o", tmp_path / "b.png", "-w", weights)
    assert inside.exit_code == 0 and "warning" not in inside.stderr
    outside = invoke("denoise", photo, "--noise", "gaussian", "--sigma", "80", "-o", tmp_path / "c.png", "-w", weights)
    assert outside.exit_code == 0 and "outside the sigma 0-50" in outside.stderr


def test_gray_photo_is_denoised_by_a_gray_model_not_passed_through(tmp_path):
    """The colour denoisers leave channel-identical noise alone; a gray image must use a gray model."""
    rows, cols = np.mgrid[0:64, 0:96]
    clean = (128 + 60 * np.sin(rows / 9.0) * np.cos(cols / 13.0)).astype(np.float64)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "gray.png"), noisy)
    result = invoke("denoise", tmp_path / "gray.png", "-o", tmp_path / "out.png")
    assert result.exit_code == 0, result.output
    assert "using denoise-gaussian-gray" in result.stderr
    out = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)
    assert out.ndim == 2

    def psnr(img):
        return 10 * np.log10(255**2 / np.mean((img.astype(np.float64) - clean) ** 2))

    assert psnr(out) > psnr(noisy) + 5


def _heic_bytes(pixels: np.ndarray, mode: str = "RGB", **options) -> bytes:
    import io

    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.encode(mode, (pixels.shape[1], pixels.shape[0]), np.ascontiguousarray(pixels).tobytes(), buffer, **options)
    return buffer.getvalue()


def test_phone_formats_in_and_out(tmp_path, weights):
    """An iPhone HEIC (sideways, 10-bit, with a profile) comes out upright as 16-bit PNG; AVIF reads and writes."""
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = PILImage.Exif()
    exif[0x0112] = 6
    levels = np.random.default_rng(3).integers(0, 1024, (24, 36, 3), dtype=np.uint16)
    (tmp_path / "photo.heic").write_bytes(_heic_bytes(levels << 6, "RGB;16", exif=exif.tobytes(), icc_profile=srgb))
    assert invoke("denoise", tmp_path / "photo.heic", "-o", tmp_path / "out.png", "-w", weights, "-q").exit_code == 0
    out = read_image(tmp_path / "out.png")
    assert out.pixels.shape == (36, 24, 3) and out.bit_depth == 16 and out.icc_profile == srgb
    PILImage.fromarray((levels >> 2).astype(np.uint8)).save(tmp_path / "photo.avif", quality=90)
    assert invoke("denoise", tmp_path / "photo.avif", "-o", tmp_path / "avif.png", "-w", weights, "-q").exit_code == 0
    assert read_image(tmp_path / "avif.png").pixels.shape == (24, 36, 3)
    result = invoke("denoise", tmp_path / "photo.avif", "-o", f"{tmp_path / 'o'}/", "--ext", "heic", "-w", weights, "-q")
    assert result.exit_code == 0, result.stderr
    assert read_image(tmp_path / "o" / "photo.heic").format == "heic"
    assert invoke("denoise", tmp_path / "out.png", "-o", tmp_path / "back.avif", "-w", weights, "-q").exit_code == 0
    assert read_image(tmp_path / "back.avif").format == "avif"


def test_corrupt_heic_is_one_line_without_a_traceback(tmp_path, weights):
    good = _heic_bytes(np.zeros((16, 16, 3), np.uint8))
    (tmp_path / "cut.heic").write_bytes(good[: len(good) // 3])
    proc = subprocess.run(
        [sys.executable, "-m", "irestore", "denoise", str(tmp_path / "cut.heic"), "-o", str(tmp_path / "o.png"), "-w", str(weights), "-q"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "cut.heic: cannot decode HEIC data" in proc.stderr and "Traceback" not in proc.stderr


def test_multi_page_tiff_says_which_page_was_restored(tmp_path, weights):
    import tifffile

    tifffile.imwrite(tmp_path / "scan.tif", np.zeros((3, 10, 12, 3), np.uint8), photometric="rgb")
    result = invoke("denoise", tmp_path / "scan.tif", "-o", tmp_path / "o.tif", "-w", weights, "--json", "-q")
    assert result.exit_code == 0
    assert "irestore: warning: " in result.stderr and "scan.tif: page 1 of 3 restored" in result.stderr
    assert json.loads(result.stdout)["files"][0]["warnings"] == ["page 1 of 3 restored"]


def test_header_shows_a_weights_name_with_brackets_whole(tmp_path, photo, weights):
    named = weights.rename(tmp_path / "tiny[v2].safetensors")
    result = invoke("denoise", photo, "-o", tmp_path / "out.png", "-w", named)
    assert result.exit_code == 0, result.stderr
    assert "tiny[v2]" in result.stderr


def test_a_log_gets_the_header_and_no_stray_lines(tmp_path, photo, weights):
    result = invoke("denoise", photo, "-o", tmp_path / "out.png", "-w", weights)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("irestore denoise: tiny") and "" not in result.stderr.splitlines()


def test_a_file_named_twice_is_restored_once(tmp_path, photo, weights):
    result = invoke("denoise", photo, photo, tmp_path, "-o", tmp_path / "out", "-w", weights, "-q", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["ok"], report["failed"]) == (1, 0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["photo.png"]


def test_two_inputs_bound_for_one_output_are_refused_before_any_work(tmp_path, photo, weights):
    (tmp_path / "x").mkdir()
    other = tmp_path / "x" / "photo.png"
    other.write_bytes(photo.read_bytes())
    result = invoke("denoise", photo, other, "-o", tmp_path / "out", "-w", weights)
    assert result.exit_code == 1 and "would both be written to" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    jpeg = tmp_path / "y" / "photo.jpg"
    jpeg.parent.mkdir()
    cv2.imwrite(str(jpeg), cv2.imread(str(photo)))
    (tmp_path / "y" / "photo.png").write_bytes(photo.read_bytes())
    assert "would both be written" in invoke("denoise", tmp_path / "y", "-o", tmp_path / "o2", "--ext", "png", "-w", weights).stderr
    assert invoke("denoise", tmp_path / "y", "-o", tmp_path / "o3", "-w", weights, "-q").exit_code == 0
