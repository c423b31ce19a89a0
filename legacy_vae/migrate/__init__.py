"""Migrate a TF1 model to Keras 3: its checkpoint into a ``.weights.h5``, and a parity check for tests.

    checkpoint.py  read a TF1 checkpoint without its graph; optimizer slots and global_step set aside
    mapping.py     which TF1 variable goes into which Keras weight (explicit map, or TF1's naming families)
    convert.py     assign the values, write the ``.weights.h5`` atomically
    models.py      the package's post and Slim models as plain Keras 3 models, and their ELBO
    package.py     ``legacy-vae convert``: run folders and bare checkpoints of post and slim
    check.py       the same loss and gradients from a TF1 graph and its TF2 rewrite, per variable

From Python::

    from legacy_vae import migrate
    model = migrate.post_model()                                   # or your own Keras 3 model
    migrate.convert("post_run/model.ckpt", model, "post.weights.h5")
    migrate.assert_parity(build_tf1, tf2_loss, model, {"x": images, "eps": noise})

Nothing here sets ``TF_USE_LEGACY_KERAS``: all of it runs on Keras 3.
"""
from legacy_vae.migrate.check import ParityError, ParityReport, assert_parity, check
from legacy_vae.migrate.checkpoint import Checkpoint, read
from legacy_vae.migrate.convert import Conversion, assign, convert, load_checkpoint, save_weights
from legacy_vae.migrate.errors import MigrationError
from legacy_vae.migrate.mapping import keras_weights, match
from legacy_vae.migrate.models import elbo, for_config, post_model, slim_model, tf1_graph, tf2_loss

__all__ = ["Checkpoint", "Conversion", "MigrationError", "ParityError", "ParityReport", "assert_parity", "assign",
           "check", "convert", "elbo", "for_config", "keras_weights", "load_checkpoint", "match", "post_model",
           "read", "save_weights", "slim_model", "tf1_graph", "tf2_loss"]
