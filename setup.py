"""Install legacy-vae: classic TF1 graph-mode VAEs on today's TensorFlow."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
TF1 = ["tensorflow-probability[tf]"]
NOTEBOOKS = ["nbformat", "nbclient", "nbconvert", "ipykernel", "latex2mathml"]

setup(
    name="legacy-vae",
    version="0.2.0",
    description=(
        "Two classic TensorFlow 1 graph-mode MLP VAEs on MNIST, rebuilt through "
        "tf.compat.v1, beside the TF2 tutorial's convolutional VAE."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["legacy_vae", "legacy_vae.*"]),
    install_requires=[
        "tensorflow>=2.16",
        "tf-slim==1.1.0",
        "numpy",
        "matplotlib",
        # TensorFlow 2.21 no longer depends on tensorboard; the loop writes events for it.
        "tensorboard",
        "tqdm",
        "pillow",
    ],
    extras_require={
        # Running 2017 TF1 code (notebook 00): TensorFlow Probability for what was
        # tf.contrib.distributions; its "tf" extra brings tf-keras, which holds the
        # tf.compat.v1.layers that Keras 3 dropped (used with TF_USE_LEGACY_KERAS=1).
        "tf1": TF1,
        # `legacy-vae notebooks --html DIR`: run the notebooks, write them as pages, math as MathML;
        # TFP too, for notebook 01's cell that builds the post with its distributions.
        "notebooks": [*NOTEBOOKS, *TF1],
        # The tests run every notebook (00 included) and use TFP as an independent oracle.
        "test": ["pytest", "pytest-xdist", *NOTEBOOKS, *TF1],
    },
    entry_points={"console_scripts": ["legacy-vae=legacy_vae.cli:command"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
