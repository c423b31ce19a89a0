"""What ``legacy-vae train``'s cluster options run (the options themselves: ``parser``).

    --cluster ps=P,workers=N   a local cluster: one process per task on 127.0.0.1
    --cluster-spec JSON        one task of a cluster given from outside (JSON, @file or TF_CONFIG)
    --task JOB:I               which task this process is (unless the JSON says, TF_CONFIG-style)
    --sync                     synchronous updates (SyncReplicasOptimizer), default asynchronous
    --no-isolation             local cluster on the machine's network instead of a private namespace
"""
from __future__ import annotations

from pathlib import Path

from legacy_vae import runs


def wanted(args) -> bool:
    """Whether these train arguments ask for a cluster (a new one, one task, or a cluster run to resume)."""
    if args.cluster or args.cluster_spec:
        return True
    if args.task or args.sync or args.no_isolation:
        raise ValueError("--task, --sync and --no-isolation go with --cluster or --cluster-spec")
    if args.resume:
        from legacy_vae.cluster.command import is_cluster_run

        return is_cluster_run(args.resume)
    return False


def _check(args) -> None:
    if args.cluster and args.cluster_spec:
        raise ValueError("--cluster starts a whole local cluster, --cluster-spec one task of a given cluster: "
                         "choose one")
    if args.cluster_spec and args.no_isolation:
        raise ValueError("--no-isolation is for --cluster; a --cluster-spec task runs on the addresses it is given")
    if args.task and not args.cluster_spec:
        raise ValueError("--task names this process's part in --cluster-spec; a --cluster run starts every task")
    if args.loop == "classic" or args.feed_dict or args.towers is not None:
        raise ValueError("--loop, --feed-dict and --towers are options of the single-process loops; a cluster "
                         "worker always feeds whole batches through feed_dict")
    if args.model in ("cvae",):
        raise ValueError("the cluster trains the graph models (post, slim, both), not cvae")


def run(args, configs) -> int:
    """Run what the cluster options ask for; ``configs()`` gives the models' configs. The exit status."""
    import sys

    from legacy_vae.cluster import command, netns

    _check(args)
    if args.cluster_spec:
        return _external(args, configs)
    try:
        if args.resume:
            if args.cluster:
                raise ValueError("--resume restarts the cluster the run was trained on; drop --cluster")
            return command.resume(args.resume, steps=args.steps)
        return command.train(configs(), args.cluster, out=args.out, sync=args.sync,
                             isolated=not args.no_isolation)
    except netns.IsolationError as error:  # the machine, not the options: status 1
        sys.stderr.write(f"legacy-vae train: {error}\n")
        return 1


def _external(args, configs) -> int:
    from legacy_vae.cluster import command, spec, task
    from legacy_vae.config import Config

    cluster, (job, index) = spec.external(args.cluster_spec, args.task)
    config, run_dir = None, None
    if job == "worker":
        if args.resume:
            run_dir = Path(args.resume)
            config = Config.load(runs.ModelFolder(run_dir).config)
            if args.steps is not None:
                config = config.replace(steps=args.steps)
        else:
            chosen = configs()
            if len(chosen) != 1:
                raise ValueError("a cluster job trains one model: pass --model post or --model slim "
                                 "(run the other model as a second job)")
            config = command.cluster_config(chosen[0])
            label = config.model if index == 0 else f"{config.model}-worker{index}"
            run_dir = Path(args.out) if args.out else runs.default_run_dir(label)
            if index == 0:
                runs.check_new_run_dir(run_dir)
    # Past here this process is a cluster task: it leaves through os._exit (see task.py).
    task.finish(task.run_task(job, index, cluster, config, run_dir, sync=args.sync))
