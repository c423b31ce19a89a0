"""Between-graph replication on TensorFlow's own distributed runtime (``tf.compat.v1``).

Parameter servers hold the variables; each worker runs its own copy of the
model's graph, placed by ``replica_device_setter``, and trains on its own
shard of the batches; worker 0, the chief, initializes or restores the
variables and writes the run folder. One module per job:

    spec        layouts (ps=1,workers=2), ClusterSpec JSON, TF_CONFIG, free ports
    netns       the private network namespace a local cluster runs in
    graph       a worker's graph: the model's, variables on the ps, sync option
    sessions    the chief's and the workers' session creators
    hooks       global-step hooks: stop, who-did-which-update log
    chief       the chief's records and its evaluation beside training
    snapshot    the chief evaluates a local copy of the weights, at one step
    worker      one worker's loop
    task        one task per process (python -m legacy_vae.cluster.task)
    processes   starting, logging and ending the task processes
    supervise   the supervisor: start, watch, react to failures, end everything
    command     legacy-vae train --cluster / --resume of a cluster run

Its options are parsed in ``legacy_vae.cli`` (``cli/cluster.py`` runs them) and
its benchmark is ``legacy-vae bench cluster`` (``legacy_vae/bench/cluster.py``).
"""
