"""TF1 graph-mode models through ``tf.compat.v1``; each builder makes its own ``tf.Graph``."""
