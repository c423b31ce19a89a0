"""Failures at run time: exit statuses and one-line errors."""
import pytest
import tensorflow as tf

from legacy_vae import cli, failures
from legacy_vae.graph import hooks


@pytest.mark.parametrize("words", [[], ["train"], ["evaluate"]])
def test_help_lists_the_exit_statuses(words, capsys):
    with pytest.raises(SystemExit):
        cli.main(words + ["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for code, meaning in failures.EXIT_STATUSES:
        assert f"{code} {meaning}" in text


@pytest.mark.parametrize("error, status", [
    (hooks.DivergedError("slim: loss is nan at step 7; ..."), 1),
    (failures.WriteError("run/metrics.jsonl", "No space left on device"), 1),
    (failures.RunFolderError("run is in use by another legacy-vae command"), 1),
    (FloatingPointError("cvae: the training loss is nan"), 1),
    (tf.errors.UnknownError(None, None, "run/x.data; Input/output error"), 1),
    (ValueError("--steps must be at least 300"), 2),
    (KeyboardInterrupt(), 130),
    (failures.Terminated(), 143),
])
def test_each_failure_has_its_status_and_one_line(error, status, capsys):
    try:
        raise error
    except BaseException as caught:
        error = caught  # with its traceback, as the CLI sees it
    assert failures.report(error, "legacy-vae train") == status
    line = capsys.readouterr().err
    assert len(line.splitlines()) == 1 and line.startswith("legacy-vae train: ") and "Traceback" not in line
    assert failures.report(error, "legacy-vae train", verbose=True) == status
    verbose = capsys.readouterr().err
    assert verbose.endswith(line)
    assert ("Traceback" in verbose) == (status in (1, 2))  # --verbose adds it to failures, not to interrupts


def test_a_bug_is_not_hidden_behind_a_status():
    with pytest.raises(TypeError):
        failures.report(TypeError("a bug"), "legacy-vae train")


def test_a_diverged_loss_exits_1_through_the_cli(tmp_path, mnist_dir, capsys, monkeypatch):
    monkeypatch.setenv("TF_OVERRIDE_GLOBAL_THREADPOOL", "1")  # cli.main sets it; keep it to this test
    status = cli.main(["train", "--model", "slim", "--learning-rate", "1e6", "--steps", "50", "--checkpoint-every",
                       "1", "--visualize-every", "50", "--data-dir", str(mnist_dir), "--out", str(tmp_path / "run"),
                       "--no-progress"])
    assert status == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("legacy-vae train: error: slim: loss is ") and "lower" in err[0]
