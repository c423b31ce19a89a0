"""What a learner reads first: the models, their ELBO, and the seeds' own training loop.

TF1 graph mode (``tf.compat.v1``), one ``tf.Graph`` per ``build``:

- ``layers``: ``dense`` / ``flatten`` on ``get_variable`` (what ``tf.layers`` did);
- ``losses``: reparameterization, the closed-form KL, the Bernoulli log-likelihood, the ELBO;
- ``inputs``: the placeholders ``x``, ``eps``, ``prior_eps`` and their stateless noise;
- ``post`` and ``slim_vae``: the two seed models, each whole in one file;
- ``handles``: the named tensors a builder returns;
- ``classic``: the seeds' ``for ...: sess.run(train_op, feed_dict)`` loops.

TF2 (eager): ``cvae``, the TensorFlow tutorial's convolutional VAE, and
``twins``, eager twins of the two graph models for parity checks.

The engine that trains the graph models fast (legacy_vae.engine) and the
TF2 trainer (legacy_vae.eager) depend on these modules, never the reverse.
Importing this package imports nothing else.
"""


def builder(model: str):
    """The graph builder of ``model``: ``post.build`` or ``slim_vae.build``."""
    if model == "post":
        from legacy_vae.models import post
        return post.build
    if model == "slim":
        from legacy_vae.models import slim_vae
        return slim_vae.build
    raise ValueError(f"{model!r} is not a graph-mode model; choose 'post' or 'slim'")
