"""Lossless image I/O: read any common format into float RGB plus alpha and metadata, write it back."""

from irestore.io.image import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, Image
from irestore.io.listing import list_images
from irestore.io.read import decode_image, read_bytes, read_image
from irestore.io.write import encode_image, output_format, write_image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "Image",
    "decode_image",
    "encode_image",
    "list_images",
    "output_format",
    "read_bytes",
    "read_image",
    "write_image",
]
