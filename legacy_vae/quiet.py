"""Import TensorFlow without its C++ start-up lines in a notebook's output.

While its native libraries load, TensorFlow 2.21 prints lines such as

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 ... port.cc:153] oneDNN custom operations are on. You may see slightly different numerical ...
    I0000 ... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
    I0000 ... cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU ...
    E0000 ... cuda_platform.cc:52] failed call to cuInit: ...       (when it first looks for devices)

straight to the process's file descriptor 2, which a Jupyter kernel copies
into the output of the cell that is running, and a terminal shows (the
``legacy-vae`` command imports TensorFlow through here too). ``TF_CPP_MIN_LOG_LEVEL`` does
not reach the first two: they are written before TensorFlow reads it (seen
with every level from 0 to 3 on TensorFlow 2.21). So :func:`import_tensorflow`
points descriptor 2 at a temporary file while TensorFlow loads and lists its
devices, then writes back every line that is not one of these start-up
lines: a real problem during the import still shows.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile

# The start-up lines, and only those: absl's notice, the probes for CUDA and CPU features.
START_UP = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|port\.cc:\d+\] oneDNN custom operations are on"
    r"|cudart_stub\.cc:\d+\] Could not find cuda drivers"
    r"|cuda_platform\.cc:\d+\] failed call to cuInit"
    r"|cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"
    r"|^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.")


def kept_lines(text: str) -> list:
    """The lines of ``text`` that are not TensorFlow's start-up lines."""
    return [line for line in text.splitlines() if not START_UP.search(line)]


# What TensorFlow 2.21 imports at the end of its own import "so that any function/method that needs
# to happen at load time will trigger, eg registration of optimizers in the SavedModel registry":
# all of Keras 3 (and matplotlib through it), about 0.8 s of CPU. It skips it on an ImportError.
_KERAS_AT_IMPORT = "keras.src.optimizers"


def import_tensorflow(keras: bool = True):
    """``import tensorflow`` with its start-up lines filtered out of file descriptor 2; returns the module.

    ``keras=False`` leaves out TensorFlow's eager import of Keras (the graph-mode models and the
    SavedModel-free training never use it); Keras still imports as usual when asked for later.
    """
    # For whatever TensorFlow logs later; a level the user set wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:  # already loaded: it has nothing left to print
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        if not keras and _KERAS_AT_IMPORT not in sys.modules:
            sys.modules[_KERAS_AT_IMPORT] = None  # its import raises ImportError at once
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the device probe prints the cuInit line
        finally:
            if sys.modules.get(_KERAS_AT_IMPORT, False) is None:
                del sys.modules[_KERAS_AT_IMPORT]
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        text = caught.read().decode("utf-8", errors="replace")
    kept = kept_lines(text)
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")
    return tf
