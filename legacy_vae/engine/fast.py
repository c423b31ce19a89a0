"""The fast engine's graph: a model's own graph plus tf.data input and many steps per run.

``build(config)`` opens a ``tf.Graph`` (under a device function, when the
caller gives one), makes a ``tf.data`` batch (legacy_vae.engine.pipeline, in
the same order as ``DataSet.next_batch``) and an ``x`` placeholder whose
default is that batch, asks the model file to build its graph around that
``x`` (``make_model(config, x)`` of legacy_vae.models.post / slim_vae), then adds
``train_steps``: a ``tf.compat.v1.while_loop`` that runs ``steps_per_run``
training steps inside one ``session.run``. Each iteration is one
``train_op`` step written out again (next batch from the same iterator, the
noise keyed on the global step, the model's own ``terms`` on the same
variables, the same Adam instance and slots), so K iterations end with the
same weights as K runs of ``train_op``; what it saves is K - 1 trips through
Python and the session. The loop stops early at the first step whose loss is
not finite, so the weights are then those of that step.

Towers: with ``config.towers = T`` each iteration cuts its batch of B images
into T slices of B / T and runs the model on each slice (the same
variables), the classic TF1 multi-tower layout. The loss is still the mean
over all B images,

    loss = -(1/B) sum_i [log p(x_i|z_i) - KL_i] = (1/T) sum_t loss_t,

so its gradient is the mean of the towers' gradients: the same step, with
sums taken in another order (float rounding differs, the math does not).
The towers share no ops until their gradients meet, so two inter-op threads
run them at once (docs/performance.md has the measurements). ``train_op`` stays the
one-tower graph that the model file builds and the classic loop runs.
"""
from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import tensorflow as tf

from legacy_vae.engine import pipeline
from legacy_vae import models
from legacy_vae.models import inputs, losses
from legacy_vae.models.handles import ModelHandles

v1 = tf.compat.v1

STEPS_PER_RUN = 50  # default length of one train_steps run (measured: more gains little)


class TrainRun(NamedTuple):
    """What one run of ``train_steps`` returns (tensors of the while loop's outputs).

    ``loss`` .. ``kl`` are the last step's, ``first_*`` the first step's (what a
    one-step run would have shown for it), ``sums`` the float64 sums of
    (loss, reconstruction, kl) over the run's ``steps`` steps, and
    ``nonfinite_step`` the global step at which the loss first was NaN or
    infinite (-1 if never; the loop stops there).
    """

    steps: Any
    loss: Any
    elbo: Any
    reconstruction: Any
    kl: Any
    mean_loss: Any
    sums: Any
    nonfinite_step: Any
    first_elbo: Any
    first_reconstruction: Any
    first_kl: Any


@dataclasses.dataclass(frozen=True)
class EngineHandles(ModelHandles):
    """The model file's handles, and what the engine added to its graph (all None with feed_dict)."""

    input: Any = None           # pipeline.InputHandles: the tf.data batches behind x's default
    train_steps: Any = None     # op: run ``steps_per_run`` train steps in a while loop
    steps_per_run: Any = None   # scalar int32 placeholder with a default
    train_run: Any = None       # TrainRun: that loop's outputs; fetch them with train_steps only


def build(config, feed_dict=None, device=None) -> EngineHandles:
    """The model's graph for the training loop: the model's own graph when ``feed_dict``
    (default ``config.feed_dict``), else that graph with tf.data and ``train_steps``.
    ``device``: a device function for the whole graph (the cluster's ``replica_device_setter``)."""
    feed_dict = config.feed_dict if feed_dict is None else feed_dict
    graph = tf.Graph()
    with graph.as_default(), graph.device(device):
        if feed_dict:
            return engine_handles(models.maker(config.model)(config))
        # The global step first, as in the model's own graph (the model file finds it there).
        v1.train.get_or_create_global_step()
        source = pipeline.make_input(config.batch_size)
        x = v1.placeholder_with_default(source.next_batch, [None, inputs.IMAGE_SIZE], name="x")
        handles = models.maker(config.model)(config, x)
        with v1.name_scope("train_steps"):
            loop = train_loop(config, handles, source)
    return engine_handles(handles, input=source, **loop)


