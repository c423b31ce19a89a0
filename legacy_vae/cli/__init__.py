"""The ``legacy-vae`` command (``train``, ``evaluate``, ``data``, ``bench``, ``notebooks``, ``convert``):
the options become a config or arguments, then one call into the package.

    parser.py    every option of every subcommand (argparse lives here only)
    cluster.py   what the cluster options of ``train`` run
    here         ``main``: parse, build the configs, call, turn failures into exit statuses

A bad option or value exits with status 2 and one line; a failure at run time
with 1 and one line (``--verbose`` adds the traceback); Ctrl-C with 130 and
SIGTERM with 143, each after saving a checkpoint (legacy_vae.failures).
"""
from __future__ import annotations

import gc
import os
import sys

from legacy_vae.cli import cluster as cluster_options
from legacy_vae.cli.parser import build_parser


def _train_configs(args):
    from legacy_vae.config import defaults

    names = ("post", "slim") if args.model == "both" else (args.model,)
    overrides = {key: value for key, value in {
        "steps": args.steps, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "code_size": args.code_size, "binarize": args.binarize, "visualize_every": args.visualize_every,
        "checkpoint_every": args.checkpoint_every, "seed": args.seed, "data_dir": args.data_dir,
        "towers": args.towers, "epoch_steps": args.epoch_steps,
    }.items() if value is not None}
    if "cvae" in names and args.visualize_every is not None:
        raise ValueError("the cvae looks at its test set once per epoch: set --epoch-steps, not --visualize-every")
    if args.towers is not None and (args.feed_dict or args.loop == "classic" or "cvae" in names):
        raise ValueError("--towers splits the batches of the fast tf.data loop of post and slim; it does not "
                         "apply with --feed-dict, --loop classic or --model cvae (drop one of them)")
    if args.feed_dict and args.loop == "classic":
        raise ValueError("--feed-dict is an option of the fast loop; the classic loop always feeds its batches")
    if args.feed_dict:
        overrides["feed_dict"] = True
    overrides["loop"] = args.loop
    return [defaults(name).replace(**overrides) for name in names]


def _progress(args) -> bool:
    """Progress bars only on a terminal; into a pipe or a file the runs print one plain line per look."""
    return not args.no_progress and sys.stderr.isatty()


def _run(args) -> int:
    if args.command == "train":
        from legacy_vae import train

        if cluster_options.wanted(args):
            return cluster_options.run(args, lambda: _train_configs(args))
        if args.resume:
            train.resume(args.resume, steps=args.steps, progress=_progress(args))
        else:
            train.run(_train_configs(args), out=args.out, progress=_progress(args))
        return 0
    if args.command == "evaluate":
        from legacy_vae import evaluate

        evaluate.main(args.run_dir, iw_samples=args.iw_samples, split=args.split, seed=args.seed,
                      limit=args.limit, data_dir=args.data_dir, progress=_progress(args),
                      binarize=args.binarize)
        return 0
    if args.command == "data":
        from legacy_vae.data import describe

        print(describe(args.data_dir, download=not args.no_download))
        return 0
    if args.command == "bench":
        if args.bench == "throughput":
            from legacy_vae.bench import throughput

            throughput.main(repeats=args.repeats, steps=args.steps, models=args.models, json_path=args.json)
        elif args.bench == "cluster":
            from legacy_vae.bench import cluster

            cluster.main(args.model, args.steps, args.workers, sync=args.sync, out=args.out, json_path=args.json)
        elif args.bench == "faithful":
            from legacy_vae.bench import faithful

            faithful.main(steps=args.steps, models=tuple(args.models), data_dir=args.data_dir, out=args.out,
                          json_path=args.json)
        else:
            from legacy_vae.bench import quality

            quality.main(quick=args.quick, iw_samples=args.iw_samples, out=args.out,
                         data_dir=args.data_dir, json_path=args.json)
        return 0
    if args.command == "notebooks":
        from legacy_vae import notebooks_html

        try:
            pages = notebooks_html.build(args.html, steps=args.steps, only=args.only)
        except notebooks_html.SiteError as error:
            sys.stderr.write(f"legacy-vae notebooks: {error}\n")
            return 1
        for page in pages:
            print(f"{page.name}: {page.images} figures, run in {page.seconds:.0f} s")
        print(f"{len(pages)} notebooks written to {os.path.join(args.html, 'index.html')}")
        return 0
    if args.command == "convert":
        from legacy_vae.migrate.package import convert

        done, config = convert(args.source, args.to, model=args.model)
        print(done.table())
        print(f"{config.model} (code {config.code_size}, hidden {config.hidden_size}) from {done.prefix}\n"
              f"wrote {done.path}")
        return 0
    raise AssertionError(args.command)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # Quieten TensorFlow's C++ start-up banner for command-line use; a user's own setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # bench faithful trains nothing in its own process, and its 2017 scripts must start in the
    # environment notebook 00 gives them: neither the thread variable nor TensorFlow here (each
    # `legacy-vae train` it starts sets the variable for itself).
    if args.command in ("train", "evaluate", "bench") and getattr(args, "bench", None) != "faithful":
        # Thread pools of each session's own must be asked for before TensorFlow starts.
        from legacy_vae.engine.threads import thread_env

        thread_env()
        # Not for train: legacy_vae.train imports it once the figure workers and the data are on
        # their way.
        if args.command != "train":
            from legacy_vae.quiet import import_tensorflow

            # Without TensorFlow's C++ start-up lines (TF_CPP_MIN_LOG_LEVEL does not reach them);
            # any other line it prints while loading still shows. Keras loads only if used (cvae).
            import_tensorflow(keras=False)
    from legacy_vae import failures

    # Schedulers and `timeout` stop a job with SIGTERM: save a checkpoint as on Ctrl-C.
    with failures.sigterm_as_interrupt():
        try:
            return _run(args)
        except (KeyboardInterrupt, Exception) as error:
            return failures.report(error, f"legacy-vae {args.command}", verbose=getattr(args, "verbose", False))


def command() -> int:
    """The ``legacy-vae`` console script: :func:`main`, then an exit that skips the garbage
    collector's last walk over TensorFlow's objects (``gc.freeze``: about 0.6 s less at every exit,
    measured in docs/performance.md). Not in :func:`main`, which tests call in their own process."""
    status = main()
    gc.freeze()
    return status


if __name__ == "__main__":
    raise SystemExit(command())
