"""One Adam step: ``tf.compat.v1.train.AdamOptimizer`` versus Keras 3's ``Adam``.

Derivation. With gradient g, m_t = b1 m + (1 - b1) g, v_t = b2 v + (1 - b2) g^2:

    Kingma & Ba, Algorithm 1:  theta -= lr * m_hat / (sqrt(v_hat) + eps),
                               m_hat = m_t / (1 - b1^t), v_hat = v_t / (1 - b2^t)
    TF1 AdamOptimizer:         theta -= lr_t * m_t / (sqrt(v_t) + eps),
                               lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
    Keras 3 Adam.update_step:  theta -= alpha * m_t / (sqrt(v_t) + eps),
                               alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)

TF1 and Keras 3 are the same formula: both add epsilon to the root of the
*uncorrected* v_t, i.e. both use the paper's "eps-hat" (section 2): in the
paper's notation their epsilon is eps_paper * sqrt(1 - b2^t), 0.0316 x at t = 1.
(Keras 3 does not add epsilon after the bias correction, contrary to what is
often said; the paper's Algorithm 1 does.) What differs is the default:
TF1 eps = 1e-8, Keras eps = 1e-7. The twins pass the config's 1e-8.

At t = 1, from zero slots, with r = sqrt(1 - b2) |g| the update is
u = lr * sign(g) * r / (r + eps), so two epsilons differ by

    |u1 - u2| = lr * r |eps2 - eps1| / ((r + eps1)(r + eps2)) <= lr |eps2 - eps1| / (sqrt(eps1) + sqrt(eps2))^2

which for 1e-8 vs 1e-7 is at most 0.52 lr, reached where r = sqrt(eps1 eps2),
i.e. |g| = 1e-6: weights with tiny gradients move up to half a learning rate differently; weights with
|g| >> 1e-6 move the same. Measured on the post model (lr 1e-3, one real batch):
the same gradient into both, same epsilon -> updates agree to 1.5e-8 (two float32
ulps of the weights; the twin with its own gradient: 1e-6, see below);
Keras' default epsilon -> max difference 5.2e-4 = 0.52 lr (the bound: a weight
had |g| ~ 1e-6) and 10% of the 396,388 weights move differently by more than
0.01 lr; the paper's placement with eps = 1e-8 -> max difference 7.0e-4 = 0.70 lr
(its bound, with TF's eps / sqrt(1 - b2) in place of eps2).
"""
import keras
import numpy as np
import pytest
import tensorflow as tf

from legacy_vae import parity
from legacy_vae.config import defaults
from legacy_vae.data import read_data_sets
from legacy_vae.models.twins import PostTwin, make_train_step

B1, B2 = 0.9, 0.999


@pytest.fixture(scope="module")
def one_step(mnist_dir):
    """Weights before, the TF1 gradient, and the weights after one TF1 Adam step."""
    config = defaults("post")
    mnist = read_data_sets(mnist_dir, seed=0)
    images = mnist.test.images[:100]
    eps = np.random.default_rng(0).standard_normal((100, 2)).astype(np.float32)
    handles, session = parity.start(config)
    before = parity.graph_weights(session, handles.graph)
    gradient = parity.graph_gradients(handles, session, images, eps)
    session.run(handles.train_op, handles.feed(images, eps))
    after = parity.graph_weights(session, handles.graph)
    session.close()
    return config, images, eps, before, gradient, after


def keras_step(config, before, images, eps, epsilon):
    twin = PostTwin(config)
    twin.load(before)
    make_train_step(twin, "eager", epsilon=epsilon)(images, eps)
    return twin.weights()


def keras_apply(before, gradient, epsilon, learning_rate):
    """One Keras 3 Adam step on fresh variables holding ``before``, with TF1's own gradient."""
    names = sorted(before)
    variables = [tf.Variable(before[n]) for n in names]
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=B1, beta_2=B2, epsilon=epsilon)
    optimizer.apply_gradients(zip([tf.constant(gradient[n]) for n in names], variables))
    return {n: v.numpy() for n, v in zip(names, variables)}


