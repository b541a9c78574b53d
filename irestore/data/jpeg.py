"""JPEG compression artefacts with OpenCV's encoder.

The encoder changes the degraded input (OpenCV, PIL and MATLAB ``imwrite`` quantise and subsample
differently), so this is a recorded choice: OpenCV (libjpeg), as in SwinIR's JPEG benchmarks, with
its defaults (4:2:0 chroma subsampling for colour, standard tables scaled by ``quality``). Colour is
encoded in BGR order like ``cv2.imwrite`` of an RGB image flipped to BGR; gray stays one channel.
"""

import cv2
import numpy as np

from irestore.errors import ConfigError

ENCODER = f"opencv-{cv2.__version__} libjpeg, 4:2:0 chroma subsampling for colour"


def jpeg_compress(img: np.ndarray, quality: int, *, subsample: bool = True) -> np.ndarray:
    """Encode ``img`` (H x W x 1|3, [0, 1]) as JPEG at ``quality`` (1..100) and decode it again.

    ``subsample=False`` keeps full-resolution chroma (4:4:4), as cameras' fine modes and many
    editors write; the default is libjpeg's 4:2:0."""
    if int(quality) != quality or not 1 <= quality <= 100:
        raise ConfigError(f"jpeg: quality must be an integer in 1..100, got {quality}")
    pixels = np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)
    gray = pixels.shape[-1] == 1
    pixels = pixels[..., 0] if gray else pixels[..., ::-1]
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    if not subsample and not gray:
        params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, encoded = cv2.imencode(".jpg", pixels, params)
    if not ok:
        raise RuntimeError("OpenCV failed to encode a JPEG")
    decoded = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
    decoded = decoded[..., None] if gray else decoded[..., ::-1]
    return decoded.astype(np.float32) / 255.0
