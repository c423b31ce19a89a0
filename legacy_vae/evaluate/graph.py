"""A trained graph-mode model (post or Slim), restored for evaluation.

The graph is rebuilt from ``config.json`` with feed_dict input and the
newest checkpoint restored into it. Two calls serve the evaluation:

``encode(images, eps)``: one run gives the proposal q(z | x) = N(code_mean,
code_stddev^2) and the one-sample ELBO terms log p(x | z) and KL, with z =
code_mean + code_stddev * eps (``handles.eps`` is fed).

``log_likelihood(images, z)``: log p(x | z) for [n, c, d] codes. TF1 lets
any tensor be fed, so ``handles.z`` is fed directly and the encoder never
runs (in the Slim model z is made inside the decoder from mu_logvar; feeding
it cuts that path too). Rather than feeding n*c copies of the images, a small
op added to the graph repeats the n images c times next to the decoder's
logits; the log-likelihood is the same ``losses.log_likelihood`` the model
trains with. Feeding already binarized images is exact for a dynamically
binarizing graph as well: it draws u ~ U[0, 1) and keeps u < x, which is x
for x in {0, 1}.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from legacy_vae import layout
from legacy_vae.models import builder
from legacy_vae.engine.threads import session_config
from legacy_vae.models import losses

v1 = tf.compat.v1


def restore(session, graph, checkpoint: str):
    """Restore every graph variable the checkpoint has; the model's weights must all be there.

    Training may or may not save Adam's slots; evaluation needs only the weights.
    """
    layout.check(checkpoint)
    stored = dict(tf.train.list_variables(checkpoint))
    with graph.as_default():
        variables = v1.global_variables()
        trainable = {v.op.name for v in v1.trainable_variables()}
    missing = sorted(name for name in trainable if name not in stored)
    if missing:
        raise ValueError(f"checkpoint {checkpoint} lacks the model weights {missing[:4]}: it was written by a "
                         "different model or config; evaluate the run folder that wrote it")
    var_list = []
    for variable in variables:
        name = variable.op.name
        if name not in stored:
            continue
        if list(stored[name]) != variable.shape.as_list():
            raise ValueError(f"checkpoint {checkpoint} has {name} of shape {stored[name]}, but config.json "
                             f"builds {variable.shape.as_list()}; was config.json edited after training?")
        var_list.append(variable)
    with graph.as_default():
        v1.train.Saver(var_list=var_list).restore(session, checkpoint)


class GraphModel:
    """A post or Slim model from ``config`` with the weights of ``checkpoint``."""

    rows_per_run = 10_000  # codes decoded per session run: 100 images x 100 samples

    def __init__(self, config, checkpoint: str, intra_threads: int = 2):
        handles = builder(config.model)(config)
        self.handles, self.config, self.checkpoint = handles, config, checkpoint
        self.code_size = handles.code_size
        with handles.graph.as_default(), v1.name_scope("evaluate"):
            self._images = v1.placeholder(tf.float32, [None, 784], name="images")
            self._repeats = v1.placeholder(tf.int32, [], name="repeats")
            tiled = tf.repeat(self._images, self._repeats, axis=0)
            self._log_lik = losses.log_likelihood(tiled, handles.logits)
        self.session = v1.Session(graph=handles.graph,
                                  config=session_config(intra_threads=intra_threads, inter_threads=1))
        restore(self.session, handles.graph, checkpoint)
        self.step = int(self.session.run(handles.global_step))

    def encode(self, images, eps):
        """(mean, stddev, log p(x | z), KL) of each image, z = mean + stddev * eps."""
        h = self.handles
        return self.session.run([h.code_mean, h.code_stddev, h.per_image_log_likelihood, h.per_image_kl],
                                h.feed(images, eps))

    def log_likelihood(self, images, z):
        """log p(x_i | z_ij) for images [n, 784] and codes [n, c, d] -> [n, c]."""
        n, count, dim = z.shape
        values = self.session.run(self._log_lik, {
            self._images: images, self._repeats: count,
            self.handles.z: np.asarray(z, np.float32).reshape(n * count, dim)})
        return values.reshape(n, count)

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
