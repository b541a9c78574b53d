"""The switchable image-restoration U-Net (Restormer-like macro layout, NAFNet-like clarity).

stem -> [blocks, down] x levels -> middle -> [up, skip-scale + concat + 1x1 fuse, blocks] x levels
-> head -> (+ input, or + upsampled input for super-resolution)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irestore.models.config import ModelConfig
from irestore.nn.blocks import Block
from irestore.nn.skips import make_skips


class Downsample(nn.Module):
    """3x3 conv to C/2, then pixel-unshuffle: half the resolution, twice the channels."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels // 2, 3, padding=1), nn.PixelUnshuffle(2))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


class Upsample(nn.Module):
    """3x3 conv to 2C, then pixel-shuffle: twice the resolution, half the channels."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels * 2, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


def pad_to_multiple(x: Tensor, multiple: int) -> tuple[Tensor, tuple[int, int]]:
    """Pad bottom/right by reflection (replication where the image is too small to reflect)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (h, w)
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), (h, w)


class RestorationUNet(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = cfg = config
        widths = [cfg.width * 2**i for i in range(cfg.levels + 1)]

        def stage(count: int, level: int) -> nn.Sequential:
            return nn.Sequential(
                *(
                    Block(widths[level], mixer=cfg.mixer, norm=cfg.norm, placement=cfg.placement, heads=cfg.heads[level], expansion=cfg.expansion, gate=cfg.gate)
                    for _ in range(count)
                )
            )

        self.stem = nn.Conv2d(cfg.in_channels, cfg.width, 3, padding=1)
        self.encoders = nn.ModuleList(stage(n, i) for i, n in enumerate(cfg.enc_blocks))
        self.downs = nn.ModuleList(Downsample(widths[i]) for i in range(cfg.levels))
        self.middle = stage(cfg.mid_blocks, cfg.levels)
        self.ups = nn.ModuleList(Upsample(widths[i + 1]) for i in range(cfg.levels))
        self.skip_scales = make_skips(cfg.skip, widths[: cfg.levels], cfg.kappa)
        self.fuses = nn.ModuleList(nn.Conv2d(2 * widths[i], widths[i], 1) for i in range(cfg.levels))
        self.decoders = nn.ModuleList(stage(n, i) for i, n in enumerate(cfg.dec_blocks))
        out = cfg.out_channels * cfg.scale**2
        self.head = nn.Sequential(nn.Conv2d(cfg.width, out, 3, padding=1), nn.PixelShuffle(cfg.scale))

    def forward(self, x: Tensor) -> Tensor:
        """Inputs of any size: padded here to the model's multiple and cropped back."""
        padded, (h, w) = pad_to_multiple(x, self.config.multiple)
        y = self.forward_features(padded)
        s = self.config.scale
        return y[..., : h * s, : w * s]

    def forward_features(self, x: Tensor) -> Tensor:
        feat = self.stem(x)
        skips = []
        for encoder, down in zip(self.encoders, self.downs):
            feat = encoder(feat)
            skips.append(feat)
            feat = down(feat)
        feat = self.middle(feat)
        for i in reversed(range(self.config.levels)):
            feat = self._up_and_fuse(i, feat, skips.pop())
            feat = self.decoders[i](feat)
        y = self.head(feat)
        del feat  # the widest full-resolution map need not outlive the head
        return self._add_base(y, x)

    def _add_base(self, y: Tensor, x: Tensor) -> Tensor:
        """The head's output plus the global residual (the inference form adds it in place)."""
        return y + self.base(x)

    def _up_and_fuse(self, i: int, low: Tensor, skip: Tensor) -> Tensor:
        """Decoder level ``i``'s input: the upsampled lower level beside its scaled long skip."""
        return self.fuses[i](torch.cat([self.ups[i](low), self.skip_scales[i](skip)], dim=1))

    def base(self, x: Tensor) -> Tensor:
        """The global residual: the input itself, or its bilinear upsampling for super-resolution."""
        cfg = self.config
        if cfg.in_channels != cfg.out_channels:
            x = x.mean(1, keepdim=True) if cfg.out_channels == 1 else x.expand(-1, cfg.out_channels, -1, -1)
        if cfg.scale == 1:
            return x
        return F.interpolate(x, scale_factor=cfg.scale, mode="bilinear", align_corners=False)

    def blocks(self) -> list[tuple[str, Block]]:
        """Every block in the order the forward pass runs them (decoders innermost first), named."""
        stages = [f"encoders.{i}" for i in range(self.config.levels)] + ["middle"]
        stages += [f"decoders.{i}" for i in reversed(range(self.config.levels))]
        named = dict(self.named_modules())
        return [(f"{stage}.{j}", block) for stage in stages for j, block in enumerate(named[stage])]
