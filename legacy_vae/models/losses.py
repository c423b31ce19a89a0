"""The pieces of the ELBO, as pure functions on tensors.

Convention everywhere in the package: nats per image, summed over pixels
(and code dimensions), averaged over the batch only at the very end.

Reparameterization, with eps ~ N(0, I) drawn outside so it can be fed:

    z = mean + stddev * eps

Closed-form KL of q = N(loc, diag(scale^2)) from p = N(0, I), per image:

    KL(q || p) = sum_j [ (loc_j^2 + scale_j^2 - 1) / 2 - log scale_j ]
               = -1/2 sum_j [ 1 + logvar_j - mu_j^2 - exp(logvar_j) ]   (logvar = log scale^2)

Bernoulli log-likelihood of pixels x in [0, 1] under logits l, per image:

    log p(x | z) = sum_i [ x_i log sigmoid(l_i) + (1 - x_i) log sigmoid(-l_i) ]
                 = -sum_i sigmoid_cross_entropy_with_logits(x_i, l_i)

    ELBO = mean over the batch of [ log p(x | z) - KL(q || p) ]

The batch means a model reports and Adam minimizes (``objective``):

    reconstruction = mean_i -log p(x_i | z_i),   kl = mean_i KL_i,
    elbo = mean_i [log p(x_i | z_i) - KL_i],      loss = -elbo

These use only ops that exist in TF2, so they run in graph mode and eagerly.
"""
from __future__ import annotations

import tensorflow as tf


def reparameterize(mean, stddev, eps):
    """z = mean + stddev * eps: a sample of N(mean, stddev^2) that gradients flow through."""
    return mean + stddev * eps


def kl(loc, scale):
    """KL(N(loc, scale^2) || N(0, 1)) per image, summed over the code."""
    return tf.reduce_sum(0.5 * (tf.square(loc) + tf.square(scale) - 1.0) - tf.math.log(scale), axis=-1)


def kl_logvar(mu, logvar):
    """The same KL in the (mu, log-variance) parameterization the Slim model uses."""
    return -0.5 * tf.reduce_sum(1.0 + logvar - tf.square(mu) - tf.exp(logvar), axis=-1)


def log_likelihood(x, logits):
    """Bernoulli log p(x | z) per image, summed over pixels (x may be grey levels)."""
    return -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)


def elbo(log_lik, kl_term):
    """The batch-mean ELBO from per-image log-likelihoods and KL terms."""
    return tf.reduce_mean(log_lik - kl_term)


def objective(log_lik, kl_term):
    """(reconstruction, kl, elbo, loss): the batch means of the per-image terms, named in the graph.

    Called inside a ``name_scope("loss")`` they are ``loss/elbo``, ``loss/kl``, ...
    """
    reconstruction_mean = tf.reduce_mean(-log_lik, name="reconstruction")
    kl_mean = tf.reduce_mean(kl_term, name="kl")
    elbo_mean = tf.identity(elbo(log_lik, kl_term), name="elbo")
    return reconstruction_mean, kl_mean, elbo_mean, tf.negative(elbo_mean, name="loss")


def bernoulli_sample(logits, seed, name=None):
    """One draw of every pixel of Bernoulli(sigmoid(logits)), from a stateless stream ``seed``.

    What ``tfd.Bernoulli(logits).sample()`` gave, repeatable: u < sigmoid(l)
    with u ~ U[0, 1) is 1 with probability sigmoid(l).
    """
    uniform = tf.random.stateless_uniform(tf.shape(logits), seed)
    return tf.cast(uniform < tf.sigmoid(logits), tf.float32, name=name)
