"""Failures at run time: exit statuses, one-line write errors, broken checkpoints, the run-folder lock."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from legacy_vae import checkpoints, cli, failures, locks
from legacy_vae.engine import hooks

v1 = tf.compat.v1


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
        from legacy_vae.engine.events import EventsWriter
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


def save_checkpoints(folder, steps):
    with tf.Graph().as_default():
        step = v1.train.get_or_create_global_step()
        v1.get_variable("w", initializer=np.arange(5000, dtype=np.float32))
        saver = v1.train.Saver(save_relative_paths=True)
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            for value in steps:
                session.run(step.assign(value))
                saver.save(session, str(folder / "model.ckpt"), global_step=value, write_meta_graph=False)


def test_newest_intact_checkpoint_skips_each_kind_of_damage(tmp_path):
    save_checkpoints(tmp_path, [10, 20, 30, 40, 50])
    prefix = {step: str(tmp_path / f"model.ckpt-{step}") for step in (10, 20, 30, 40, 50)}
    data = {step: p + ".data-00000-of-00001" for step, p in prefix.items()}
    assert checkpoints.newest_intact(tmp_path) == checkpoints.Choice(prefix[50], 50, [])
    os.truncate(data[50], os.path.getsize(data[50]) // 2)
    os.remove(data[40])
    os.truncate(prefix[30] + ".index", 10)
    with open(data[20], "r+b") as handle:  # same size, one flipped byte: the checksum catches it
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    choice = checkpoints.newest_intact(tmp_path)
    assert (choice.prefix, choice.step) == (prefix[10], 10)
    assert [reason for _, reason in choice.skipped] == [
        f"{data[50]} is truncated", f"{data[40]} is missing",
        f"{prefix[30]}.index cannot be read (file is too short to be an sstable)",
        f"{data[20]} is corrupt (a checksum does not match)"]
    assert choice.notices("resuming from")[0] == (
        f"checkpoint model.ckpt-50 is unusable: {data[50]} is truncated; resuming from model.ckpt-10 (step 10)")
    # The only whole checkpoint lacks its loop state: none is usable.
    with pytest.raises(failures.RunFolderError, match=r"newest, model\.ckpt-50, is unusable \(.* is truncated\), "
                                                      r"and so are the 4 older ones"):
        checkpoints.newest_intact(tmp_path, check=lambda step: f"state-{step}.json is missing")


def test_the_lock_refuses_a_second_holder_and_dies_with_its_process(tmp_path):
    with locks.hold([tmp_path]):
        with pytest.raises(failures.RunFolderError, match="is in use by another legacy-vae command"):
            with locks.hold([tmp_path]):
                pass
    with locks.hold([tmp_path]):
        pass  # released on leaving the block
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom legacy_vae import locks\n"
                               f"with locks.hold([{str(tmp_path)!r}]):\n    print('held', flush=True)\n"
                               "    time.sleep(300)\n"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(failures.RunFolderError):
            with locks.hold([tmp_path]):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    finally:
        holder.kill()
        holder.communicate()
    with locks.hold([tmp_path]):
        pass  # the kernel dropped the killed holder's lock
    assert list(tmp_path.iterdir()) == []  # and the lock left no file behind


def test_sigint_raises_keyboard_interrupt_even_if_it_was_ignored():
    """A process started with SIGINT ignored (a background job of a script) gets no KeyboardInterrupt
    handler from Python; the command installs it itself, and puts back what was there."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with failures.sigterm_as_interrupt():
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
            with pytest.raises(KeyboardInterrupt):
                signal.raise_signal(signal.SIGINT)
            with pytest.raises(failures.Terminated):
                signal.raise_signal(signal.SIGTERM)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
