"""Make the README's example image: scikit-image's CC0 "coffee" photo with synthetic camera noise.

The photograph is CC0 by Rachel Michetti (courtesy of Pikolo Espresso Bar), shipped in
scikit-image's data folder. Noise comes from irestore's own camera pipeline (Brooks et al. 2019)
at a fixed seed and a moderately high ISO-like level, so the example is reproducible:

    pip install scikit-image && python scripts/make_example.py
"""

from pathlib import Path

import numpy as np
import skimage.data

from irestore.data.camera_noise import add_camera_noise
from irestore.io import Image, write_image

OUT = Path(__file__).resolve().parents[1] / "examples"


def main() -> None:
    clean = skimage.data.coffee().astype(np.float32) / 255.0
    rng = np.random.default_rng(2026)
    noisy = add_camera_noise(clean, rng, noise_levels=(0.0008, 4e-5))
    for name, pixels in (("coffee.png", clean), ("coffee-noisy.png", noisy)):
        image = Image(pixels=np.clip(pixels, 0, 1).astype(np.float32), alpha=None, bit_depth=8, icc_profile=None, source=name, format="png")
        write_image(OUT / name, image, overwrite=True)
        print(OUT / name)


if __name__ == "__main__":
    main()
