"""The box mean behind scripts/local_pool_probe.py, whose figures docs/ablations.md reports."""

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F

_spec = importlib.util.spec_from_file_location("local_pool_probe", Path(__file__).parents[1] / "scripts" / "local_pool_probe.py")
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


def test_box_mean_is_a_sliding_average_shifted_inward_at_the_borders():
    t = torch.randn(2, 3, 11, 14)
    out = probe.box_mean(t, 4, 5)
    pooled = F.avg_pool2d(t, (4, 5), stride=1)
    assert out.shape == t.shape
    torch.testing.assert_close(out[..., 1:9, 2:12], pooled, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out[..., 0, 0], pooled[..., 0, 0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out[..., -1, -1], pooled[..., -1, -1], rtol=1e-5, atol=1e-6)


def test_a_window_the_size_of_the_map_is_the_global_mean():
    t = torch.randn(1, 4, 6, 9)
    out = probe.box_mean(t, 6, 9)
    torch.testing.assert_close(out, t.mean(dim=(2, 3), keepdim=True).expand_as(t), rtol=1e-5, atol=1e-6)
