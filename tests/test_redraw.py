"""legacy_vae.redraw: a figure drawn into a kept one is the PNG a new figure gives, byte for byte."""
import threading

import numpy as np

from legacy_vae import plots
from legacy_vae.redraw import Redrawer


def digits(rng, n=5):
    return rng.random((n, 784)).astype(np.float32)


def test_redrawn_reconstructions_are_the_new_figures_bytes():
    rng, redraw = np.random.default_rng(0), Redrawer()
    for step in (0, 1000, 20000, 7):  # titles of different widths move the layout
        x, mean = digits(rng), digits(rng)
        rows = {"mean": mean, "sample": (mean > 0.5).astype(np.float32)}
        title = f"slim: validation digits, step {step}"
        new = plots.to_png_bytes(plots.reconstructions(x, rows, title=title))
        assert redraw.reconstructions(x, rows, title=title) == new
    assert len(redraw._figures) == 1  # one layout, drawn four times into one figure


def test_layouts_kept_apart_and_side_by_side():
    rng, redraw = np.random.default_rng(1), Redrawer(keep=3)
    for step in (0, 600, 1200):
        x = digits(rng)
        shown = {"post": (x, digits(rng)), "slim": ((x > 0.5).astype(np.float32), digits(rng))}
        assert redraw.side_by_side(shown, step) == plots.to_png_bytes(plots.side_by_side(shown, step))
        # Other layouts in between: other labels, other counts, no title.
        assert redraw.reconstructions(x, {"mean": x}, title=None) == \
            plots.to_png_bytes(plots.reconstructions(x, {"mean": x}))
        three = digits(rng, 3)
        assert redraw.reconstructions(three, {"mean": three}, title=f"step {step}", dpi=80) == \
            plots.to_png_bytes(plots.reconstructions(three, {"mean": three}, title=f"step {step}"), dpi=80)
        assert len(redraw._figures) == 3
    one = digits(rng, 1)  # a fourth layout: the least recently drawn one (side by side) is let go
    redraw.reconstructions(one, {"mean": one})
    assert len(redraw._figures) == 3
    assert [labels for labels, _, _ in redraw._figures] == [
        ("input", "mean"), ("input", "mean"), ("input", "mean")]
    assert [shapes[0][0] for _, shapes, _ in redraw._figures] == [5, 3, 1]


def test_threads_drawing_at_once_get_their_own_figures():
    rng, redraw = np.random.default_rng(2), Redrawer()
    jobs = [(digits(rng), f"model {i}: step {i * 100}") for i in range(6)]
    got = [None] * len(jobs)

    def draw(i):
        x, title = jobs[i]
        got[i] = redraw.reconstructions(x, {"mean": x[::-1]}, title=title)

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (x, title), png in zip(jobs, got):
        assert png == plots.to_png_bytes(plots.reconstructions(x, {"mean": x[::-1]}, title=title))


def test_a_change_of_matplotlib_settings_gets_a_new_figure():
    import matplotlib

    rng, redraw = np.random.default_rng(3), Redrawer()
    x = digits(rng)
    redraw.reconstructions(x, {"mean": x}, title="before")
    with matplotlib.rc_context({"font.size": 14, "image.interpolation": "nearest"}):
        new = plots.to_png_bytes(plots.reconstructions(x, {"mean": x}, title="during"))
        assert redraw.reconstructions(x, {"mean": x}, title="during") == new
    assert redraw.reconstructions(x, {"mean": x}, title="after") == \
        plots.to_png_bytes(plots.reconstructions(x, {"mean": x}, title="after"))
