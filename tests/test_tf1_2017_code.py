"""The 2017 TF1 scripts of notebook 00: tf_upgrade_v2's report, the hand fixes, and the package.

``notebooks/tf1_2017/as_written`` holds both models as 2017 TF1 code,
``fixed`` the same after ``tf_upgrade_v2`` and the hand fixes. Every script
runs in a process of its own, as notebook 00 runs them: the fixed post
script needs ``TF_USE_LEGACY_KERAS=1`` (tf-keras for ``tf.compat.v1.layers``),
which must never be set in the process that runs the package. The scripts
start together, and the converter (the ``main()`` behind the ``tf_upgrade_v2``
command) runs here meanwhile, so their TensorFlow imports overlap.
"""
import ast
import contextlib
import difflib
import io
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf

from legacy_vae.config import defaults
from legacy_vae.models import post, slim_vae

v1 = tf.compat.v1
REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = REPO_ROOT / "notebooks" / "tf1_2017"
NAMES = ("post", "slim")
BUILDERS = {"post": post.build, "slim": slim_vae.build}
STEPS = 20
CHECK_IMAGES = 200
# What the converter reports it cannot convert: (script, tf.contrib member).
CONTRIB_ERRORS = {("post_2017.py", "tf.contrib.distributions"),
                  ("slim_2017.py", "tf.contrib.slim"),
                  ("slim_2017.py", "tf.contrib.distributions.Bernoulli")}
# Lines the converter leaves broken; the hand fixes may remove only these.
LEFT_BROKEN = ("tf.contrib", "tensorflow.examples", "tf.layers.")


