"""Figures drawn in a worker process (figures.Drawer): the same files as drawn in the training
thread, a bounded queue, a failed write as one line, and nothing lost when a run is stopped."""
import functools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from PIL import Image

from cli_runs import POST, finish, start, stop, wait_for
from legacy_vae import drawing, figures, runs, train
from legacy_vae.config import defaults


def short(model, mnist_dir):
    return defaults(model).replace(steps=60, visualize_every=20, checkpoint_every=20, data_dir=str(mnist_dir))


def image_files(run):
    return {str(p.relative_to(run)): p for p in sorted(run.rglob("*")) if p.suffix in (".png", ".gif")}


def test_the_worker_draws_the_files_the_training_thread_drew(tmp_path, mnist_dir, monkeypatch):
    configs = [short("post", mnist_dir), short("slim", mnist_dir)]
    train.run(configs, out=str(tmp_path / "worker"), progress=False)
    monkeypatch.setattr(figures, "Drawer", functools.partial(figures.Drawer, inline=True))
    train.run(configs, out=str(tmp_path / "inline"), progress=False)
    worker, inline = image_files(tmp_path / "worker"), image_files(tmp_path / "inline")
    assert sorted(worker) == sorted(inline)
    for step in (0, 20, 40, 60):
        assert f"figures/side_by_side-step{step}.png" in worker
        assert f"post/figures/epoch-step{step}.png" in worker
        assert f"slim/figures/reconstructions-step{step}.png" in worker
    for name in ("epochs.png", "epochs.gif", "prior_samples.png", "codes.png", "loss_curves.png"):
        assert f"post/figures/{name}" in worker
    for name, path in worker.items():
        assert path.read_bytes() == inline[name].read_bytes(), name
    # One row and one frame per epoch, built once at the end.
    rows = [Image.open(worker[f"post/figures/epoch-step{s}.png"]).size for s in (0, 20, 40, 60)]
    assert Image.open(worker["post/figures/epochs.png"]).size == (rows[0][0], sum(h for _, h in rows))
    assert Image.open(worker["post/figures/epochs.gif"]).n_frames == 4
    assert not list((tmp_path / "worker").rglob(".*.part"))


