"""Failures at run time: exit statuses and one-line errors."""
import os
import subprocess
import sys
import textwrap

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


def test_writes_past_a_file_size_limit_name_the_file(tmp_path):
    """Every writer of a run folder, in a process whose files may not exceed 1,000 bytes."""
    script = textwrap.dedent("""
        import resource, sys
        import numpy as np
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        import tensorflow as tf
        from legacy_vae import plots, runs
        from legacy_vae.failures import WriteError
        from legacy_vae.graph.events import EventsWriter
        record = runs.metric_record("post", 1, "train", -1.0, 1.0, 0.0)
        with tf.Graph().as_default():
            writer = EventsWriter("events")
        summary = tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(tag="x", simple_value=1.0)])
        attempts = [
            ("results.json", lambda: runs.write_json("results.json", {"x": "y" * 2000})),
            ("metrics.jsonl", lambda: [runs.append_metric("metrics.jsonl", record) for _ in range(20)]),
            ("figure.png", lambda: plots.save(plots.digit_grid(np.random.rand(16, 784)), "figure.png")),
            ("events", lambda: [writer.add_summary(summary, i) for i in range(200)] + [writer.flush()]),
        ]
        for name, write in attempts:
            try:
                write()
                print("written", name)
            except WriteError as error:
                print(error)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "could not write results.json", "could not write metrics.jsonl", "could not write figure.png",
        "could not write events/events.out.tfevents." + lines[3].split("events.out.tfevents.")[1].split(":")[0]]
    assert all(line.endswith("File too large; free some space or raise the file-size limit and run the command "
                             "again") for line in lines)
    assert "Traceback" not in done.stderr and "EventFileWriter" not in done.stderr
    assert not (tmp_path / "results.json").exists() and not (tmp_path / "figure.png").exists()
    assert not list(tmp_path.glob(".*.part"))
