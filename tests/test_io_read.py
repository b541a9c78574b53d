"""Reading every supported format, depth and colour model into float RGB/gray plus alpha."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image as PILImage
from PIL import ImageCms

from irestore.io import decode_image, read_image


def levels(values: np.ndarray, top: int) -> np.ndarray:
    """Float pixels back to integer levels, to compare with the integers a file was written from."""
    return np.rint(values * top).astype(np.int64)


def test_rgb_png_8bit_is_scaled_by_255(tmp_path):
    path = tmp_path / "rgb.png"
    PILImage.fromarray(np.array([[[0, 51, 255], [255, 102, 0]]], np.uint8)).save(path)
    image = read_image(path)
    np.testing.assert_allclose(image.pixels, [[[0.0, 0.2, 1.0], [1.0, 0.4, 0.0]]], atol=1e-7)
    assert image.pixels.dtype == np.float32
    assert (image.bit_depth, image.format, image.alpha, image.source) == (8, "png", None, str(path))


def test_dark_16bit_png_is_read_as_16bit_not_by_max_value(tmp_path):
    path = tmp_path / "dark.png"
    rgb = np.array([[[100, 200, 0], [7, 0, 255]]], np.uint16)  # every value < 256
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    image = read_image(path)
    assert image.bit_depth == 16
    np.testing.assert_allclose(image.pixels[0, 0], [100 / 65535, 200 / 65535, 0.0], rtol=1e-6)
    assert np.array_equal(levels(image.pixels, 65535), rgb)


def test_16bit_rgba_and_gray_png_are_exact(tmp_path):
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 65536, (3, 4, 4), dtype=np.uint16)
    gray = rng.integers(0, 65536, (3, 4), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba[:, :, [2, 1, 0, 3]])
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    color, mono = read_image(tmp_path / "rgba.png"), read_image(tmp_path / "gray.png")
    assert np.array_equal(levels(color.pixels, 65535), rgba[:, :, :3])
    assert np.array_equal(levels(color.alpha, 65535), rgba[:, :, 3])
    assert mono.pixels.shape == (3, 4, 1) and mono.alpha is None and mono.bit_depth == 16
    assert np.array_equal(levels(mono.pixels[:, :, 0], 65535), gray)


def test_gray_and_gray_alpha_and_rgba_png_8bit(tmp_path):
    gray_alpha = np.array([[[10, 0], [20, 128]], [[30, 255], [40, 77]]], np.uint8)
    PILImage.fromarray(gray_alpha).save(tmp_path / "la.png")  # mode LA
    image = read_image(tmp_path / "la.png")
    assert image.pixels.shape == (2, 2, 1)
    assert np.array_equal(levels(image.pixels[:, :, 0], 255), gray_alpha[:, :, 0])
    assert np.array_equal(levels(image.alpha, 255), gray_alpha[:, :, 1])
    rgba = np.array([[[1, 2, 3, 0], [4, 5, 6, 200]]], np.uint8)
    PILImage.fromarray(rgba).save(tmp_path / "rgba.png")
    image = read_image(tmp_path / "rgba.png")
    assert np.array_equal(levels(image.pixels, 255), rgba[:, :, :3])
    assert np.array_equal(levels(image.alpha, 255), rgba[:, :, 3])


def test_one_bit_png_becomes_black_and_white_gray(tmp_path):
    PILImage.fromarray(np.array([[True, False, True]])).save(tmp_path / "bits.png")
    image = read_image(tmp_path / "bits.png")
    assert image.pixels[:, :, 0].tolist() == [[1.0, 0.0, 1.0]]


def _palette_image() -> PILImage.Image:
    picture = PILImage.new("P", (3, 1))
    picture.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    picture.putdata([0, 1, 2])
    return picture


def test_palette_png_becomes_rgb(tmp_path):
    _palette_image().save(tmp_path / "p.png")
    image = read_image(tmp_path / "p.png")
    assert image.alpha is None
    assert image.pixels.tolist() == [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]


def test_palette_transparency_becomes_alpha(tmp_path):
    _palette_image().save(tmp_path / "index.png", transparency=1)
    _palette_image().save(tmp_path / "table.png", transparency=bytes([255, 51, 0]))
    assert read_image(tmp_path / "index.png").alpha.tolist() == [[1.0, 0.0, 1.0]]
    np.testing.assert_allclose(read_image(tmp_path / "table.png").alpha, [[1.0, 0.2, 0.0]], atol=1e-7)


def test_gray_png_with_transparent_colour_gets_alpha(tmp_path):
    PILImage.fromarray(np.array([[0, 5, 9]], np.uint8)).save(tmp_path / "trns.png", transparency=5)
    image = read_image(tmp_path / "trns.png")
    assert image.pixels.shape == (1, 3, 1)
    assert image.alpha.tolist() == [[1.0, 0.0, 1.0]]


def test_jpeg_rgb_and_gray(tmp_path):
    PILImage.new("RGB", (16, 16), (200, 100, 50)).save(tmp_path / "c.jpg", quality=100)
    PILImage.new("L", (16, 8), 77).save(tmp_path / "g.jpg", quality=100)
    color, gray = read_image(tmp_path / "c.jpg"), read_image(tmp_path / "g.jpg")
    np.testing.assert_allclose(color.pixels, np.full((16, 16, 3), [200, 100, 50]) / 255, atol=2 / 255)
    assert (color.format, color.bit_depth) == ("jpeg", 8)
    assert gray.pixels.shape == (8, 16, 1)
    np.testing.assert_allclose(gray.pixels, 77 / 255, atol=1 / 255)


def test_cmyk_jpeg_and_tiff_become_rgb_and_drop_the_cmyk_profile(tmp_path):
    # (1 - C)(1 - K) etc.: C=0.2 M=0.4 Y=0 K=0.2 -> R=0.64, G=0.48, B=0.8
    cmyk = PILImage.new("CMYK", (8, 8), (51, 102, 0, 51))
    cmyk.save(tmp_path / "c.tif")
    cmyk.save(tmp_path / "c.jpg", quality=100, icc_profile=b"\0" * 16 + b"CMYK" + b"\0" * 108)
    for name in ("c.tif", "c.jpg"):
        image = read_image(tmp_path / name)
        assert image.pixels.shape == (8, 8, 3) and image.icc_profile is None
        np.testing.assert_allclose(image.pixels[3, 3], [0.64, 0.48, 0.8], atol=3 / 255)


def test_16bit_cmyk_tiff_uses_the_ink_formula(tmp_path):
    inks = np.array([[[13107, 0, 65535, 32768]]], np.uint16)  # C=0.2, M=0, Y=1, K~0.5
    tifffile.imwrite(tmp_path / "c16.tif", inks, photometric="separated")
    image = read_image(tmp_path / "c16.tif")
    k = 1 - 32768 / 65535
    np.testing.assert_allclose(image.pixels[0, 0], [0.8 * k, k, 0.0], atol=1e-6)
    assert image.bit_depth == 16


def test_16bit_tiff_rgb_planar_and_gray_alpha_are_exact(tmp_path):
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 65536, (3, 5, 3), dtype=np.uint16)
    gray_alpha = rng.integers(0, 65536, (3, 5, 2), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb", compression="zlib")
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate")
    tifffile.imwrite(tmp_path / "ga.tif", gray_alpha, photometric="minisblack", extrasamples=["unassalpha"])
    for name in ("rgb.tif", "planar.tif"):
        image = read_image(tmp_path / name)
        assert image.bit_depth == 16 and image.format == "tiff"
        assert np.array_equal(levels(image.pixels, 65535), rgb)
    image = read_image(tmp_path / "ga.tif")
    assert image.pixels.shape == (3, 5, 1)
    assert np.array_equal(levels(image.pixels[:, :, 0], 65535), gray_alpha[:, :, 0])
    assert np.array_equal(levels(image.alpha, 65535), gray_alpha[:, :, 1])


def test_16bit_lzw_tiff_from_opencv_is_exact(tmp_path):
    rgb = (np.arange(60, dtype=np.uint16).reshape(4, 5, 3) * 1000).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "lzw.tif"), rgb[:, :, ::-1])  # OpenCV writes LZW
    image = read_image(tmp_path / "lzw.tif")
    assert image.bit_depth == 16
    assert np.array_equal(levels(image.pixels, 65535), rgb)


def test_tiff_min_is_white_float_and_premultiplied_alpha(tmp_path):
    tifffile.imwrite(tmp_path / "white.tif", np.array([[0, 65535]], np.uint16), photometric="miniswhite")
    assert read_image(tmp_path / "white.tif").pixels[:, :, 0].tolist() == [[1.0, 0.0]]
    tifffile.imwrite(tmp_path / "float.tif", np.array([[-0.5, 0.25, 2.0]], np.float32))
    image = read_image(tmp_path / "float.tif")
    assert image.pixels[:, :, 0].tolist() == [[0.0, 0.25, 1.0]] and image.bit_depth == 16
    premultiplied = np.array([[[16384, 16384, 0, 32768], [0, 0, 0, 0]]], np.uint16)
    tifffile.imwrite(tmp_path / "assoc.tif", premultiplied, photometric="rgb", extrasamples=["assocalpha"])
    image = read_image(tmp_path / "assoc.tif")
    np.testing.assert_allclose(image.pixels[0], [[0.5, 0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(image.alpha, [[32768 / 65535, 0.0]], atol=1e-7)


def test_8bit_tiff_through_pil_is_exact(tmp_path):
    rgb = np.array([[[1, 2, 3], [250, 128, 64]]], np.uint8)
    PILImage.fromarray(rgb).save(tmp_path / "rgb.tif", compression="tiff_lzw")
    image = read_image(tmp_path / "rgb.tif")
    assert image.bit_depth == 8 and np.array_equal(levels(image.pixels, 255), rgb)


def test_webp_and_bmp(tmp_path):
    rgba = np.array([[[10, 20, 30, 40], [200, 150, 100, 255]]], np.uint8)
    PILImage.fromarray(rgba).save(tmp_path / "a.webp", lossless=True, exact=True)
    image = read_image(tmp_path / "a.webp")
    assert image.format == "webp"
    assert np.array_equal(levels(image.pixels, 255), rgba[:, :, :3])
    assert np.array_equal(levels(image.alpha, 255), rgba[:, :, 3])
    PILImage.fromarray(rgba[:, :, :3]).save(tmp_path / "a.bmp")
    PILImage.fromarray(np.array([[0, 99, 255]], np.uint8)).save(tmp_path / "g.bmp")
    _palette_image().save(tmp_path / "p.bmp")
    assert np.array_equal(levels(read_image(tmp_path / "a.bmp").pixels, 255), rgba[:, :, :3])
    assert levels(read_image(tmp_path / "g.bmp").pixels, 255)[:, :, 0].tolist() == [[0, 99, 255]]
    assert read_image(tmp_path / "p.bmp").pixels.tolist() == [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]


@pytest.mark.parametrize("size", [(1, 1), (1, 7), (7, 1), (5, 3)])
@pytest.mark.parametrize("extension", [".png", ".jpg", ".tif", ".webp", ".bmp"])
def test_tiny_and_odd_sizes(tmp_path, size, extension):
    height, width = size
    path = tmp_path / f"x{extension}"
    PILImage.fromarray(np.full((height, width, 3), 128, np.uint8)).save(path)
    assert read_image(path).pixels.shape == (height, width, 3)


def test_icc_profile_is_read_from_every_format_that_holds_one(tmp_path):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture = PILImage.new("RGB", (4, 4), (9, 99, 199))
    for extension in (".png", ".jpg", ".webp", ".tif"):
        picture.save(tmp_path / f"p{extension}", icc_profile=profile)
        assert read_image(tmp_path / f"p{extension}").icc_profile == profile
    tifffile.imwrite(tmp_path / "p16.tif", np.zeros((2, 2, 3), np.uint16), photometric="rgb", iccprofile=profile)
    assert read_image(tmp_path / "p16.tif").icc_profile == profile
    assert read_image(tmp_path / "p.png").icc_profile is not None
    picture.save(tmp_path / "none.png")
    assert read_image(tmp_path / "none.png").icc_profile is None


def test_decode_image_matches_read_image_and_names_stdin(tmp_path):
    path = tmp_path / "a.png"
    PILImage.fromarray(np.array([[[5, 6, 7]]], np.uint8)).save(path)
    from_bytes = decode_image(path.read_bytes())
    assert from_bytes.source == "<stdin>"
    assert np.array_equal(from_bytes.pixels, read_image(path).pixels)
    assert decode_image(bytearray(path.read_bytes()), name="pipe").source == "pipe"


def test_reading_never_modifies_the_input(tmp_path):
    paths = [tmp_path / "a.jpg", tmp_path / "b.png", tmp_path / "c.tif"]
    exif = PILImage.Exif()
    exif[0x0112] = 6
    PILImage.new("RGB", (8, 4), (1, 2, 3)).save(paths[0], exif=exif.tobytes())
    cv2.imwrite(str(paths[1]), np.ones((4, 8, 3), np.uint16))
    tifffile.imwrite(paths[2], np.ones((4, 8, 2), np.uint16), photometric="minisblack", extrasamples=["unassalpha"])
    for path in paths:
        os.utime(path, (1_000_000_000, 1_000_000_000))
        before = (path.read_bytes(), path.stat().st_mtime_ns)
        read_image(path)
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_multi_page_tiff_reads_page_one_and_says_so(tmp_path, dtype):
    """PIL reads the 8-bit file, tifffile the 16-bit one: both count the pages."""
    pages = np.stack([np.full((6, 5, 3), 10 * (i + 1), dtype) for i in range(3)])
    tifffile.imwrite(tmp_path / "scan.tif", pages, photometric="rgb")
    image = read_image(tmp_path / "scan.tif")
    assert image.notes == ("page 1 of 3",)
    assert np.all(levels(image.pixels, np.iinfo(dtype).max) == 10)
    tifffile.imwrite(tmp_path / "single.tif", pages[0], photometric="rgb")
    assert read_image(tmp_path / "single.tif").notes == ()


def test_animated_png_reads_frame_one_and_says_so(tmp_path):
    frames = [PILImage.new("RGB", (4, 3), (value, 0, 0)) for value in (50, 100)]
    frames[0].save(tmp_path / "anim.png", save_all=True, append_images=frames[1:])
    image = read_image(tmp_path / "anim.png")
    assert image.notes == ("frame 1 of 2",) and levels(image.pixels[0, 0, 0], 255) == 50