def test_the_training_process_never_imports_matplotlib(tmp_path, mnist_dir):
    """Every figure of ``--model both``, the combined loss curves included, is drawn by a worker."""
    script = textwrap.dedent(f"""
        import sys
        from legacy_vae import train
        from legacy_vae.config import defaults
        configs = [defaults(m).replace(steps=20, visualize_every=10, checkpoint_every=10,
                                       data_dir={str(mnist_dir)!r}) for m in ("post", "slim")]
        train.run(configs, out="run", progress=False)
        print("matplotlib" in sys.modules, sorted(m for m in sys.modules if m.startswith("matplotlib"))[:3])
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False []"
    Image.open(tmp_path / "run" / "figures" / "loss_curves.png").verify()


def test_the_queue_is_bounded():
    with figures.Drawer(pending=2) as draw:
        started = time.perf_counter()
        for _ in range(2):
            draw.submit(time.sleep, 1.0)
        assert time.perf_counter() - started < 0.9  # two fit in the queue
        draw.submit(time.sleep, 0.0)  # the third waits for the first
        assert time.perf_counter() - started >= 0.9
    assert draw._workers == []


def test_figures_given_together_are_drawn_at_once():
    """Two workers: two one-second jobs given together take about one second, not two."""
    with figures.Drawer() as draw:
        draw.submit(time.sleep, 0.0)
        draw.wait()  # both workers have started
        started = time.perf_counter()
        futures = [draw.submit(time.sleep, 1.0) for _ in range(2)]
        draw.wait(futures)
        assert time.perf_counter() - started < 1.9


def test_a_failed_write_in_the_worker_is_the_one_line_write_error(tmp_path):
    """A file-size limit that every PNG exceeds: the worker's WriteError comes back whole."""
    script = textwrap.dedent("""
        import resource
        import numpy as np
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        from legacy_vae import figures
        from legacy_vae.failures import WriteError
        digits = np.random.default_rng(0).random((5, 784), dtype=np.float32)
        try:
            with figures.Drawer() as draw:
                draw.submit(figures.reconstructions, "figs", "slim", 0, digits, digits, digits)
                draw.close()
        except WriteError as error:
            print(error)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "could not write figs/reconstructions-step0.png: File too large; free some space or raise the "
        "file-size limit and run the command again"]
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "figs").iterdir()) == []  # nothing half-written


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_has_every_figure_of_its_checkpoints(how, tmp_path, mnist_dir):
    """Stopped by SIGTERM or Ctrl-C (to the whole process group, as a terminal sends it), the run
    waits for its figures: every recorded validation step has its figures, the epoch sheet has a row
    for each, and no file is half written."""
    out = tmp_path / "run"
    process = start("train", *POST, "--steps", 100000, "--data-dir", mnist_dir, "--out", out, cwd=tmp_path,
                    start_new_session=True)
    try:
        wait_for(lambda: (out / "checkpoints" / "state-60.json").exists(), process, "a checkpoint at step 60")
        os.killpg(process.pid, how)
        _, stderr = finish(process)
    finally:
        stop(process)
    assert process.returncode == (143 if how == signal.SIGTERM else 130), stderr
    folder = runs.ModelFolder(out)
    steps = sorted(r["step"] for r in runs.read_metrics(folder.metrics) if r["split"] == "validation")
    assert len(steps) >= 4
    for step in steps:
        for name in (f"epoch-step{step}.png", f"reconstructions-step{step}.png"):
            Image.open(folder.figures / name).verify()
    sheet = Image.open(folder.figures / "epochs.png")
    assert sheet.size[1] == sum(Image.open(folder.figures / f"epoch-step{s}.png").size[1] for s in steps)
    assert Image.open(folder.figures / "epochs.gif").n_frames == len(steps)
    assert not list(out.rglob(".*.part"))


def test_epochs_is_built_from_the_files_on_disk(tmp_path):
    rng = np.random.default_rng(0)
    for step in (0, 10, 20):
        figures.epoch(tmp_path, "post", step, rng.normal(size=(50, 2)), rng.integers(0, 10, 50),
                      rng.random((10, 784)), -100.0 - step)
    assert figures.epochs(tmp_path) == 3
    assert Image.open(tmp_path / "epochs.gif").n_frames == 3
    assert figures.epochs(tmp_path / "none") == 0 and not (tmp_path / "none").exists()


def test_epochs_writes_the_sheet_and_the_gif_as_two_jobs(tmp_path):
    """The monitor gives the GIF and the sheet to the two workers separately: each job writes its
    own file only, and together they are what one call writes."""
    rng = np.random.default_rng(0)
    for step in (0, 10):
        figures.epoch(tmp_path, "post", step, rng.normal(size=(50, 2)), rng.integers(0, 10, 50),
                      rng.random((10, 784)), -100.0 - step, False)
    assert figures.epochs(tmp_path, ("gif",)) == 2
    assert (tmp_path / "epochs.gif").exists() and not (tmp_path / "epochs.png").exists()
    assert figures.epochs(tmp_path, ("png",)) == 2
    sheet, gif = (tmp_path / "epochs.png").read_bytes(), (tmp_path / "epochs.gif").read_bytes()
    figures.epochs(tmp_path)
    assert (tmp_path / "epochs.png").read_bytes() == sheet and (tmp_path / "epochs.gif").read_bytes() == gif


def test_the_worker_leaves_with_a_killed_process_and_needs_no_main_guard(tmp_path):
    """A script with no ``if __name__ == "__main__"`` starts a worker, hands it a figure and is
    killed outright: the workers finish what they hold and leave, closing the caller's pipes."""
    script = textwrap.dedent("""
        import os, signal
        import numpy as np
        from legacy_vae import figures
        draw = figures.Drawer()
        digits = np.random.default_rng(0).random((5, 784), dtype=np.float32)
        draw.submit(figures.reconstructions, "figs", "slim", 0, digits, digits, digits)
        print(*(w.process.pid for w in draw._workers), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    (tmp_path / "script.py").write_text(script)
    done = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)  # a worker left running would hold the pipes open past this
    assert done.returncode == -signal.SIGKILL, done.stderr
    workers = [int(pid) for pid in done.stdout.split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 30
    while any(os.path.exists(f"/proc/{pid}") for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)
    assert [p.name for p in (tmp_path / "figs").iterdir()] == ["reconstructions-step0.png"]


def test_two_threads_handing_over_large_figures_never_deadlock():
    """Side by side, two training threads hand the worker figures while it answers: with a lock held
    across the write to the worker, the answer reader waited for that lock, the worker for the reader
    and the write for the worker (seen in CI: `--model both` hung). Jobs and answers here are 1 MB,
    so every pipe fills."""
    big = bytearray(1 << 20)
    finished = []

    def hand_over(draw):
        futures = [draw.submit(bytes, big) for _ in range(30)]
        finished.append(all(len(f.result()) == len(big) for f in futures))

    draw = drawing.Drawer()
    threads = [threading.Thread(target=hand_over, args=(draw,), daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if len(finished) < 2:
        for worker in draw._workers:
            worker.process.kill()  # a deadlock: free the threads before failing
    try:
        draw.close()
    except RuntimeError:  # the killed worker's lost figures
        pass
    assert finished == [True, True], "handing figures over from two threads deadlocked"
