"""Graph mode and eager mode share one process, in any order.

TF1 code typically began with ``tf.compat.v1.disable_eager_execution()`` or
leaned on the global default graph; either would break every TF2 line run
after it. The package never flips the global switch: each graph model lives
in its own ``tf.Graph`` and is run by a ``Session`` bound to that graph, so
``tf.executing_eagerly()`` stays True outside ``with graph.as_default()``
blocks and eager code (the twins, the CVAE) keeps working between graph builds.
"""
import numpy as np
import tensorflow as tf

from legacy_vae import parity
from legacy_vae.config import defaults
from legacy_vae.models.cvae import CVAE, compute_loss
from legacy_vae.models.twins import SlimTwin, make_train_step


def test_graph_and_eager_interleave_without_a_global_switch():
    assert tf.executing_eagerly()
    default_graph = tf.compat.v1.get_default_graph()
    ops_in_default_graph = len(default_graph.get_operations())
    images = np.random.default_rng(0).random((8, 784)).astype(np.float32)

    post, post_session = parity.start(defaults("post"))
    assert tf.executing_eagerly()
    with post.graph.as_default():
        assert not tf.executing_eagerly()  # graph building happens only in here
    assert post.graph is not default_graph
    post_elbo = post_session.run(post.elbo, post.feed(images))

    # Eager code after a graph was built and run.
    twin = SlimTwin(defaults("slim"))
    step = make_train_step(twin, "function")
    loss = step(images, np.zeros((8, 64), np.float32))
    assert np.isfinite(loss.numpy())  # .numpy() exists only on eager tensors

    # A second graph after eager code; the first graph's session still works.
    slim, slim_session = parity.start(defaults("slim"))
    assert slim.graph is not post.graph
    assert np.isfinite(slim_session.run(slim.elbo, slim.feed(images)))
    assert post_session.run(post.elbo, post.feed(images)) == post_elbo

    # Keras 3 eager code last, and nothing leaked into the global default graph.
    model = CVAE(2, seed=0)
    value = compute_loss(model, tf.constant(images.reshape(8, 28, 28, 1)), tf.zeros([8, 2]))[0]
    assert np.isfinite(value.numpy())
    assert tf.executing_eagerly()
    assert tf.compat.v1.get_default_graph() is default_graph
    assert len(default_graph.get_operations()) == ops_in_default_graph
    post_session.close()
    slim_session.close()
