"""The TF2 trainer of the tutorial's convolutional VAE (the model is legacy_vae.models.cvae).

Nothing here uses ``tf.compat.v1``. Importing this package imports nothing;
each module imports TensorFlow itself:

- ``train``: ``train(config, run_dir, resume=False, progress=True)``, the
  tutorial's epochs with checkpoints, metrics and figures in a run folder;
- ``order``: its resumable batch order; ``config_check``: the run's config.json;
- ``cvae_figures``: digit grids per epoch, the GIF, the 2-d manifold.
"""
