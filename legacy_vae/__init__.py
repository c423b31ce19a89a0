"""legacy-vae: classic TensorFlow 1 graph-mode VAEs on today's TensorFlow.

Importing the package has no side effects: TensorFlow is imported by the
modules that need it, and no global graph or eager switch is touched.
"""
__version__ = "0.2.0"
