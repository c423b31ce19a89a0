"""The analytic FLOP count that the throughput benchmark divides by."""
import pytest

from legacy_vae.bench import flops
from legacy_vae.config import defaults


def test_post_flops_by_hand():
    # forward multiply-adds per image: 784*200 + 200*200 + 2*(200*2) + 2*200 + 200*200 + 200*784
    macs = 784 * 200 + 200 * 200 + 2 * 200 * 2 + 2 * 200 + 200 * 200 + 200 * 784
    assert macs == 394_800
    expected = 100 * 2 * (macs + macs + (macs - 784 * 200))
    assert flops.flops_for(defaults("post")) == expected == 205_520_000


def test_slim_flops_by_hand():
    macs = 784 * 128 + 128 * 128 + 64 * 128 + 128 * 784
    assert flops.flops_for(defaults("slim")) == 100 * 2 * (3 * macs - 784 * 128)


def test_flops_scale_with_batch_and_reject_unknown_models():
    assert flops.flops_per_step("post", 200, 2, 200) == 2 * flops.flops_per_step("post", 100, 2, 200)
    with pytest.raises(ValueError, match="no FLOP count for model 'cvae'"):
        flops.flops_per_step("cvae", 32, 2, 32)
