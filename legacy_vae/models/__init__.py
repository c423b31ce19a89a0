"""What a learner reads first: the models, their ELBO, and the seeds' own training loop.

TF1 graph mode (``tf.compat.v1``), one ``tf.Graph`` per ``build``:

- ``layers``: ``dense`` / ``flatten`` on ``get_variable`` (what ``tf.layers`` did);
- ``losses``: reparameterization, the closed-form KL, the Bernoulli log-likelihood, the ELBO;
- ``inputs``: the placeholders ``x``, ``eps``, ``prior_eps`` and their stateless noise;
- ``post`` and ``slim_vae``: the two seed models, each whole in one file
  (``build(config)``: a graph of its own; ``make_model(config, x)``: into the
  current default graph);
- ``handles``: the named tensors a model file returns;
- ``classic``: the seeds' ``for ...: sess.run(train_op, feed_dict)`` loops.

TF2 (eager): ``cvae``, the TensorFlow tutorial's convolutional VAE, and
``twins``, eager twins of the two graph models for parity checks.

The engine that trains the graph models fast (legacy_vae.engine) and the
TF2 trainer (legacy_vae.eager) depend on these modules, never the reverse.
Importing this package imports nothing else.
"""


def module(model: str):
    """The model file of ``model``: ``post`` or ``slim_vae``."""
    if model == "post":
        from legacy_vae.models import post
        return post
    if model == "slim":
        from legacy_vae.models import slim_vae
        return slim_vae
    raise ValueError(f"{model!r} is not a graph-mode model; choose 'post' or 'slim'")


def builder(model: str):
    """``build`` of ``model``'s file: its graph in a ``tf.Graph`` of its own."""
    return module(model).build


def maker(model: str):
    """``make_model`` of ``model``'s file: its graph built into the current default graph."""
    return module(model).make_model
