"""Draw the reconstruction figures again into figures already built: the same PNG for less CPU.

A faithful ``--model both`` run draws 47 figures in two layouts of
``plots.reconstructions`` (each model's 21 reconstructions, 5 side by side).
Building one from scratch costs about 0.2 s of CPU, two thirds of it in
matplotlib making 15-20 ``Axes`` (ticks, spines, their texts) that are the
same every time; on two cores that CPU is taken from training.
:class:`Redrawer` keeps one figure per layout (row labels, number and shape
of digits, title or not) and, for the next figure of that layout, puts the
new pixels into its images and the new title into its suptitle, then lays it
out again from matplotlib's default margins, exactly as a fresh figure is
laid out. The PNG is byte for byte the one ``plots.reconstructions`` gives
(tests/test_redraw.py compares them), for 0.08-0.10 s instead of 0.2.

The layout is computed again for every figure because ``tight_layout`` on a
figure that was already laid out and drawn starts from where the last one
left the axes (an image's axes shrink to its aspect when drawn) and lands
elsewhere; from the defaults it lands where a new figure does.

One lock serialises the figures of a ``Redrawer``: the training threads of
an inline ``Drawer`` may draw at the same time.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from legacy_vae import plots

_MARGINS = ("left", "right", "bottom", "top", "wspace", "hspace")


class Redrawer:
    """PNGs of ``plots.reconstructions`` and ``plots.side_by_side``, drawn into kept figures."""

    def __init__(self, keep: int = 4):
        self.keep = keep
        self._figures: OrderedDict = OrderedDict()  # layout -> (figure, its images row by row, rcParams)
        self._lock = threading.Lock()

    def reconstructions(self, originals, rows: dict, title: str | None = None, dpi: int = 100) -> bytes:
        """The PNG of ``plots.reconstructions(originals, rows, title)`` at ``dpi``."""
        import matplotlib

        labelled = [("input", plots._as_digits(originals))] + [(k, plots._as_digits(v)) for k, v in rows.items()]
        layout = (tuple(name for name, _ in labelled), tuple(d.shape for _, d in labelled), title is None)
        with self._lock:
            kept = self._figures.pop(layout, None)
            # A figure kept from before a change of matplotlib's settings (a notebook's style) is not
            # what a new figure would be now: build a new one then.
            settings = dict(dict.items(matplotlib.rcParams))  # as stored: reading "backend" would load pyplot
            if kept is None or kept[2] != settings:
                figure = plots.reconstructions(originals, rows, title=title)
                kept = (figure, [ax.images[0] for ax in figure.axes], settings)
            else:
                self._refill(kept[0], kept[1], [d for _, d in labelled], title)
            self._figures[layout] = kept
            while len(self._figures) > self.keep:
                self._figures.popitem(last=False)
            return plots.to_png_bytes(kept[0], dpi=dpi)

    def side_by_side(self, shown: dict, step: int, dpi: int = 100) -> bytes:
        """The PNG of ``plots.side_by_side(shown, step)`` at ``dpi``."""
        first, rows, title = plots.side_by_side_rows(shown, step)
        return self.reconstructions(first, rows, title=title, dpi=dpi)

    @staticmethod
    def _refill(figure, images, rows, title) -> None:
        import matplotlib

        columns = rows[0].shape[0]
        for index, image in enumerate(images):
            image.set_data(rows[index // columns][index % columns])
        if title is not None:
            figure.suptitle(title)  # sets the text of the suptitle already there
        figure.subplots_adjust(**{name: matplotlib.rcParams[f"figure.subplot.{name}"] for name in _MARGINS})
        figure.tight_layout()