def first_update(g, lr, epsilon, paper=False):
    """The t = 1 Adam update in float64, with epsilon placed as TF1/Keras do or as the paper does."""
    g = np.asarray(g, np.float64)
    m, v = (1 - B1) * g, (1 - B2) * g ** 2
    if paper:
        return lr * (m / (1 - B1)) / (np.sqrt(v / (1 - B2)) + epsilon)
    return lr * np.sqrt(1 - B2) / (1 - B1) * m / (np.sqrt(v) + epsilon)


def max_update_difference(a_after, b_after, before):
    return max(np.max(np.abs((a_after[n] - before[n]) - (b_after[n] - before[n]))) for n in before)


def test_defaults_differ():
    assert keras.optimizers.Adam().epsilon == 1e-7
    assert defaults("post").adam_epsilon == 1e-8  # TF1 AdamOptimizer's default, kept by the graph models


def test_tf1_step_is_the_derived_formula(one_step):
    config, _, _, before, gradient, after = one_step
    lr = config.learning_rate
    for name in before:
        predicted = first_update(gradient[name], lr, config.adam_epsilon)
        np.testing.assert_allclose(before[name] - after[name], predicted, atol=1e-3 * lr, err_msg=name)


def test_keras_adam_with_tf1_epsilon_matches_tf1(one_step):
    # The same gradient into both optimizers: only float32 rounding is left.
    config, _, _, before, gradient, after = one_step
    keras_after = keras_apply(before, gradient, config.adam_epsilon, config.learning_rate)
    assert max_update_difference(keras_after, after, before) < 1e-4 * config.learning_rate


def test_twin_step_from_its_own_gradient_matches_tf1(one_step):
    # End to end, the twin computes its own gradient (equal to TF1's to ~1e-7 of
    # its largest element). Adam divides by |g|, so where a gradient is ~1e-9
    # those last digits matter: measured 1e-3 lr, still far below any real change.
    config, images, eps, before, _, after = one_step
    keras_after = keras_step(config, before, images, eps, epsilon=config.adam_epsilon)
    assert max_update_difference(keras_after, after, before) < 1e-2 * config.learning_rate


def test_keras_default_epsilon_moves_small_gradient_weights_differently(one_step):
    config, _, _, before, gradient, after = one_step
    lr, eps1, eps2 = config.learning_rate, config.adam_epsilon, keras.optimizers.Adam().epsilon
    keras_after = keras_apply(before, gradient, eps2, lr)
    measured = max_update_difference(keras_after, after, before)
    bound = lr * (eps2 - eps1) / (np.sqrt(eps1) + np.sqrt(eps2)) ** 2
    predicted = max(np.max(np.abs(first_update(g, lr, eps1) - first_update(g, lr, eps2))) for g in gradient.values())
    assert bound == pytest.approx(0.52 * lr, rel=0.01)
    assert measured <= bound + 1e-4 * lr  # float32 rounding on top of the exact bound
    assert measured == pytest.approx(predicted, abs=1e-4 * lr)
    assert measured > 0.1 * lr  # measured 0.52 lr: a weight sat at |g| ~ 1e-6, the worst case


def test_papers_epsilon_placement_differs_from_both(one_step):
    config, _, _, before, gradient, after = one_step
    lr = config.learning_rate
    paper = {n: first_update(g, lr, config.adam_epsilon, paper=True) for n, g in gradient.items()}
    difference = max(np.max(np.abs((before[n] - after[n]) - paper[n])) for n in before)
    # The paper's eps acts like TF's eps / sqrt(1 - b2) = 3.2e-7 at t = 1: same bound formula.
    eps_tf_equivalent = config.adam_epsilon * np.sqrt(1 - B2)
    bound = lr * (config.adam_epsilon - eps_tf_equivalent) / (np.sqrt(config.adam_epsilon)
                                                              + np.sqrt(eps_tf_equivalent)) ** 2
    assert 0.1 * lr < difference <= bound + 1e-4 * lr  # measured 0.70 lr, the bound 0.70 lr
