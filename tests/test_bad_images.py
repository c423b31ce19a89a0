"""Images the models cannot take as they are get one error naming the expected shape, dtype and
[0, 1] range, what was given, and the fix: through a graph model's ``feed``, ``evaluate_images``
and a DataSet built from arrays (legacy_vae.data.checks)."""
import numpy as np
import pytest

from legacy_vae import evaluate
from legacy_vae.config import defaults
from legacy_vae.data import DataSet
from legacy_vae.models import post, slim_vae

EXPECTED = r"expects images of shape \(N, 784\), a float dtype \(float32\) and pixels in \[0, 1\]; "
FLOAT = r"got shape \(4, 784\), dtype float32, "
BYTES = np.random.default_rng(0).integers(0, 256, (4, 784), dtype=np.uint8)
BAD = [
    (BYTES, r"got shape \(4, 784\), dtype uint8, pixels in \[0, 255\]\. These look like 0\.\.255 bytes: "
            r"divide by 255, e\.g\. images\.astype\(np\.float32\) / 255\."),
    (BYTES.astype(np.float32), FLOAT + r"pixels in \[0, 255\]\. .*divide by 255"),
    (np.full((4, 784), -0.5, np.float32), FLOAT + r"pixels in \[-0\.5, -0\.5\]\. Rescale them to \[0, 1\]"),
    (np.full((4, 784), np.nan, np.float32), FLOAT + r"pixels in \[nan, nan\]\. Some pixels are NaN or infinite"),
    (np.ones((4, 784), np.int64),
     r"got shape \(4, 784\), dtype int64, pixels in \[1, 1\]\. Convert it: images\.astype\(np\.float32\)"),
    (np.zeros((4, 28, 28), np.float32), r"got shape \(4, 28, 28\).*images\.reshape\(-1, 784\)"),
    (np.zeros(784, np.float32), r"got shape \(784,\).*images\.reshape\(1, 784\)"),
    (np.zeros((4, 100), np.float32), r"got shape \(4, 100\).*one row of 784 pixels per image"),
]


@pytest.fixture(scope="module", params=["post", "slim"])
def handles(request):
    module = post if request.param == "post" else slim_vae
    return module.build(defaults(request.param))


@pytest.mark.parametrize("images, says", BAD)
def test_feed_refuses_bad_images(handles, images, says):
    with pytest.raises(ValueError, match="placeholder x:0 " + EXPECTED + says):
        handles.feed(images)


def test_feed_takes_images_in_the_unit_range(handles):
    good = BYTES.astype(np.float32) / 255
    assert handles.feed(good)[handles.x] is good
    assert handles.feed(np.zeros((0, 784), np.float32))[handles.x].shape == (0, 784)


class NeverUsed:
    """A model evaluate_images must not reach: the images are refused first."""
    code_size = 2

    def __getattr__(self, name):
        raise AssertionError(f"the model was used ({name}) before the images were checked")


@pytest.mark.parametrize("images, says", BAD)
def test_evaluate_images_refuses_bad_images(images, says):
    with pytest.raises(ValueError, match="evaluate_images " + EXPECTED + says):
        evaluate.evaluate_images(NeverUsed(), images, iw_samples=2, seed=0, progress=False)


def test_a_dataset_of_float_images_must_be_in_the_unit_range():
    with pytest.raises(ValueError, match=r"DataSet expects float images with pixels in \[0, 1\] \(or raw uint8 "
                                         r"0\.\.255\); got shape \(4, 784\), dtype float32, pixels in \[0, 255\]\. "
                                         r".*divide by 255"):
        DataSet(BYTES.astype(np.float32), np.zeros(4))
    # Raw bytes stay allowed (read_data_sets(dtype=np.uint8), as TF1's input_data), and so do [0, 1] floats.
    assert DataSet(BYTES, np.zeros(4)).images is BYTES
    assert DataSet(BYTES / 255, np.zeros(4)).num_examples == 4
