"""DataSet.next_batch: classic epoch semantics, own randomness, resumable state."""
import json

import numpy as np
import pytest

from legacy_vae.data import (DataSet, binarize_dynamic, binarize_static, read_data_sets,
                             write_fake_mnist)


def make(n=10, seed=0):
    # Label i belongs to image i (raw uint8 pixels, all i), so pairing and coverage are easy to check.
    return DataSet(np.arange(n, dtype=np.uint8)[:, None] * np.ones((1, 3), np.uint8),
                   np.arange(n), seed=seed)


def draw(ds, batch_size, count, shuffle=True):
    return [ds.next_batch(batch_size, shuffle=shuffle) for _ in range(count)]


def test_every_example_once_per_epoch_and_wrap_batch_full():
    ds = make(10, seed=1)
    batches = draw(ds, 3, 10)  # 30 examples = exactly 3 epochs
    assert all(len(x) == 3 and len(y) == 3 for x, y in batches)
    labels = np.concatenate([y for _, y in batches])
    for epoch in range(3):
        assert sorted(labels[epoch * 10:(epoch + 1) * 10]) == list(range(10))
    for x, y in batches:
        np.testing.assert_array_equal(x[:, 0], y)  # images stay with their labels
    # The 4th batch (indices 9..11) straddled the first epoch end.
    assert ds.epochs_completed == 2  # the third epoch ended exactly, not yet rolled over
    ds.next_batch(3)
    assert ds.epochs_completed == 3


def test_epochs_reshuffled():
    ds = make(50, seed=2)
    labels = np.concatenate([y for _, y in draw(ds, 10, 10)])
    first, second = labels[:50], labels[50:]
    assert not np.array_equal(first, np.arange(50))
    assert not np.array_equal(first, second)


def test_no_shuffle_is_stored_order_with_wrap():
    ds = make(5)
    got = [y.tolist() for _, y in draw(ds, 2, 4, shuffle=False)]
    assert got == [[0, 1], [2, 3], [4, 0], [1, 2]]
    assert ds.epochs_completed == 1


def test_same_seed_same_batches_different_seed_different():
    a = np.concatenate([y for _, y in draw(make(20, seed=7), 6, 8)])
    b = np.concatenate([y for _, y in draw(make(20, seed=7), 6, 8)])
    c = np.concatenate([y for _, y in draw(make(20, seed=8), 6, 8)])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_global_numpy_random_state_untouched():
    np.random.seed(123)
    before = np.random.get_state()
    draw(make(20, seed=None), 7, 10)
    after = np.random.get_state()
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])


def test_state_round_trip_resumes_exactly():
    ds = make(17, seed=3)
    draw(ds, 5, 6)  # mid-epoch, after a wrap
    state = json.loads(json.dumps(ds.get_state()))
    expected = [y.tolist() for _, y in draw(ds, 5, 12)]
    resumed = make(17, seed=999)
    resumed.set_state(state)
    assert [y.tolist() for _, y in draw(resumed, 5, 12)] == expected
    assert resumed.epochs_completed == ds.epochs_completed


def test_state_before_first_batch():
    ds = make(8, seed=4)
    state = ds.get_state()
    assert state["permutation"] is None
    expected = [y.tolist() for _, y in draw(ds, 3, 5)]
    ds.set_state(state)
    assert [y.tolist() for _, y in draw(ds, 3, 5)] == expected


def test_set_state_rejects_mismatch():
    state = make(8).get_state()
    with pytest.raises(ValueError, match="8 examples"):
        make(9).set_state(state)
    state["permutation"] = [0] * 8
    with pytest.raises(ValueError, match="permutation"):
        make(8).set_state(state)


@pytest.mark.parametrize("bad", [0, -1, 11, 2.5, True, "3"])
def test_batch_size_validated(bad):
    with pytest.raises(ValueError, match="batch_size"):
        make(10).next_batch(bad)


def test_read_data_sets_seeds(tmp_path):
    write_fake_mnist(tmp_path, n_train=30, n_test=10)

    def labels(seed):
        data = read_data_sets(tmp_path, validation_size=10, seed=seed, download=False)
        return [data.train.next_batch(7)[1].tolist() for _ in range(5)]

    assert labels(5) == labels(5)
    assert labels(5) != labels(6)
    data = read_data_sets(tmp_path, validation_size=10, seed=5, download=False)
    # The splits draw from separate generators: their first permutations differ.
    data.train.next_batch(10), data.validation.next_batch(10), data.test.next_batch(10)
    perms = [tuple(s.get_state()["permutation"]) for s in data]
    assert len(set(perms)) == 3


def test_binarize_static_threshold():
    images = np.array([[0.0, 0.2, 0.5, 0.50001, 0.9, 1.0]], np.float32)
    out = binarize_static(images)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0, 0, 1, 1, 1]])
    np.testing.assert_array_equal(binarize_static(images, threshold=0.1), [[0, 1, 1, 1, 1, 1]])
    assert set(np.unique(binarize_static(np.random.default_rng(0).random((50, 784))))) == {0.0, 1.0}
    np.testing.assert_array_equal(binarize_static(np.array([0, 127, 128, 255], np.uint8)),
                                  [0, 0, 1, 1])


def test_binarize_dynamic_fresh_bernoulli():
    rng = np.random.default_rng(0)
    images = np.tile(np.array([0.0, 0.1, 0.5, 0.9, 1.0], np.float32), (20000, 1))
    first, second = binarize_dynamic(images, rng), binarize_dynamic(images, rng)
    assert first.dtype == np.float32 and set(np.unique(first)) == {0.0, 1.0}
    assert not np.array_equal(first, second)
    np.testing.assert_allclose(first.mean(axis=0), images[0], atol=0.015)
    np.testing.assert_array_equal(first[:, 0], 0.0)
    np.testing.assert_array_equal(first[:, 4], 1.0)
    same = binarize_dynamic(images, np.random.default_rng(0))
    np.testing.assert_array_equal(same, first)
    with pytest.raises(TypeError):
        binarize_dynamic(images, 0)
