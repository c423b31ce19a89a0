"""Session settings: thread pools of each session's own (legacy_vae.engine.threads, parallel)."""
import os

import pytest

from legacy_vae import cli
from legacy_vae.engine import threads


def test_session_config_asks_for_pools_of_its_own():
    config = threads.session_config(1, 2)
    assert config.use_per_session_threads is True
    assert (config.intra_op_parallelism_threads, config.inter_op_parallelism_threads) == (1, 2)
    # No XLA auto-clustering: two towers run faster on the plain kernels (see session.py).
    assert config.graph_options.optimizer_options.global_jit_level == 0


def test_thread_env_sets_the_override_and_keeps_a_users_choice(monkeypatch):
    monkeypatch.delenv(threads.THREADPOOL_ENV, raising=False)
    threads.thread_env()
    assert os.environ[threads.THREADPOOL_ENV] == "1"
    monkeypatch.setenv(threads.THREADPOOL_ENV, "0")
    threads.thread_env()
    assert os.environ[threads.THREADPOOL_ENV] == "0"


def test_the_command_sets_the_override_before_it_runs(monkeypatch):
    monkeypatch.delenv(threads.THREADPOOL_ENV, raising=False)
    assert cli.main(["train", "--towers", "3"]) == 2  # fails at config time, after the env is set
    assert os.environ[threads.THREADPOOL_ENV] == "1"


@pytest.mark.parametrize("cores,count,expected", [(2, 1, (1, 2)), (2, 2, (1, 1)), (1, 2, (1, 1)), (8, 2, (1, 4))])
def test_threads_per_model(monkeypatch, cores, count, expected):
    monkeypatch.setattr(threads, "cores", lambda: cores)
    assert threads.session_threads(count) == expected
