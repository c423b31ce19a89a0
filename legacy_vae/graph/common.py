"""What both graph models share: their inputs and noise, and the loss and train op.

The noise is drawn by stateless random ops keyed on (seed, global step), so a
step computes the same thing whether the run was resumed or not; ``x`` and
``eps`` are placeholders with defaults, so a test or notebook can feed its own
batch and noise into the very graph that trains.

With the tf.data input the graph also gets ``train_steps``: a
``tf.compat.v1.while_loop`` that runs ``steps_per_run`` training steps inside
one ``session.run``. Each iteration is one ``train_op`` step written out again
(next batch from the same iterator, the same noise streams keyed on the global
step, the same variables, the same Adam instance and slots), so K iterations
end with the same weights as K runs of ``train_op``; what it saves is K - 1
trips through Python and the session. The loop stops early at the first step
whose loss is not finite, so the weights are then those of that step.

Towers: with ``config.towers = T`` each iteration cuts its batch of B images
into T slices of B / T and runs the model on each slice (the same
variables), the classic TF1 multi-tower layout. The loss is still the mean
over all B images,

    loss = -(1/B) sum_i [log p(x_i|z_i) - KL_i] = (1/T) sum_t loss_t,

so its gradient is the mean of the towers' gradients: the same step, with
sums taken in another order (float rounding differs, the math does not).
The towers share no ops until their gradients meet, so two inter-op threads
run them at once (session.py has the measurements). ``train_op`` stays the
one-tower graph that notebooks read.
"""
from __future__ import annotations

import tensorflow as tf

from legacy_vae.graph import losses, pipeline
from legacy_vae.graph.handles import ModelHandles, TrainRun

v1 = tf.compat.v1

STEPS_PER_RUN = 50  # default length of one train_steps run (measured: more gains little)


def binarize(config, x, step, name=None):
    """A fresh Bernoulli draw of every pixel, keyed on (seed, step): dynamic binarization."""
    keys = tf.random.stateless_uniform(tf.shape(x), pipeline.stream_seed(
        config.seed, pipeline.STREAM_BINARIZE, step))
    return tf.cast(keys < x, tf.float32, name=name)


def noise(config, x, step):
    """The reparameterization noise of one step: N(0, I), one row per image, keyed on (seed, step)."""
    return tf.random.stateless_normal(
        tf.stack([tf.shape(x)[0], config.code_size]),
        pipeline.stream_seed(config.seed, pipeline.STREAM_EPS, step))


def input_tensors(config, global_step, fast_input=None):
    """Create ``x``, ``eps`` and ``prior_eps`` (and the tf.data pipeline if fast)."""
    if fast_input is None:
        fast_input = config.fast_input
    source = None
    if fast_input:
        source = pipeline.make_input(config.seed, config.batch_size)
        x = v1.placeholder_with_default(source.next_batch, [None, 784], name="x")
    else:
        x = v1.placeholder(tf.float32, [None, 784], name="x")
    if config.binarize == "dynamic":
        x = binarize(config, x, global_step, name="x_binarized")
    eps = v1.placeholder_with_default(noise(config, x, global_step), [None, config.code_size], name="eps")
    # Prior draws use the same noise at every step, so sample grids show training progress.
    prior_noise = tf.random.stateless_normal(
        [config.num_prior_samples, config.code_size],
        pipeline.stream_seed(config.seed, pipeline.STREAM_PRIOR, 0))
    prior_eps = v1.placeholder_with_default(prior_noise, [config.num_prior_samples, config.code_size],
                                            name="prior_eps")
    return x, eps, prior_eps, source


def loss_terms(x, logits, per_image_kl):
    """(per-image log-likelihood, reconstruction, kl, elbo, loss): the batch means the step minimizes."""
    return batch_terms(losses.log_likelihood(x, logits), per_image_kl)


def batch_terms(log_lik, per_image_kl):
    """:func:`loss_terms` from the per-image log-likelihoods and KL terms."""
    reconstruction = tf.reduce_mean(-log_lik, name="reconstruction")
    kl = tf.reduce_mean(per_image_kl, name="kl")
    elbo = tf.identity(losses.elbo(log_lik, per_image_kl), name="elbo")
    return log_lik, reconstruction, kl, elbo, tf.negative(elbo, name="loss")


def finish_graph(config, graph, global_step, x, eps, prior_eps, source, *,
                 code_mean, code_stddev, z, logits, per_image_kl, prior_logits, step=None):
    """Add the ELBO, Adam and the initializer, and collect the handles.

    ``step(x, eps) -> (logits, per_image_kl)`` is the model once more on the
    same variables; with it and the tf.data ``source`` the multi-step loop is
    built too (see the module docstring).
    """
    with v1.name_scope("loss"):
        log_lik, reconstruction, kl, elbo, loss = loss_terms(x, logits, per_image_kl)
    with v1.name_scope("train"):
        optimizer = v1.train.AdamOptimizer(config.learning_rate, epsilon=config.adam_epsilon)
        train_op = optimizer.minimize(loss, global_step=global_step)
    loop = {}
    if source is not None and step is not None:
        with v1.name_scope("train_steps"):
            loop = train_loop(config, global_step, source, step, optimizer)
    return ModelHandles(
        graph=graph, config=config, x=x, eps=eps, prior_eps=prior_eps, global_step=global_step,
        code_mean=code_mean, code_stddev=code_stddev, z=z, logits=logits,
        per_image_log_likelihood=log_lik, per_image_kl=per_image_kl,
        reconstruction=reconstruction, kl=kl, elbo=elbo, loss=loss, train_op=train_op,
        reconstructions=tf.sigmoid(logits, name="reconstructions"),
        prior_samples=tf.sigmoid(prior_logits, name="prior_samples"),
        init_op=v1.global_variables_initializer(), input=source, **loop)


def tower_terms(step, x, eps, towers: int):
    """Per-image log-likelihood and KL of the batch, computed in ``towers`` equal slices."""
    if towers == 1:
        logits, per_image_kl = step(x, eps)
        return losses.log_likelihood(x, logits), per_image_kl
    log_lik, kl = [], []
    for t, (x_t, eps_t) in enumerate(zip(tf.split(x, towers), tf.split(eps, towers))):
        with v1.name_scope(f"tower_{t}"):
            logits, per_image_kl = step(x_t, eps_t)
            log_lik.append(losses.log_likelihood(x_t, logits))
            kl.append(per_image_kl)
    return tf.concat(log_lik, 0), tf.concat(kl, 0)


def train_loop(config, global_step, source, step, optimizer) -> dict:
    """``train_steps``, ``steps_per_run`` and ``train_run`` (a :class:`TrainRun`) for ModelHandles."""
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
            x = binarize(config, x, counter)
        log_lik, per_image_kl = tower_terms(step, x, noise(config, x, counter), config.towers)
        _, reconstruction, kl, elbo, loss = batch_terms(log_lik, per_image_kl)
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
