"""HEIC and AVIF, the formats phones write: pixels, orientation, bit depth, ICC, alpha, errors, writing."""

from __future__ import annotations

import io

import imagecodecs
import numpy as np
import pillow_heif
import pytest
from PIL import Image as PILImage
from PIL import ImageCms

from irestore.errors import ImageReadError
from irestore.io import Image, decode_image, encode_image, read_image, write_image
from irestore.io.isobmff import avif_bit_depth, image_family

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
LOSSLESS_HEIC = {"quality": -1, "chroma": 444, "matrix_coefficients": 0}


def marked(height: int = 32, width: int = 48) -> np.ndarray:
    """Dark frame with a bright red top-left block: where that block lands shows the orientation."""
    pixels = np.full((height, width, 3), 40, np.uint8)
    pixels[: height // 2, : width // 3] = (230, 60, 60)
    return pixels


def ramp10(height: int = 32, width: int = 48) -> np.ndarray:
    """10-bit levels, most of them between two 8-bit levels, so an 8-bit read cannot match them."""
    levels = (np.arange(height * width * 3) * 7 % 1024).astype(np.uint16)
    return levels.reshape(height, width, 3)


def exif(orientation: int) -> bytes:
    tags = PILImage.Exif()
    tags[0x0112] = orientation
    return tags.tobytes()


def heic(samples: np.ndarray, mode: str, **options) -> bytes:
    buffer = io.BytesIO()
    pillow_heif.encode(mode, (samples.shape[1], samples.shape[0]), np.ascontiguousarray(samples).tobytes(), buffer, **options)
    return buffer.getvalue()


def avif(samples: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(samples).save(buffer, "AVIF", **options)
    return buffer.getvalue()


def test_8bit_heic_is_upright_with_its_profile(tmp_path):
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(heic(marked(), "RGB", exif=exif(6), icc_profile=SRGB, **LOSSLESS_HEIC))
    image = read_image(path)
    upright = np.rot90(marked(), -1)  # orientation 6: turn 90 degrees clockwise to view
    assert (image.format, image.bit_depth, image.pixels.shape) == ("heic", 8, (48, 32, 3))
    assert np.array_equal(np.rint(image.pixels * 255), upright)
    assert image.icc_profile == SRGB and image.alpha is None and image.notes == ()


def test_10bit_heic_keeps_its_levels_and_reads_as_16bit(tmp_path):
    levels = ramp10()
    path = tmp_path / "deep.heic"
    path.write_bytes(heic(levels << 6, "RGB;16", exif=exif(3), icc_profile=SRGB, **LOSSLESS_HEIC))
    image = read_image(path)
    assert image.bit_depth == 16 and image.icc_profile == SRGB
    assert np.array_equal(np.rint(image.pixels * 1023), levels[::-1, ::-1])  # orientation 3: 180 degrees
    assert image.pixels.max() <= 1.0


def test_heic_with_alpha_and_gray_heic(tmp_path):
    rgba = np.dstack([marked(), np.tile(np.arange(48, dtype=np.uint8) * 5, (32, 1))])
    with_alpha = decode_image(heic(rgba, "RGBA", **LOSSLESS_HEIC))
    assert with_alpha.alpha is not None and np.array_equal(np.rint(with_alpha.alpha * 255), rgba[:, :, 3])
    gray = decode_image(heic(marked()[:, :, 0], "L", quality=95))
    assert gray.pixels.shape == (32, 48, 1)


def test_8bit_avif_is_upright_with_its_profile(tmp_path):
    path = tmp_path / "photo.avif"
    path.write_bytes(avif(marked(), quality=100, subsampling="4:4:4", exif=exif(8), icc_profile=SRGB))
    image = read_image(path)
    upright = np.rot90(marked(), 1)  # orientation 8: turn 90 degrees counter-clockwise to view
    assert (image.format, image.bit_depth, image.pixels.shape, image.icc_profile) == ("avif", 8, (48, 32, 3), SRGB)
    assert np.abs(np.rint(image.pixels * 255) - upright).max() <= 3  # YUV rounding


def test_10bit_and_12bit_avif_keep_their_levels(tmp_path):
    for bits in (10, 12):
        levels = ramp10() << (bits - 10)
        data = imagecodecs.avif_encode(levels, level=100, bitspersample=bits)
        assert avif_bit_depth(data) == bits
        image = decode_image(data, name=f"deep{bits}.avif")
        assert image.bit_depth == 16 and image.format == "avif"
        assert np.array_equal(np.rint(image.pixels * (2**bits - 1)), levels)


def test_gray_avif_stays_gray():
    image = decode_image(avif(marked()[:, :, 0], quality=90))
    assert image.pixels.shape == (32, 48, 1)


def test_brands_decide_the_family_not_the_name(tmp_path):
    heic_bytes, avif_bytes = heic(marked(), "RGB"), avif(marked())
    assert (image_family(heic_bytes), image_family(avif_bytes)) == ("heic", "avif")
    mp4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(64)
    assert image_family(mp4) is None and image_family(b"\x89PNG\r\n\x1a\n") is None
    (tmp_path / "renamed.jpg").write_bytes(heic_bytes)
    assert read_image(tmp_path / "renamed.jpg").format == "heic"
    with pytest.raises(ImageReadError, match="not a PNG, JPEG, TIFF, WebP, BMP, HEIC or AVIF image"):
        decode_image(mp4, name="clip.mp4")


@pytest.mark.parametrize("name, make", [
    ("cut.heic", lambda: heic(marked(), "RGB")[:200]),
    ("garbage.heic", lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(300)),
    ("cut.avif", lambda: avif(marked())[:150]),
])
def test_corrupt_files_fail_with_one_line_naming_the_file(tmp_path, name, make):
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(ImageReadError) as caught:
        read_image(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "HEIC" in message or "AVIF" in message


def test_pixel_limit_is_checked_from_the_header(tmp_path):
    for data in (heic(marked(), "RGB"), avif(marked())):
        with pytest.raises(ImageReadError, match="over the limit of 100"):
            decode_image(data, max_pixels=100)


def test_multi_image_heic_says_the_primary_one_was_read():
    container = pillow_heif.from_bytes("RGB", (48, 32), marked().tobytes())
    container.add_frombytes("RGB", (16, 16), np.zeros((16, 16, 3), np.uint8).tobytes())
    buffer = io.BytesIO()
    container.save(buffer, quality=90)
    image = decode_image(buffer.getvalue())
    assert image.pixels.shape == (32, 48, 3) and image.notes == ("primary image of 2",)


@pytest.mark.parametrize("fmt", ["heic", "avif"])
def test_written_heic_and_avif_read_back_with_profile_and_alpha(tmp_path, fmt):
    rows, cols = np.mgrid[0:32, 0:48].astype(np.float32)
    pixels = np.dstack([rows / 31, cols / 47, np.full_like(rows, 0.5)])
    alpha = (cols / 47).astype(np.float32)
    write_image(tmp_path / f"out.{fmt}", Image(pixels, alpha, 8, SRGB, "x", "png"))
    back = read_image(tmp_path / f"out.{fmt}")
    assert (back.format, back.icc_profile, back.pixels.shape) == (fmt, SRGB, (32, 48, 3))
    assert np.abs(back.pixels - pixels).mean() < 0.01 and np.abs(back.alpha - alpha).mean() < 0.01


def test_16bit_data_is_written_to_heic_as_10_bits_and_avif_as_8():
    levels = ramp10().astype(np.float32) / 1023
    deep = Image(levels, None, 16, None, "x", "png")
    heic_back = decode_image(encode_image(deep, "heic", quality=95))
    avif_back = decode_image(encode_image(deep, "avif", quality=95))
    assert (heic_back.bit_depth, avif_back.bit_depth) == (16, 8)
    assert np.abs(heic_back.pixels - levels).mean() < 0.01
