"""The command line: --help everywhere, one-line errors with status 2, the data report."""
import os
import shutil
import subprocess
import sys

import pytest

from legacy_vae import cli

SUBCOMMANDS = (["train"], ["evaluate"], ["data"], ["bench"], ["bench", "throughput"], ["bench", "quality"],
               ["bench", "cluster"], ["notebooks"])


@pytest.mark.parametrize("words", [[]] + [list(w) for w in SUBCOMMANDS])
def test_every_command_has_help(words, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(words + ["--help"])
    assert done.value.code == 0
    assert "usage: legacy-vae" in capsys.readouterr().out


@pytest.mark.parametrize("argv,expected", [
    (["train", "--foo"], "unrecognized arguments: --foo"),
    (["train", "--model", "vgg"], "argument --model: invalid choice: 'vgg'"),
    (["train", "--steps", "ten"], "argument --steps: expected a positive integer, got 'ten'"),
    (["train", "--learning-rate", "-1"], "argument --learning-rate: expected a positive number, got '-1'"),
    (["evaluate", "run", "--iw-samples", "0"], "argument --iw-samples: expected a positive integer"),
    (["bench", "speed"], "invalid choice: 'speed'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_options_exit_2_with_one_line(argv, expected, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert expected in err
    assert len(err.strip().splitlines()) == 1


def test_console_script_and_module_are_the_same_command(mnist_dir):
    env = dict(os.environ, LEGACY_VAE_DATA=str(mnist_dir))
    script = shutil.which("legacy-vae", path=os.path.dirname(sys.executable)) or shutil.which("legacy-vae")
    assert script, "the legacy-vae console script is not installed"
    outputs = []
    for command in ([script, "data", "--no-download"], [sys.executable, "-m", "legacy_vae", "data", "--no-download"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert "train: 60000 examples" in outputs[0] and "test: 10000 examples" in outputs[0]
    assert "differs from the official file" in outputs[0]  # the reordered training images, accepted


def test_data_without_files_or_network_says_where_to_put_them(tmp_path):
    env = dict(os.environ, LEGACY_VAE_DATA=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "legacy_vae", "data", "--no-download"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert str(tmp_path) in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv,expected", [
    (["train", "--towers", "3"], "batch_size (100) must be a multiple of towers (3)"),
    (["train", "--model", "cvae", "--towers", "2"], "--towers splits the batches of the fast tf.data loop"),
    (["train", "--feed-dict", "--towers", "2"], "it does not apply with --feed-dict"),
    (["train", "--model", "cvae", "--visualize-every", "100"], "set --epoch-steps, not --visualize-every"),
    (["train", "--model", "post", "--epoch-steps", "100"], "epoch_steps sets the cvae's epoch"),
])
def test_bad_knobs_exit_2_naming_the_fix(argv, expected, capsys, monkeypatch):
    monkeypatch.setenv("TF_OVERRIDE_GLOBAL_THREADPOOL", "1")  # cli.main sets it; keep it to this test
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_configs_written_before_towers_load_as_one_tower(tmp_path):
    from legacy_vae.config import Config, defaults

    path = tmp_path / "config.json"
    defaults("post").save(path)
    assert Config.load(path).towers == 2
    text = path.read_text().replace('"towers": 2,', "")
    path.write_text(text)
    assert "towers" not in text and Config.load(path).towers == 1


def test_configs_of_earlier_0_2_builds_load_with_todays_names(tmp_path):
    """``fast_input`` became ``feed_dict`` (inverted); the cvae's epoch was ``visualize_every``."""
    import json

    from legacy_vae.config import Config, defaults

    path = tmp_path / "config.json"
    old = defaults("post").to_dict()
    del old["feed_dict"], old["epoch_steps"]
    for fast_input in (True, False):
        path.write_text(json.dumps({**old, "fast_input": fast_input}))
        assert Config.load(path).feed_dict is (not fast_input)
    old = defaults("cvae").to_dict()
    del old["feed_dict"], old["epoch_steps"]
    path.write_text(json.dumps({**old, "visualize_every": 40}))
    loaded = Config.load(path)
    assert loaded.epoch_steps == 40 and loaded.model == "cvae"


def test_only_the_cvae_counts_epochs():
    from legacy_vae.config import defaults

    assert defaults("cvae").epoch_steps == 1875 and defaults("post").epoch_steps is None
    with pytest.raises(ValueError, match="the cvae needs epoch_steps"):
        defaults("cvae").replace(epoch_steps=None)
    with pytest.raises(ValueError, match="epoch_steps must be a positive integer"):
        defaults("cvae").replace(epoch_steps=0)


def test_the_console_script_is_main_then_a_frozen_collector(monkeypatch):
    """``legacy-vae`` runs cli.command: main's exit status, then gc.freeze so the exit skips the
    collector's last walk over TensorFlow's objects (docs/performance.md)."""
    import gc
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts["legacy-vae"] == "legacy_vae.cli:command"
    monkeypatch.setattr(cli, "main", lambda: 3)
    try:
        assert cli.command() == 3
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
