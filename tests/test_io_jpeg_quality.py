"""The quality and subsampling read from JPEG files that OpenCV and Pillow wrote at known settings."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from irestore.io.jpeg_quality import jpeg_info, read_jpeg_info


def _photo(gray: bool = False) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8), (5, 5), 0)
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if gray else img


@pytest.mark.parametrize("quality", [5, 10, 23, 50, 75, 90, 100])
def test_opencv_quality_is_read_exactly(quality):
    ok, data = cv2.imencode(".jpg", _photo(), [cv2.IMWRITE_JPEG_QUALITY, quality])
    info = jpeg_info(data.tobytes())
    assert (info.quality, info.exact, info.subsampling) == (quality, True, "4:2:0")


@pytest.mark.parametrize("quality", [10, 40, 95])
def test_opencv_gray_and_444(quality):
    ok, gray = cv2.imencode(".jpg", _photo(gray=True), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert (jpeg_info(gray.tobytes()).quality, jpeg_info(gray.tobytes()).subsampling) == (quality, "gray")
    params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, full = cv2.imencode(".jpg", _photo(), params)
    assert (jpeg_info(full.tobytes()).quality, jpeg_info(full.tobytes()).subsampling) == (quality, "4:4:4")


@pytest.mark.parametrize(("quality", "subsampling", "name"), [(15, 2, "4:2:0"), (60, 0, "4:4:4"), (85, 1, "4:2:2")])
def test_pillow_files_with_exif_and_progressive(tmp_path, quality, subsampling, name):
    image = Image.fromarray(_photo()[..., ::-1])
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "photo.jpg"
    image.save(path, quality=quality, subsampling=subsampling, exif=exif, progressive=quality == 60)
    info = read_jpeg_info(path)
    assert (info.quality, info.exact, info.subsampling, info.progressive) == (quality, True, name, quality == 60)
    assert f"quality {quality}" in info.describe()


def test_custom_tables_give_a_close_estimate():
    flat = [[8] * 64, [9] * 64]
    buffer = io.BytesIO()
    Image.fromarray(_photo()[..., ::-1]).save(buffer, format="JPEG", qtables=flat)
    info = jpeg_info(buffer.getvalue())
    assert not info.exact and 1 <= info.quality <= 100
    assert "~" in info.describe()


def test_not_a_jpeg():
    ok, png = cv2.imencode(".png", _photo())
    assert jpeg_info(png.tobytes()) is None
    assert jpeg_info(b"\xff\xd8\xff") is None
    assert jpeg_info(b"") is None