def _used_names(source):
    """Every dotted name the code uses (``tf.compat.v1.layers.dense``) and every module it imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            parts = []
            while isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name):
                names.add(".".join([node.id] + parts[::-1]))
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _env(legacy_keras):
    env = {key: value for key, value in os.environ.items() if key != "TF_USE_LEGACY_KERAS"}
    if legacy_keras:
        env["TF_USE_LEGACY_KERAS"] = "1"
    # The scripts import legacy_vae: this tree's, installed or not.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def _script(name, out, data_dir, steps=STEPS):
    return [sys.executable, str(SCRIPTS / "fixed" / f"{name}_2017.py"), "--data_dir", str(data_dir),
            "--steps", str(steps), "--out", str(out), "--check_images", str(CHECK_IMAGES)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mnist_dir):
    """Run the fixed scripts (in parallel) and the converter; return {label: (CompletedProcess, folder)}."""
    root = tmp_path_factory.mktemp("tf1_2017")
    jobs = {
        # One step is enough: it fails while building the graph.
        "post_keras3": (_script("post", root / "post_keras3", mnist_dir, steps=1), False, root / "post_keras3"),
        "post": (_script("post", root / "post", mnist_dir), True, root / "post"),
        # tf_slim builds its own layers: no legacy Keras for the Slim script.
        "slim": (_script("slim", root / "slim", mnist_dir), False, root / "slim"),
    }
    started = {label: subprocess.Popen(command, env=_env(legacy), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
               for label, (command, legacy, _) in jobs.items()}
    # Meanwhile, the converter: the main() behind the tf_upgrade_v2 command, with its command line.
    from tensorflow.tools.compatibility import tf_upgrade_v2_main

    argv = ["tf_upgrade_v2", "--intree", str(SCRIPTS / "as_written"), "--outtree", str(root / "upgraded"),
            "--reportfile", str(root / "report.txt")]
    with mock.patch.object(sys, "argv", argv), contextlib.redirect_stdout(io.StringIO()) as printed, \
            warnings.catch_warnings():
        # Its AST visitors still use names Python 3.8 deprecated; that is the converter's business.
        warnings.simplefilter("ignore", DeprecationWarning)
        tf_upgrade_v2_main.main()
    finished = {"upgrade": (subprocess.CompletedProcess(argv, 0, printed.getvalue(), ""), root)}
    for label, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        finished[label] = (subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr),
                           jobs[label][2])
    return finished


def _ok(runs, label):
    done, folder = runs[label]
    assert done.returncode == 0, f"{label} failed:\n{done.stderr[-3000:]}"
    return folder


def _upgraded(runs, name):
    return (_ok(runs, "upgrade") / "upgraded" / f"{name}_2017.py").read_text()


def test_upgrade_report_names_each_contrib_use_it_cannot_convert(runs):
    report = (_ok(runs, "upgrade") / "report.txt").read_text()
    pattern = re.compile(r"^(\S+\.py):(\d+):\d+: ERROR: Using member (\S+) in deprecated module tf\.contrib\. "
                         r"\3 cannot be converted automatically\.", re.M)
    errors = {(Path(path).name, member): int(line) for path, line, member in pattern.findall(report)}
    assert set(errors) == CONTRIB_ERRORS
    # Each ERROR points at the line of the original that uses the member.
    for (script, member), line in errors.items():
        source = (SCRIPTS / "as_written" / script).read_text().splitlines()
        assert member in source[line - 1], (script, line, source[line - 1])


def test_upgrade_renames_tf1_symbols_but_passes_over_layers_and_input_data(runs):
    report = (_ok(runs, "upgrade") / "report.txt").read_text()
    post_text, slim_text = _upgraded(runs, "post"), _upgraded(runs, "slim")
    assert "tf.compat.v1.placeholder(" in post_text and not re.search(r"(?<![\w.])tf\.placeholder\(", post_text)
    assert "tf.compat.v1.make_template(" in post_text and "tf.compat.v1.Session()" in post_text
    assert "reduction_indices" not in slim_text and "axis=[1]" in slim_text
    assert "tf.random.normal(" in slim_text
    # Left exactly as written, and not a word about them in the report.
    original = (SCRIPTS / "as_written" / "post_2017.py").read_text().splitlines()
    for needle, unmentioned in (("from tensorflow.examples.tutorials.mnist import input_data", "tensorflow.examples"),
                                ("tf.layers.dense(", "tf.layers")):
        kept = [line for line in post_text.splitlines() if needle in line]
        assert kept and kept == [line for line in original if needle in line]
        assert unmentioned not in report


def test_hand_fixes_touch_only_what_the_converter_left(runs):
    for name in NAMES:
        upgraded = _upgraded(runs, name).splitlines()
        fixed = (SCRIPTS / "fixed" / f"{name}_2017.py").read_text().splitlines()
        assert [n for n in _used_names("\n".join(upgraded)) if n.startswith(("tf.contrib", "tensorflow.examples"))]
        removed = [line[2:] for line in difflib.ndiff(upgraded, fixed) if line.startswith("- ")]
        assert removed, f"{name}: the fixed script is the converter's output unchanged"
        touched = [line for line in removed if line.strip() and not any(m in line for m in LEFT_BROKEN)]
        assert not touched, f"{name}: hand edits beyond what tf_upgrade_v2 left: {touched}"
        # In the code (the docstring still tells the story), none of it is left.
        names = _used_names("\n".join(fixed))
        assert not [n for n in names if n.startswith(("tf.contrib", "tf.layers.", "tensorflow.examples"))]


def test_fixed_post_script_needs_legacy_keras(runs):
    done, _ = runs["post_keras3"]
    assert done.returncode != 0
    assert "AttributeError: `dense` is not available with Keras 3." in done.stderr
    # The same script with TF_USE_LEGACY_KERAS=1 trains (the Slim script trains without it).
    _ok(runs, "post")
    _ok(runs, "slim")


def _variables(graph, key=v1.GraphKeys.GLOBAL_VARIABLES):
    return [(v.op.name, v.shape.as_list()) for v in graph.get_collection(key)]


@pytest.mark.parametrize("name", NAMES)
def test_script_graph_has_the_package_variables(runs, name):
    folder = _ok(runs, name)
    package = BUILDERS[name](defaults(name)).graph
    # The script's own graph, rebuilt from its .meta file: the trainable variables, in order.
    script_graph = tf.Graph()
    with script_graph.as_default():
        v1.train.import_meta_graph(str(folder / "model.ckpt.meta"))
    trainable = v1.GraphKeys.TRAINABLE_VARIABLES
    assert _variables(script_graph, trainable) == _variables(package, trainable)
    # Every variable (global_step, Adam's slots and powers too), as listed by the script and in its checkpoint.
    expected = dict(_variables(package))
    assert {op: shape for op, shape in json.loads((folder / "variables.json").read_text())} == expected
    assert dict(tf.train.list_variables(str(folder / "model.ckpt"))) == expected


def _restored(name, folder):
    """The package's graph with the script's checkpoint restored by a plain Saver; (handles, session, initial)."""
    h = BUILDERS[name](defaults(name))
    with h.graph.as_default():
        saver = v1.train.Saver()  # no var_list, no name map
    sess = v1.Session(graph=h.graph)
    sess.run(h.init_op)
    trainable = h.graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)
    initial = dict(zip([v.op.name for v in trainable], sess.run(trainable)))
    with h.graph.as_default():
        saver.restore(sess, str(folder / "model.ckpt"))
    return h, sess, initial


@pytest.mark.parametrize("name", NAMES)
def test_script_checkpoint_restores_into_package_by_name(runs, name):
    folder = _ok(runs, name)
    h, sess, initial = _restored(name, folder)
    with sess:
        reader = tf.train.load_checkpoint(str(folder / "model.ckpt"))
        variables = h.graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)
        for variable, value in zip(variables, sess.run(variables)):
            assert np.array_equal(value, reader.get_tensor(variable.op.name)), variable.op.name
            if variable.op.name in initial:  # restoring replaced the package's own initial values
                assert not np.array_equal(value, initial[variable.op.name]), variable.op.name
        assert sess.run(h.global_step) == STEPS


@pytest.mark.parametrize("name", NAMES)
def test_same_weights_and_noise_give_the_script_elbo(runs, name):
    folder = _ok(runs, name)
    check = np.load(folder / "elbo_check.npz")
    images, noise, script_elbo = check["images"], check["noise"], float(check["elbo"])
    assert images.shape == (CHECK_IMAGES, 784) and noise.shape == (CHECK_IMAGES, defaults(name).code_size)
    h, sess, _ = _restored(name, folder)
    with sess:
        package_elbo = float(sess.run(h.elbo, h.feed(images, noise)))
        other = np.random.RandomState(1).randn(*noise.shape).astype(np.float32)
        other_elbo = float(sess.run(h.elbo, h.feed(images, other)))
    np.testing.assert_allclose(package_elbo, script_elbo, rtol=1e-6)
    # Another draw moves the ELBO far beyond that tolerance: the match is the noise's, not luck.
    assert abs(other_elbo - script_elbo) > 1e-4 * abs(script_elbo)
