"""Session creators for the chief and the other workers.

``MonitoredTrainingSession(master=..., is_chief=...)`` is a thin wrapper
that picks ``ChiefSessionCreator`` or ``WorkerSessionCreator``; these are the
same two, with two changes that matter on a small cluster:

* a worker checks every half second whether the chief has initialized (or
  restored) the variables, where the stock ``SessionManager`` sleeps 30 s
  between checks: a run that takes a minute would otherwise spend half of it
  waiting;
* a lost session is not recreated. ``MonitoredSession`` treats
  ``UnavailableError`` / ``AbortedError`` as a preemption and asks its
  creator for a new session, forever; when a parameter server has died the
  variables it held are gone, and the worker would wait for a server that is
  not coming back. Here the second request raises :class:`ClusterLost`, whose
  message says what happened and how to resume, and the task exits.
"""
from __future__ import annotations

import tensorflow as tf

v1 = tf.compat.v1

READY_CHECK_SECONDS = 0.5
WORKER_WAIT_SECONDS = 600


class ClusterLost(RuntimeError):
    """A session to the cluster broke (a parameter server went away)."""


class _Creator(v1.train.SessionCreator):
    def __init__(self, scaffold, master, config, what):
        self.scaffold, self.master, self.config, self.what = scaffold, master, config, what
        self.created = 0
        self.manager = None

    def _manager(self):
        if self.manager is None:
            s = self.scaffold
            self.manager = v1.train.SessionManager(
                local_init_op=s.local_init_op, local_init_feed_dict=s.local_init_feed_dict,
                ready_op=s.ready_op, ready_for_local_init_op=s.ready_for_local_init_op,
                graph=v1.get_default_graph(), recovery_wait_secs=READY_CHECK_SECONDS)
        return self.manager

    def create_session(self):
        if self.created:
            raise ClusterLost(f"{self.what}: the session to the cluster broke (a parameter server "
                              "stopped or became unreachable); the variables it held are lost")
        self.scaffold.finalize()
        session = self._open()
        self.created += 1
        return session


class ChiefCreator(_Creator):
    """Restore the newest checkpoint of ``checkpoint_dir`` into the ps, or initialize."""

    def __init__(self, scaffold, master, config, checkpoint_dir):
        super().__init__(scaffold, master, config, "worker 0 (chief)")
        self.checkpoint_dir = str(checkpoint_dir)

    def _open(self):
        s = self.scaffold
        return self._manager().prepare_session(
            self.master, saver=s.saver, checkpoint_dir=self.checkpoint_dir, config=self.config,
            init_op=s.init_op, init_feed_dict=s.init_feed_dict, init_fn=s.init_fn)


class WorkerCreator(_Creator):
    """Wait (up to 10 minutes) until the chief has made the variables ready."""

    def __init__(self, scaffold, master, config, index):
        super().__init__(scaffold, master, config, f"worker {index}")

    def _open(self):
        return self._manager().wait_for_session(self.master, config=self.config,
                                                max_wait_secs=WORKER_WAIT_SECONDS)
