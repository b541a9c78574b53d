"""The sampling plans behind scripts/sampled_stats_probe.py, whose figures docs/speed.md reports."""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("sampled_stats_probe", Path(__file__).parents[1] / "scripts" / "sampled_stats_probe.py")
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


@pytest.mark.parametrize("cols, rows, side", [(2, 2, 0.6), (4, 3, 0.45), (6, 4, 0.4)])
def test_one_window_per_cell_on_the_grid_with_its_core_inside(cols, rows, side):
    h, w, multiple = 3000, 4000, 8
    plan = probe.windows(h, w, cols, rows, side, multiple)
    assert len(plan) == cols * rows
    for y0, x0, wh, ww, (top, bottom, left, right) in plan:
        assert y0 % multiple == 0 and x0 % multiple == 0 and wh % multiple == 0 and ww % multiple == 0
        assert 0 <= y0 and y0 + wh <= h and 0 <= x0 and x0 + ww <= w
        assert 0 <= top < bottom <= wh and 0 <= left < right <= ww
    cores = [(y0 + top, y0 + bottom, x0 + left, x0 + right) for y0, x0, _, _, (top, bottom, left, right) in plan]
    for i, a in enumerate(cores):
        for b in cores[i + 1 :]:
            assert a[1] <= b[0] or b[1] <= a[0] or a[3] <= b[2] or b[3] <= a[2], "cores must not overlap"
    for y0, x0, wh, ww, _ in plan:
        assert abs(wh - 2 * probe.MARGIN - h / rows * side) <= multiple and abs(ww - 2 * probe.MARGIN - w / cols * side) <= multiple
