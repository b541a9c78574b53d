"""Writing: quantisation, bit depth, alpha, ICC, formats, and refusing to clobber or half-write."""

from __future__ import annotations

import io
import os

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image as PILImage
from PIL import ImageCms

import irestore.io.atomic as atomic
import irestore.io.write as write
from irestore.errors import ImageWriteError
from irestore.io.atomic import OutputExistsError
from irestore.io import Image, decode_image, encode_image, output_format, read_image, write_image
from irestore.io.icc import profile_fits
from irestore.io.png_format import png_header
from irestore.io.samples import quantise, to_float

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def make_image(pixels, alpha=None, bit_depth=8, icc=None) -> Image:
    pixels = np.asarray(pixels, np.float32)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    alpha = None if alpha is None else np.asarray(alpha, np.float32)
    return Image(pixels, alpha, bit_depth, icc, "test", "png")


def test_quantise_clips_then_rounds_to_nearest():
    values = np.array([0.0, 0.2, 100.4 / 255, 100.6 / 255, 1.5, -0.1, np.nan, np.inf], np.float32)
    assert quantise(values, 8).tolist() == [0, 51, 100, 101, 255, 0, 0, 255]
    assert quantise(np.array([0.25, 1.0, 1 / 65535], np.float32), 16).tolist() == [16384, 65535, 1]
    assert quantise(values, 16).dtype == np.uint16


def test_to_float_uses_the_dtype_not_the_values():
    assert to_float(np.array([255], np.uint16)) == (pytest.approx(np.array([255 / 65535])), 16)
    assert to_float(np.array([255], np.uint8))[1] == 8
    with pytest.raises(ValueError):
        to_float(np.array([1], np.int32))


@pytest.mark.parametrize("extension", [".png", ".tif"])
def test_every_16bit_level_survives_a_round_trip(tmp_path, extension):
    all_levels = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    path = tmp_path / f"levels{extension}"
    write_image(path, make_image(to_float(all_levels)[0], bit_depth=16))
    back = read_image(path)
    assert back.bit_depth == 16
    assert np.array_equal(quantise(back.pixels[:, :, 0], 16), all_levels)


