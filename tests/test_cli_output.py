"""What ``legacy-vae train`` prints: none of TensorFlow's C++ start-up lines; progress bars on a
terminal, one plain line per look into a pipe or a file."""
import fcntl
import os
import pty
import struct
import termios
import subprocess
import sys

ARGS = ["train", "--model", "post", "--steps", "20", "--visualize-every", "10", "--checkpoint-every", "10"]


def environment():
    # As a user's shell has it: no TF_CPP_MIN_LOG_LEVEL, which would hide some lines anyway.
    return {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}


def test_into_a_pipe_no_start_up_lines_and_one_plain_line_per_look(tmp_path, mnist_dir):
    done = subprocess.run([sys.executable, "-m", "legacy_vae", *ARGS, "--data-dir", str(mnist_dir), "--out", "run"],
                          cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no absl notice, no cuda probes, no cuInit error, no progress bar
    assert "\r" not in done.stdout
    looks = [line.split(":")[0] for line in done.stdout.splitlines() if line.startswith("post step ") and "/" in line]
    assert looks == ["post step 0/20", "post step 10/20", "post step 20/20"]


def test_on_a_terminal_progress_bars_and_still_no_start_up_lines(tmp_path, mnist_dir):
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # tqdm sizes its bar to it
    process = subprocess.Popen([sys.executable, "-m", "legacy_vae", *ARGS, "--data-dir", str(mnist_dir),
                                "--out", "run"], cwd=tmp_path, env=environment(), stdout=subprocess.PIPE,
                               stderr=terminal, text=True)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = process.communicate(timeout=300)
    os.close(controller)
    assert process.returncode == 0, shown
    text = shown.decode("utf-8", errors="replace")
    assert "20/20" in text and "step" in text  # tqdm's bar, redrawn in place
    for start_up in ("absl::InitializeLog", "cuda drivers", "cuInit", "oneDNN"):
        assert start_up not in text
    assert not [line for line in stdout.splitlines() if line.startswith("post step 0/20")]
    assert "run folder:" in stdout
