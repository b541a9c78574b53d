import pytest
import torch

from irestore.engine.bands import add_by_rows


def _shifted_sum(x, r0, r1):
    """A branch that reads one row above and below its band, as a 3x3 convolution does."""
    padded = torch.nn.functional.pad(x, (0, 0, 1, 1))
    return padded[:, :, r0 : r1] + padded[:, :, r0 + 2 : r1 + 2]


@pytest.mark.parametrize("rows", [1, 2, 5, 16])
def test_bands_that_read_a_halo_see_the_input_not_the_sums_already_written(rows):
    x = torch.rand(1, 3, 11, 4)
    expected = x + _shifted_sum(x, 0, 11)
    x_in = x.clone()
    got = add_by_rows(x_in, lambda r0, r1: _shifted_sum(x_in, r0, r1), rows, halo=1)
    assert got.data_ptr() == x_in.data_ptr()
    assert torch.allclose(got, expected)


def test_without_the_halo_the_in_place_sum_would_be_read_back():
    x = torch.rand(1, 3, 11, 4)
    x_in = x.clone()
    got = add_by_rows(x_in, lambda r0, r1: _shifted_sum(x_in, r0, r1), 2)
    assert not torch.allclose(got, x + _shifted_sum(x, 0, 11))


def test_a_halo_wider_than_a_band_is_refused():
    with pytest.raises(ValueError):
        add_by_rows(torch.zeros(1, 1, 4, 4), lambda r0, r1: torch.zeros(1, 1, r1 - r0, 4), 1, halo=2)


def test_bands_are_capped_in_number_but_not_past_the_largest_band_size():
    from irestore.engine.bands import LARGEST_BAND_BYTES, MAX_BANDS, band_rows

    def plan(height, width, channels, dtype):
        x = torch.empty(1, 1, height, width, dtype=dtype)
        rows = band_rows(x, channels)
        return -(-height // rows), rows * width * channels * x.element_size()

    bands_1mp, _ = plan(866, 1155, 64, torch.bfloat16)
    assert bands_1mp == MAX_BANDS
    bands_12mp, bytes_12mp = plan(3000, 4000, 32, torch.float32)
    assert bands_12mp > MAX_BANDS and bytes_12mp <= LARGEST_BAND_BYTES
