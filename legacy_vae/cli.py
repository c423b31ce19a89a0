"""The ``legacy-vae`` command (``train``, ``evaluate``, ``data``, ``bench``, ``notebooks``):
argparse only, then one call into the package; ``legacy-vae COMMAND --help`` shows each.

A bad option or value exits with status 2 and one line; a failure at run time
with 1 and one line (``--verbose`` adds the traceback); Ctrl-C with 130 and
SIGTERM with 143, each after saving a checkpoint (legacy_vae.failures).
"""
from __future__ import annotations

import argparse
import os
import sys

from legacy_vae.cluster import options as cluster_options

MODEL_CHOICES = ("both", "post", "slim", "cvae")


class _Formatter(argparse.HelpFormatter):
    """Keeps the lines of the exit-status table in the epilog."""

    def _fill_text(self, text, width, indent):
        if text.startswith("exit status:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) and exit status 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _int_at_least(minimum: int, what: str):
    """An argparse type: an integer >= ``minimum``, with a one-line error otherwise."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}")
        return value
    return parse


_positive_int = _int_at_least(1, "positive")
_nonnegative_int = _int_at_least(0, "non-negative")


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _exit_statuses() -> str:
    from legacy_vae.failures import EXIT_STATUSES

    return "exit status:\n" + "\n".join(f"  {code:<4} {meaning}" for code, meaning in EXIT_STATUSES)


def build_parser() -> argparse.ArgumentParser:
    epilog = _exit_statuses()
    parser = _Parser(prog="legacy-vae", description=__doc__.split("\n")[0], epilog=epilog,
                     formatter_class=_Formatter)
    from legacy_vae import __version__

    parser.add_argument("--version", action="version", version=f"legacy-vae {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    train = sub.add_parser("train", help="train the graph-mode VAEs (or the TF2 convolutional VAE)",
                           description="Train with each model's faithful defaults; options override them. "
                                       "Ctrl-C or SIGTERM saves a checkpoint; --resume continues from the "
                                       "newest intact one.",
                           epilog=epilog, formatter_class=_Formatter)
    train.add_argument("--model", choices=MODEL_CHOICES, default="both",
                       help="which model to train (default: both graph-mode MLP models side by side)")
    train.add_argument("--steps", type=_positive_int, help="optimizer steps (post: 12000, slim: 20000, cvae: 10 epochs)")
    train.add_argument("--batch-size", type=_positive_int, help="images per step")
    train.add_argument("--learning-rate", type=_positive_float, help="Adam's learning rate")
    train.add_argument("--code-size", type=_positive_int, help="dimensions of the latent code")
    train.add_argument("--binarize", choices=("none", "static", "dynamic"),
                       help="grey levels (post default), threshold 0.5 (slim, cvae) or a fresh draw per batch")
    train.add_argument("--visualize-every", type=_positive_int, metavar="N",
                       help="validation ELBO and reconstruction figures every N steps (default 1000)")
    train.add_argument("--checkpoint-every", type=_positive_int, metavar="N", help="checkpoint every N steps")
    train.add_argument("--seed", type=_nonnegative_int, help="one seed makes a run repeatable (default 0)")
    train.add_argument("--out", metavar="DIR", help="run folder (default runs/<model>-<timestamp>)")
    train.add_argument("--data-dir", metavar="DIR", help="MNIST folder (default: $LEGACY_VAE_DATA, then data/)")
    train.add_argument("--resume", metavar="RUN_DIR",
                       help="continue the run in RUN_DIR (it may have been moved or copied) from its newest "
                            "intact checkpoint")
    train.add_argument("--feed-dict", action="store_true",
                       help="feed batches through feed_dict instead of the tf.data iterator (slower, same losses)")
    train.add_argument("--towers", type=_positive_int, metavar="T",
                       help="split each batch of the fast loop into T slices computed in parallel "
                            "(post, slim; default 2, 1 keeps batches whole)")
    train.add_argument("--loop", choices=("fast", "classic"), default="fast",
                       help="fast (default): the engine (tf.data, many steps per run, towers); classic: the "
                            "seeds' own feed_dict loop (legacy_vae/models/classic.py), same weights, slower")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    train.add_argument("--verbose", action="store_true", help="on a failure, also print the Python traceback")
    cluster_options.add(train)

    evaluate = sub.add_parser("evaluate", help="test ELBO and importance-weighted log-likelihood of a run",
                              description="Evaluate every model in RUN_DIR (its newest intact checkpoint); "
                                          "prints a table and writes evaluation.json.",
                              epilog=epilog, formatter_class=_Formatter)
    evaluate.add_argument("run_dir", metavar="RUN_DIR")
    evaluate.add_argument("--iw-samples", type=_positive_int, default=5000, metavar="K",
                          help="importance samples per image (default 5000)")
    evaluate.add_argument("--split", choices=("test", "validation", "train"), default="test")
    evaluate.add_argument("--seed", type=_nonnegative_int, default=0)
    evaluate.add_argument("--limit", type=_positive_int, metavar="N", help="evaluate only the first N images")
    evaluate.add_argument("--binarize", choices=("none", "static", "dynamic"),
                          help="score on this data setting instead of the one the model trained on "
                               "(e.g. static: the grey-level post model on binarized digits)")
    evaluate.add_argument("--data-dir", metavar="DIR")
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.add_argument("--verbose", action="store_true", help="on a failure, also print the Python traceback")

    data = sub.add_parser("data", help="download or verify MNIST and report what was found",
                          description="Locate MNIST (download it if missing), check it and print a report.")
    data.add_argument("--data-dir", metavar="DIR", help="folder to use (default: $LEGACY_VAE_DATA, then data/)")
    data.add_argument("--no-download", action="store_true", help="only check what is there")

    bench = sub.add_parser("bench", help="benchmarks: throughput and quality tables",
                           description="Benchmarks that print tables (and write JSON with --json).")
    kinds = bench.add_subparsers(dest="bench", metavar="BENCH", parser_class=_Parser)
    kinds.required = True
    throughput = kinds.add_parser("throughput", help="training steps per second: graph mode vs TF2, and matmul peak")
    throughput.add_argument("--repeats", type=_positive_int, default=5)
    throughput.add_argument("--steps", type=_positive_int, default=1000, help="timed steps per repeat")
    throughput.add_argument("--models", nargs="+", choices=("post", "slim"), default=["post", "slim"])
    throughput.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    quality = kinds.add_parser("quality", help="train with faithful defaults, evaluate, compare with the literature")
    quality.add_argument("--quick", action="store_true", help="a short version (minutes, not the full runs)")
    quality.add_argument("--iw-samples", type=_positive_int, help="importance samples (default 5000; quick: 500)")
    quality.add_argument("--out", metavar="DIR", help="where the runs go (default runs/bench-quality-<timestamp>)")
    quality.add_argument("--data-dir", metavar="DIR")
    quality.add_argument("--json", metavar="PATH", help="also write the results as JSON")

    notebooks = sub.add_parser("notebooks", help="run every notebook and write them as a static HTML site",
                               description="Execute the notebooks top to bottom and write DIR/index.html and one "
                                           "self-contained page per notebook (no server or network needed).")
    notebooks.add_argument("--html", required=True, metavar="DIR", help="folder for the site")
    notebooks.add_argument("--steps", type=_positive_int,
                           help="training steps of every notebook (default: each notebook's own)")
    notebooks.add_argument("--only", nargs="+", metavar="NAME",
                           help="only these notebooks: file names or number prefixes, e.g. 04 05")
    return parser


def _train_configs(args):
    from legacy_vae.config import defaults

    names = ("post", "slim") if args.model == "both" else (args.model,)
    overrides = {key: value for key, value in {
        "steps": args.steps, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "code_size": args.code_size, "binarize": args.binarize, "visualize_every": args.visualize_every,
        "checkpoint_every": args.checkpoint_every, "seed": args.seed, "data_dir": args.data_dir,
        "towers": args.towers,
    }.items() if value is not None}
    if args.towers is not None and (args.feed_dict or args.loop == "classic" or "cvae" in names):
        raise ValueError("--towers splits the batches of the fast tf.data loop of post and slim; it does not "
                         "apply with --feed-dict, --loop classic or --model cvae (drop one of them)")
    if args.feed_dict and args.loop == "classic":
        raise ValueError("--feed-dict is an option of the fast loop; the classic loop always feeds its batches")
    if args.feed_dict:
        overrides["fast_input"] = False
    overrides["loop"] = args.loop
    return [defaults(name).replace(**overrides) for name in names]


def _run(args) -> int:
    if args.command == "train":
        from legacy_vae import train

        if cluster_options.wanted(args):
            return cluster_options.run(args, lambda: _train_configs(args))
        if args.resume:
            train.resume(args.resume, steps=args.steps, progress=not args.no_progress)
        else:
            train.run(_train_configs(args), out=args.out, progress=not args.no_progress)
        return 0
    if args.command == "evaluate":
        from legacy_vae import evaluate

        evaluate.main(args.run_dir, iw_samples=args.iw_samples, split=args.split, seed=args.seed,
                      limit=args.limit, data_dir=args.data_dir, progress=not args.no_progress,
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
        print(f"{len(pages)} notebooks written to {os.path.join(args.html, 'index.html')}")
        return 0
    raise AssertionError(args.command)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # Quieten TensorFlow's C++ start-up banner for command-line use; a user's own setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.command in ("train", "evaluate", "bench"):
        # Thread pools of each session's own must be asked for before TensorFlow starts.
        from legacy_vae.engine.threads import thread_env

        thread_env()
    from legacy_vae import failures

    # Schedulers and `timeout` stop a job with SIGTERM: save a checkpoint as on Ctrl-C.
    with failures.sigterm_as_interrupt():
        try:
            return _run(args)
        except (KeyboardInterrupt, Exception) as error:
            return failures.report(error, f"legacy-vae {args.command}", verbose=getattr(args, "verbose", False))


if __name__ == "__main__":
    raise SystemExit(main())
