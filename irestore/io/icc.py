"""Decide whether an ICC profile may be embedded in an output with a given channel count."""

from __future__ import annotations

_SPACE_FOR_CHANNELS = {1: b"GRAY", 3: b"RGB "}


def profile_fits(profile: bytes | None, channels: int) -> bool:
    """True when the profile's data colour space (header bytes 16-19) matches the colour channels.

    A gray profile embedded in an RGB file (a gray input written to WebP, or turned to colour by a
    model) or a CMYK profile in an RGB file makes colour-managed viewers reject the profile or
    render wrong colours, so such a profile is dropped rather than carried.
    """
    if not profile or len(profile) < 20:
        return False
    return profile[16:20] == _SPACE_FOR_CHANNELS.get(channels)
