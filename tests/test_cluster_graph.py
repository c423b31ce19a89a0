"""A cluster worker's graph (built without any server): same variables as one process, on the ps."""
import pytest
import tensorflow as tf

from legacy_vae.cluster import graph as cluster_graph
from legacy_vae.config import defaults
from legacy_vae.models import builder as model_builder

SPEC = {"ps": ["127.0.0.1:1", "127.0.0.1:2"], "worker": ["127.0.0.1:3", "127.0.0.1:4"]}


def variables(graph):
    with graph.as_default():
        return {v.op.name: v.shape.as_list() for v in tf.compat.v1.global_variables()}


@pytest.mark.parametrize("model, sync", [("post", False), ("post", True), ("slim", False)])
def test_worker_graph_has_the_single_process_variables_all_on_the_ps(model, sync):
    config = defaults(model).replace(feed_dict=True, towers=1)
    worker = cluster_graph.build(config, SPEC, index=1, sync=sync)
    single = model_builder(model)(config)
    assert variables(worker.handles.graph) == variables(single.graph)  # names and shapes: checkpoints swap
    placed = cluster_graph.placement(worker.handles.graph)
    assert {device for _, device, _ in placed} == {"/job:ps/task:0", "/job:ps/task:1"}
    assert worker.handles.loss.device == "/job:worker/task:1"
    # An Adam slot lives beside its variable.
    where = {name: device for name, device, _ in placed}
    assert all(where[name] == where[name.rsplit("/", 1)[0]] for name in where if name.endswith(("/Adam", "/Adam_1")))
    with worker.handles.graph.as_default():
        local = [v.op.name for v in tf.compat.v1.local_variables()]
    assert local == (["sync/sync_rep_local_step"] if sync else [])
