"""``legacy-vae convert`` and docs/migrate.md: every command of the page runs, as written but for fewer steps.

The page's bash block runs line by line in a scratch folder (the 2017 post
script, ``convert`` of its folder, a package run and ``convert`` of that, and
pytest on the example test file a user copies); its plain-Keras block runs in
a fresh interpreter and must print the script's ELBO; its "From Python" block
runs here. Then the bad inputs: each exits with status 2 and one error, and
writes nothing.
"""
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from legacy_vae import cli
from migrate_support import REPO_ROOT, env, leftovers, write_checkpoint

DOCS = REPO_ROOT / "docs" / "migrate.md"
DOCS_STEPS = "--steps 600"
TEST_STEPS = "--steps 20"


def blocks(kind):
    return re.findall(rf"```{kind}\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def bash(line, cwd, mnist_dir):
    variables = dict(env(), LEGACY_VAE_DATA=str(mnist_dir))
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=variables, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def docs_folder(tmp_path_factory, mnist_dir):
    """A scratch folder after the page's commands; {command: CompletedProcess} beside it."""
    cwd = tmp_path_factory.mktemp("docs")
    (commands,) = blocks("bash")
    done = {}
    for line in filter(str.strip, commands.splitlines()):
        assert line.count(DOCS_STEPS) <= 1
        shrunk = (line.replace(DOCS_STEPS, TEST_STEPS).replace("notebooks/", f"{REPO_ROOT}/notebooks/")
                  .replace("docs/", f"{REPO_ROOT}/docs/"))
        done[line] = bash(shrunk, cwd, mnist_dir)
        assert done[line].returncode == 0, f"{line}\n{done[line].stdout[-2000:]}\n{done[line].stderr[-3000:]}"
    return cwd, done


def test_the_pages_commands_run_and_convert(docs_folder):
    cwd, done = docs_folder
    assert len(done) == 5 and any(DOCS_STEPS in line for line in done)
    for name in ("post.weights.h5", "runs/post.weights.h5"):
        assert (cwd / name).is_file()
    converted = [out.stdout for line, out in done.items() if line.startswith("legacy-vae convert")]
    assert "wrote post.weights.h5" in converted[0] and "wrote runs/post.weights.h5" in converted[1]
    assert "decoder/dense_2/kernel  [200, 784]" in converted[0]
    assert re.search(r"skipped 31 variables .*: 28 optimizer slots, global_step, train/beta1_power", converted[0])
    pytest_out = next(out.stdout for line, out in done.items() if "pytest" in line)
    assert "3 passed" in pytest_out


def test_plain_keras_loads_the_converted_2017_checkpoint_with_the_scripts_elbo(docs_folder):
    cwd, _ = docs_folder
    (code,) = blocks("python")[:1]
    printed = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(sorted(m for m in sys.modules "
                              "if m.startswith('legacy_vae')))"], cwd=cwd, env=env(), capture_output=True,
                             text=True, timeout=300)
    assert printed.returncode == 0, printed.stderr[-3000:]
    elbo_line, imported = printed.stdout.strip().splitlines()[-2:]
    assert imported == "[]"
    keras_elbo, script_elbo = map(float, re.findall(r"-?\d+\.\d+(?:e-?\d+)?", elbo_line))
    assert script_elbo == pytest.approx(float(np.load(cwd / "post_run" / "elbo_check.npz")["elbo"]))
    np.testing.assert_allclose(keras_elbo, script_elbo, rtol=1e-6)


def test_the_pages_python_example_runs(docs_folder, monkeypatch, capsys):
    cwd, _ = docs_folder
    code = blocks("python")[1]
    monkeypatch.chdir(cwd)
    exec(compile(code, str(DOCS), "exec"), {})
    assert (cwd / "post-from-python.weights.h5").is_file()
    table = capsys.readouterr().out
    assert table.count(" ok") == 15 and "DIFFERENT" not in table


def test_convert_has_help(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["convert", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "CHECKPOINT_OR_RUN" in out and "--to FILE.weights.h5" in out and "exit status:" in out


def refused(argv, cwd, capsys, expected):
    """``legacy-vae ARGV`` in ``cwd`` exits 2 with the one ``expected`` error and writes nothing."""
    before = leftovers(cwd)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert re.search(expected, err), err
    assert err.startswith("legacy-vae convert: error: ") and err.count("error:") == 1
    assert leftovers(cwd) == before


def test_a_bare_checkpoint_needs_model(docs_folder, capsys):
    cwd, _ = docs_folder
    refused(["convert", "post_run", "--to", "x.weights.h5"], cwd, capsys,
            r"post_run is a bare checkpoint \(no config.json\): say which model it holds with --model post")


def test_the_wrong_model_for_a_checkpoint(docs_folder, capsys):
    cwd, _ = docs_folder
    refused(["convert", "post_run/model.ckpt", "--model", "slim", "--to", "x.weights.h5"], cwd, capsys,
            r"no encoder/fc2/weights, so it is not a slim checkpoint \(it looks like a post checkpoint: --model post\)")
    refused(["convert", "runs/post", "--model", "slim", "--to", "x.weights.h5"], cwd, capsys,
            r"--model slim, but runs/post is a post run \(config.json\); drop --model")


def test_a_folder_of_both_models_needs_model(docs_folder, tmp_path, capsys):
    cwd, _ = docs_folder
    shutil.copytree(cwd / "runs" / "post", tmp_path / "both" / "post")
    refused(["convert", "both", "--to", "x.weights.h5"], tmp_path, capsys,
            r"both holds the runs of post: choose one with --model post")
    assert cli.main(["convert", str(tmp_path / "both"), "--model", "post", "--to", str(tmp_path / "p.weights.h5")]) == 0
    assert (tmp_path / "p.weights.h5").is_file()


def test_not_a_checkpoint_and_a_bad_target(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello\n")
    refused(["convert", "notes.txt", "--model", "post", "--to", "x.weights.h5"], tmp_path, capsys,
            r"notes.txt is not a TF1 checkpoint")
    refused(["convert", "nowhere", "--model", "post", "--to", "x.weights.h5"], tmp_path, capsys,
            r"nowhere: no such file or checkpoint")
    refused(["convert", "notes.txt", "--model", "post", "--to", "x.h5"], tmp_path, capsys,
            r"--to x.h5: Keras 3 writes weights only to a file ending in .weights.h5 \(e.g. x.weights.h5\)")


def test_a_checkpoint_that_does_not_fit_lists_every_problem(tmp_path, capsys):
    rng = np.random.RandomState(0)
    arrays = {"encoder/fc1/weights": rng.randn(784, 128), "encoder/fc1/biases": rng.randn(128),
              "encoder/fc2/weights": rng.randn(128, 128), "encoder/fc2/biases": rng.randn(128),
              "decoder/fc1/weights": rng.randn(64, 128),  # no decoder/fc1/biases
              "decoder/fc2/weights": rng.randn(128, 10), "decoder/fc2/biases": rng.randn(10)}  # 10 wide, not 784
    write_checkpoint(tmp_path / "slim_run" / "model.ckpt", arrays)
    refused(["convert", "slim_run/model.ckpt", "--model", "slim", "--to", "slim.weights.h5"], tmp_path, capsys,
            r"cannot convert the checkpoint: 3 problem\(s\)\n"
            r"  - missing weight: Keras decoder/dense_\d+/bias \[128\] has no counterpart; .*\n"
            r"  - shape mismatch: Keras decoder/dense_\d+/kernel is \[128, 784\], checkpoint decoder/fc2/weights "
            r"is \[128, 10\]\n"
            r"  - shape mismatch: Keras decoder/dense_\d+/bias is \[784\], checkpoint decoder/fc2/biases is \[10\]\n$")
