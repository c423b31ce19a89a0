"""TF2 (eager) models: the tutorial's convolutional VAE and eager twins of the graph models.

Nothing here uses ``tf.compat.v1``. Importing this package imports nothing;
each module imports TensorFlow itself:

- :mod:`legacy_vae.eager.cvae`:  ``CVAE``, ``compute_loss``, ``elbo_terms``, ``make_train_step``, ``evaluate``
- :mod:`legacy_vae.eager.train`: ``train(config, run_dir, resume=False, progress=True)``
  (helped by ``order``: the resumable batch order, ``rundir``: run-folder files,
  ``cvae_figures``: grids, GIF, manifold)
- :mod:`legacy_vae.eager.twins`: ``PostTwin``, ``SlimTwin``, ``twin_for``, ``make_train_step``
  (from ``twin_train``: one Adam step in eager, ``tf.function`` or XLA mode)
"""
