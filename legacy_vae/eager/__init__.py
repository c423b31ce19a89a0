"""TF2 (eager) models: the tutorial's convolutional VAE and eager twins of the graph models.

Nothing here uses ``tf.compat.v1``; the modules import TensorFlow only when
they are imported themselves, so ``import legacy_vae.eager`` is free:

- :mod:`legacy_vae.eager.cvae`:  ``CVAE``, ``compute_loss``, ``make_train_step``
- :mod:`legacy_vae.eager.train`: ``train(config, run_dir, resume=False)``
- :mod:`legacy_vae.eager.twins`: ``PostTwin``, ``SlimTwin``, ``make_train_step``
"""
