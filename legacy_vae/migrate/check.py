"""Parity for your own tests: a TF1 graph and its Keras 3 rewrite give the same loss and gradients.

    report = check(build_tf1, tf2_loss, model, {"x": images, "eps": noise})
    assert_parity(build_tf1, tf2_loss, model, inputs)     # the same, raising for pytest

``build_tf1()`` is called inside a new ``tf.Graph`` (or makes one of its
own, as the package's builders do) and returns ``(feeds, loss)``: ``feeds`` a dict {key: tensor to feed} (placeholders, or any tensor
TF1 lets you feed, such as the noise a sampler drew), ``loss`` a scalar.
``tf2_loss(**inputs)`` computes the same loss eagerly from the model.
Both receive ``inputs`` (arrays, by key), so the same digits and the same
noise go into both.

The weights: the graph's variables are initialised by the graph (its own
seed) or restored from ``checkpoint``; the converter's map
(:func:`legacy_vae.migrate.mapping.match`) then pairs each with a weight of
``model`` and, unless ``assign=False``, copies the value over. With
``assign=False`` the model keeps the weights it has (loaded from a
``.weights.h5``, say) and the check shows whether they are the same.

Agreement, for the loss and for every paired weight's gradient (and the
weight itself): ``max|tf2 - tf1| <= atol + rtol * max|tf1|``. The defaults,
``rtol=1e-5`` and ``atol=1e-6``, sit about two orders of magnitude above
what float32 graph and eager kernels differ by on the package's models
(about 1e-7 relative); one perturbed weight moves things by far more. On a
failure :class:`ParityError` (an ``AssertionError``, so pytest reports it as
a failed assertion) carries the whole table, one row per variable.

Everything runs in this one process on Keras 3: the graph is built with
``tf.compat.v1`` and whatever builds on it without Keras 2 (``tf_slim``,
``get_variable``, ``legacy_vae.models.layers``); no tf-keras, no
``TF_USE_LEGACY_KERAS``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from legacy_vae.migrate.mapping import match

RTOL, ATOL = 1e-5, 1e-6


class ParityError(AssertionError):
    """The TF1 graph and the TF2 code disagree; ``report`` holds every row."""

    def __init__(self, report):
        self.report = report
        bad = [row.name for row in report.rows if not row.ok]
        super().__init__(f"TF1 and TF2 disagree on {len(bad)} of {len(report.rows)} rows "
                         f"({', '.join(bad)}):\n{report.table()}")


@dataclass
class Row:
    """One compared quantity: the loss, or one variable's gradient (and its value)."""

    name: str
    tf1: float            # loss value, or max |gradient| in TF1
    difference: float     # max |tf2 - tf1| of the loss or gradient
    ok: bool
    weight_difference: float = 0.0
    note: str = ""

    @property
    def relative(self) -> float:
        return self.difference / abs(self.tf1) if self.tf1 else self.difference


@dataclass
class ParityReport:
    """The rows of one check, the tolerances used, and the two losses."""

    rtol: float
    atol: float
    tf1_loss: float
    tf2_loss: float
    rows: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def table(self) -> str:
        width = max(len(row.name) for row in self.rows)
        lines = [f"{'':<{width}}  {'tf1 (max|g|)':>13}  {'max|tf2-tf1|':>12}  {'relative':>9}  "
                 f"{'weights':>9}  (rtol {self.rtol:g}, atol {self.atol:g})"]
        for row in self.rows:
            lines.append(f"{row.name:<{width}}  {row.tf1:13.6g}  {row.difference:12.3e}  {row.relative:9.2e}  "
                         f"{row.weight_difference:9.2e}  {'ok' if row.ok else 'DIFFERENT'}"
                         + (f"  {row.note}" if row.note else ""))
        return "\n".join(lines)


def _close(a, b, rtol, atol) -> tuple:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    difference = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return difference, scale, difference <= atol + rtol * scale


def check(build_tf1, tf2_loss, model, inputs: dict, *, checkpoint=None, name_map=None, assign: bool = True,
          rtol: float = RTOL, atol: float = ATOL) -> ParityReport:
    """Compare loss and gradients of the TF1 graph and the TF2 loss on the same weights and inputs."""
    import tensorflow as tf

    v1 = tf.compat.v1
    with tf.Graph().as_default():
        feeds, loss = build_tf1()
    graph = loss.graph  # the one made here, or one that build_tf1 made itself (the package's builders do)
    with graph.as_default():
        if set(feeds) != set(inputs):
            raise ValueError(f"build_tf1 feeds {sorted(feeds)} but inputs has {sorted(inputs)}: give one array "
                             f"per fed tensor, under the same keys")
        variables = graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)
        gradients = tf.gradients(loss, variables)
        init = v1.global_variables_initializer()
        saver = v1.train.Saver({v.op.name: v for v in variables}) if checkpoint is not None else None
    with v1.Session(graph=graph) as session, graph.as_default():  # the Saver needs its graph as the default
        session.run(init)
        if saver is not None:
            from legacy_vae.migrate.checkpoint import resolve

            saver.restore(session, resolve(checkpoint))
        values = dict(zip([v.op.name for v in variables], session.run(variables)))
        feed = {feeds[key]: np.asarray(value) for key, value in inputs.items()}
        tf1_loss, tf1_gradients = session.run([loss, gradients], feed)
    tf1_gradients = dict(zip([v.op.name for v in variables], tf1_gradients))

    pairs = match(model, values, name_map)
    weight_gaps = {}
    for pair in pairs:
        if assign:
            pair.variable.assign(values[pair.tf1_name].astype(pair.variable.dtype))
        weight_gaps[pair.tf1_name] = _close(pair.variable.numpy(), values[pair.tf1_name], rtol, atol)

    tensors = {key: tf.convert_to_tensor(value) for key, value in inputs.items()}
    with tf.GradientTape() as tape:
        tf2_value = tf2_loss(**tensors)
    tf2_gradients = tape.gradient(tf2_value, [pair.variable for pair in pairs])

    report = ParityReport(rtol, atol, float(tf1_loss), float(tf2_value))
    difference, _, ok = _close(tf2_value, tf1_loss, rtol, atol)
    report.rows.append(Row("loss", float(tf1_loss), difference, ok))
    for pair, g2 in zip(pairs, tf2_gradients):
        g1 = tf1_gradients[pair.tf1_name]
        name = f"{pair.tf1_name} -> {pair.keras_path}"
        w_diff, _, w_ok = weight_gaps[pair.tf1_name]
        if g1 is None or g2 is None:
            missing = "TF1" if g1 is None else "TF2"
            report.rows.append(Row(name, 0.0, 0.0, g1 is None and g2 is None and w_ok, w_diff,
                                   f"no gradient in {missing}: the loss does not use it there"))
            continue
        difference, scale, ok = _close(np.asarray(g2), g1, rtol, atol)
        report.rows.append(Row(name, scale, difference, ok and w_ok, w_diff,
                               "" if w_ok else "the weights differ"))
    return report


def assert_parity(build_tf1, tf2_loss, model, inputs: dict, **options) -> ParityReport:
    """:func:`check`, raising :class:`ParityError` with the per-variable table when any row disagrees."""
    report = check(build_tf1, tf2_loss, model, inputs, **options)
    if not report.ok:
        raise ParityError(report)
    return report