def engine_handles(handles: ModelHandles, **added) -> EngineHandles:
    """``handles`` as EngineHandles, with the fields the engine ``added``."""
    fields = {field.name: getattr(handles, field.name) for field in dataclasses.fields(ModelHandles)}
    return EngineHandles(**fields, **added)


def tower_terms(terms, x, eps, towers: int):
    """Per-image log-likelihood and KL of the batch, computed in ``towers`` equal slices."""
    if towers == 1:
        model = terms(x, eps)
        return model.likelihood, model.divergence
    log_lik, kl = [], []
    for t, (x_t, eps_t) in enumerate(zip(tf.split(x, towers), tf.split(eps, towers))):
        with v1.name_scope(f"tower_{t}"):
            model = terms(x_t, eps_t)
            log_lik.append(model.likelihood)
            kl.append(model.divergence)
    return tf.concat(log_lik, 0), tf.concat(kl, 0)


def train_loop(config, handles, source) -> dict:
    """``train_steps``, ``steps_per_run`` and ``train_run`` (a :class:`TrainRun`) for EngineHandles."""
    global_step, optimizer = handles.global_step, handles.optimizer
    steps_per_run = v1.placeholder_with_default(tf.constant(STEPS_PER_RUN, tf.int32), [], name="steps_per_run")
    # A new IteratorGetNext inside the body (source.next_batch lives outside
    # the loop and would run once per session.run, not once per step).
    get_next = source.next_batch.op
    iterator = get_next.inputs[0]

    def body(i, nonfinite, sums, first, last):
        counter = tf.identity(global_step)  # the step before this iteration's update
        x = tf.raw_ops.IteratorGetNext(iterator=iterator, output_types=get_next.get_attr("output_types"),
                                       output_shapes=get_next.get_attr("output_shapes"))[0]
        if config.binarize == "dynamic":
            x = inputs.binarize(config.seed, x, counter)
        eps = inputs.noise(config.seed, x, config.code_size, counter)
        log_lik, per_image_kl = tower_terms(handles.terms, x, eps, config.towers)
        reconstruction, kl, elbo, loss = losses.objective(log_lik, per_image_kl)
        update = optimizer.minimize(loss, global_step=global_step)
        now = tf.stack([loss, elbo, reconstruction, kl])
        bad = tf.logical_and(nonfinite < 0, tf.logical_not(tf.math.is_finite(loss)))
        outputs = [i + 1,
                   tf.where(bad, tf.cast(counter, tf.int64) + 1, nonfinite),
                   # float64 sums of float32 values are exact here, so the
                   # train metrics do not depend on how steps are split into runs.
                   sums + tf.cast(tf.stack([loss, reconstruction, kl]), tf.float64),
                   tf.where(tf.equal(i, 0), now, first),
                   now]
        # The next iteration reads the global step and the weights after this update.
        with tf.control_dependencies([update]):
            return [tf.identity(value) for value in outputs]

    start = [tf.constant(0), tf.constant(-1, tf.int64), tf.zeros([3], tf.float64),
             tf.zeros([4]), tf.zeros([4])]
    steps, nonfinite, sums, first, last = v1.while_loop(
        lambda i, nonfinite, *_: tf.logical_and(i < steps_per_run, nonfinite < 0),
        body, start, parallel_iterations=1)
    run = TrainRun(steps=steps, loss=last[0], elbo=last[1], reconstruction=last[2], kl=last[3],
                   mean_loss=sums[0] / tf.cast(steps, tf.float64), sums=sums, nonfinite_step=nonfinite,
                   first_elbo=first[1], first_reconstruction=first[2], first_kl=first[3])
    return {"train_steps": tf.group(*run, name="train_steps"), "steps_per_run": steps_per_run,
            "train_run": run}