def test_bit_depth_follows_the_input_unless_told(tmp_path):
    deep = make_image(np.full((2, 3, 3), 0.5), bit_depth=16)
    write_image(tmp_path / "deep.png", deep)
    write_image(tmp_path / "deep.tif", deep)
    write_image(tmp_path / "deep.jpg", deep)
    write_image(tmp_path / "forced8.png", deep, bit_depth=8)
    write_image(tmp_path / "forced16.png", make_image(np.zeros((2, 2))), bit_depth=16)
    write_image(tmp_path / "shallow.png", make_image(np.zeros((2, 2))))
    assert png_header((tmp_path / "deep.png").read_bytes())[0] == 16
    assert cv2.imread(str(tmp_path / "deep.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert tifffile.imread(tmp_path / "deep.tif").dtype == np.uint16
    assert PILImage.open(tmp_path / "deep.jpg").mode == "RGB"
    assert png_header((tmp_path / "forced8.png").read_bytes())[0] == 8
    assert png_header((tmp_path / "forced16.png").read_bytes())[0] == 16
    assert png_header((tmp_path / "shallow.png").read_bytes())[0] == 8


def test_written_png_is_decoded_identically_by_opencv_and_pil(tmp_path):
    rgb = np.random.default_rng(3).integers(0, 65536, (5, 7, 3), dtype=np.uint16)
    write_image(tmp_path / "c.png", make_image(to_float(rgb)[0], bit_depth=16))
    assert np.array_equal(cv2.imread(str(tmp_path / "c.png"), cv2.IMREAD_UNCHANGED)[:, :, ::-1], rgb)
    gray = np.array([[0, 17, 255], [128, 3, 99]], np.uint8)
    write_image(tmp_path / "g.png", make_image(to_float(gray)[0]))
    assert np.array_equal(np.asarray(PILImage.open(tmp_path / "g.png")), gray)


def test_alpha_is_written_back_unchanged(tmp_path):
    rgba = np.random.default_rng(4).integers(0, 256, (4, 5, 4), dtype=np.uint8)
    image = make_image(to_float(rgba[:, :, :3])[0], to_float(rgba[:, :, 3])[0])
    for name, quality in (("a.png", 95), ("a.tif", 95), ("a.webp", 100)):
        write_image(tmp_path / name, image, quality=quality)
        assert np.array_equal(np.asarray(PILImage.open(tmp_path / name)), rgba), name
    for name in ("a.jpg", "a.bmp"):  # no alpha in these formats
        write_image(tmp_path / name, image)
        assert PILImage.open(tmp_path / name).mode == "RGB"


def test_16bit_gray_alpha_png_and_tiff(tmp_path):
    gray_alpha = np.random.default_rng(5).integers(0, 65536, (3, 4, 2), dtype=np.uint16)
    image = make_image(to_float(gray_alpha[:, :, 0])[0], to_float(gray_alpha[:, :, 1])[0], bit_depth=16)
    write_image(tmp_path / "ga.png", image)
    write_image(tmp_path / "ga.tif", image)
    assert png_header((tmp_path / "ga.png").read_bytes()) == (16, 4)
    bgra = cv2.imread(str(tmp_path / "ga.png"), cv2.IMREAD_UNCHANGED)  # OpenCV expands gray to BGR
    assert np.array_equal(bgra[:, :, 0], gray_alpha[:, :, 0]) and np.array_equal(bgra[:, :, 3], gray_alpha[:, :, 1])
    assert np.array_equal(tifffile.imread(tmp_path / "ga.tif"), gray_alpha)
    for name in ("ga.png", "ga.tif"):
        back = read_image(tmp_path / name)
        assert back.pixels.shape == (3, 4, 1)
        assert np.array_equal(quantise(back.alpha, 16), gray_alpha[:, :, 1])


def test_webp_turns_gray_into_rgb():
    data = encode_image(make_image([[0.2, 0.6]]), "webp", quality=100)
    assert np.asarray(PILImage.open(io.BytesIO(data))).tolist() == [[[51, 51, 51], [153, 153, 153]]]


@pytest.mark.parametrize("extension", [".png", ".jpg", ".tif", ".webp"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_icc_profile_bytes_round_trip(tmp_path, extension, bit_depth):
    path = tmp_path / f"icc{extension}"
    write_image(path, make_image(np.full((4, 4, 3), 0.3), bit_depth=bit_depth, icc=SRGB))
    assert read_image(path).icc_profile == SRGB
    if extension != ".tif":
        assert PILImage.open(path).info["icc_profile"] == SRGB  # independent reader
    else:
        with tifffile.TiffFile(path) as tiff:
            assert tiff.pages[0].tags[34675].value == SRGB


def test_mismatched_or_unsupported_profile_is_not_embedded(tmp_path):
    gray_profile = SRGB[:16] + b"GRAY" + SRGB[20:]
    assert profile_fits(gray_profile, 1) and not profile_fits(gray_profile, 3)
    assert profile_fits(SRGB, 3) and not profile_fits(SRGB, 1) and not profile_fits(b"short", 3)
    write_image(tmp_path / "g.jpg", make_image(np.zeros((2, 2)), icc=SRGB))  # RGB profile, gray pixels
    assert "icc_profile" not in PILImage.open(tmp_path / "g.jpg").info
    write_image(tmp_path / "g.webp", make_image(np.zeros((2, 2)), icc=gray_profile))  # WebP is RGB
    assert "icc_profile" not in PILImage.open(tmp_path / "g.webp").info
    write_image(tmp_path / "c.bmp", make_image(np.zeros((2, 2, 3)), icc=SRGB))
    assert read_image(tmp_path / "c.bmp").icc_profile is None


def test_encode_image_returns_bytes_for_stdout():
    image = make_image([[0.0, 1.0]])
    data = encode_image(image, "png")
    assert data.startswith(b"\x89PNG") and np.array_equal(decode_image(data).pixels, image.pixels)
    assert encode_image(image, "jpeg").startswith(b"\xff\xd8")
    assert encode_image(image, "JPG").startswith(b"\xff\xd8") and encode_image(image, ".tif").startswith(b"II*")
    with pytest.raises(ImageWriteError, match="<stdout>: unsupported output format 'gif'"):
        encode_image(image, "gif")
    with pytest.raises(ValueError):
        encode_image(image, "png", bit_depth=12)
    with pytest.raises(ValueError):
        encode_image(image, "jpeg", quality=0)


def test_output_format_from_extension():
    assert [output_format(name) for name in ("a.PNG", "b.jpg", "c.JPEG", "d.tif", "e.tiff", "f.webp", "g.bmp")] == [
        "png", "jpeg", "jpeg", "tiff", "tiff", "webp", "bmp"
    ]
    for bad in ("a.gif", "noextension", "x.png.bak"):
        with pytest.raises(ImageWriteError, match="unsupported output extension") as caught:
            output_format(bad)
        assert bad in str(caught.value)


def test_formats_too_small_for_the_image_are_refused(tmp_path):
    with pytest.raises(ImageWriteError, match="too large for WebP"):
        write_image(tmp_path / "wide.webp", make_image(np.zeros((1, 16384))))
    with pytest.raises(ImageWriteError, match="too large for JPEG"):
        write_image(tmp_path / "tall.jpg", make_image(np.zeros((65536, 1))))
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_kept_unless_overwrite(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(b"precious")
    with pytest.raises(ImageWriteError, match="already exists") as caught:
        write_image(path, make_image([[0.5]]))
    assert str(path) in str(caught.value) and path.read_bytes() == b"precious"
    write_image(path, make_image([[0.5]]), overwrite=True)
    assert quantise(read_image(path).pixels, 8).tolist() == [[[128]]]  # 127.5 rounds half to even


def test_missing_folder_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "not" / "here"
    with pytest.raises(ImageWriteError) as caught:
        write_image(missing / "out.png", make_image([[0.5]]))
    assert f"output folder {missing} does not exist" in str(caught.value)
    assert not (tmp_path / "not").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImageWriteError, match="is not a folder"):
        write_image(tmp_path / "file" / "out.png", make_image([[0.5]]))
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageWriteError, match="is a folder"):
        write_image(tmp_path / "dir.png", make_image([[0.5]]), overwrite=True)


def test_encoder_error_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken_encoder(samples, icc, quality):
        raise OSError("encoder exploded")

    monkeypatch.setitem(write._ENCODERS, "png", broken_encoder)
    with pytest.raises(ImageWriteError, match="encoder exploded") as caught:
        write_image(tmp_path / "out.png", make_image([[0.5]]))
    assert str(tmp_path / "out.png") in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_removes_the_temp_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    path.write_bytes(b"old")

    def failing_fsync(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(ImageWriteError, match="No space left on device"):
        write_image(path, make_image([[0.5]]), overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"] and path.read_bytes() == b"old"


def test_interrupt_while_writing_removes_the_temp_file(tmp_path, monkeypatch):
    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    monkeypatch.setattr(atomic.os, "link", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_image(tmp_path / "out.png", make_image([[0.5]]))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("overwrite, move", [(False, "link"), (True, "replace")])
def test_temp_file_is_hidden_in_the_same_folder_and_moved_into_place(tmp_path, monkeypatch, overwrite, move):
    """A new file is published by hard link (fails if the name exists); a replacement by rename."""
    moves = []
    real_move = getattr(os, move)

    def recording_move(source, target):
        moves.append((os.fspath(source), os.fspath(target)))
        real_move(source, target)

    monkeypatch.setattr(atomic.os, move, recording_move)
    write_image(tmp_path / "out.png", make_image([[0.5]]), overwrite=overwrite)
    ((source, target),) = moves
    assert os.path.dirname(source) == str(tmp_path) and target == str(tmp_path / "out.png")
    assert os.path.basename(source).startswith(".out.png.") and source.endswith(".tmp")
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_a_file_that_appears_while_encoding_is_kept(tmp_path, monkeypatch):
    """Another process wrote the output meanwhile: it is not replaced, and the error says it exists."""
    path = tmp_path / "out.png"
    real_encoder = write._ENCODERS["png"]

    def racing_encoder(samples, icc, quality):
        path.write_bytes(b"theirs")
        return real_encoder(samples, icc, quality)

    monkeypatch.setitem(write._ENCODERS, "png", racing_encoder)
    with pytest.raises(OutputExistsError, match="already exists"):
        write_image(path, make_image([[0.5]]))
    assert path.read_bytes() == b"theirs" and [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_without_hard_links_a_new_file_is_still_written_once(tmp_path, monkeypatch):
    def no_links(source, target):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "link", no_links)
    write_image(tmp_path / "out.png", make_image([[0.5]]))
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    with pytest.raises(OutputExistsError):
        atomic.write_atomically(tmp_path / "out.png", b"new", replace=False)
    assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"


def test_new_file_permissions_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        write_image(tmp_path / "out.png", make_image([[0.5]]))
    finally:
        os.umask(previous)
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o640


def test_image_rejects_malformed_arrays():
    with pytest.raises(TypeError):
        Image(np.zeros((2, 2, 3)), None, 8, None, "x", "png")  # float64
    with pytest.raises(ValueError):
        Image(np.zeros((2, 2, 2), np.float32), None, 8, None, "x", "png")
    with pytest.raises(ValueError):
        Image(np.zeros((2, 2, 3), np.float32), np.zeros((3, 2), np.float32), 8, None, "x", "png")
    with pytest.raises(ValueError):
        Image(np.zeros((2, 2, 3), np.float32), None, 12, None, "x", "png")
