"""The arguments of ``legacy-vae`` and its subcommands (argparse, and nothing else).

A bad option or value is one line on stderr and exit status 2 (``_Parser``).
"""
from __future__ import annotations

import argparse
import sys

MODEL_CHOICES = ("both", "post", "slim", "cvae")
DESCRIPTION = "The legacy-vae command: train, evaluate, data, bench, notebooks, convert."


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
    parser = _Parser(prog="legacy-vae", description=DESCRIPTION, epilog=epilog,
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
                       help="post, slim: validation ELBO and figures every N steps (post 600, slim 1000)")
    train.add_argument("--epoch-steps", type=_positive_int, metavar="N",
                       help="cvae: steps per epoch, each ending with the test ELBO and a digit grid (1875)")
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
    _cluster_arguments(train)

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
    cluster = kinds.add_parser("cluster", help="steps/s, CPU and traffic per update of local clusters; async vs sync")
    cluster.add_argument("--model", choices=("post", "slim"), default="post")
    cluster.add_argument("--steps", type=_positive_int, default=2000, help="updates per run")
    cluster.add_argument("--workers", type=_positive_int, nargs="+", default=[1, 2, 4],
                         help="one async run per number of workers, each with one parameter server")
    cluster.add_argument("--sync", action="store_true",
                         help="instead: async against sync (SyncReplicasOptimizer) for each --workers")
    cluster.add_argument("--out", metavar="DIR", help="where the runs go (default runs/bench-cluster-<timestamp>)")
    cluster.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    faithful = kinds.add_parser("faithful", help="wall time and steps/s: the 2017 scripts, the classic loop and "
                                                 "legacy-vae train, one after another at faithful defaults")
    faithful.add_argument("--steps", type=_positive_int,
                          help="train every command this many steps (default: each model's faithful steps)")
    faithful.add_argument("--models", nargs="+", choices=("post", "slim"), default=["post", "slim"],
                          help="models to time (both: also the side-by-side run)")
    faithful.add_argument("--data-dir", metavar="DIR")
    faithful.add_argument("--out", metavar="DIR", help="where the runs go (default: a temporary folder)")
    faithful.add_argument("--json", metavar="PATH", help="also write the results as JSON")

    notebooks = sub.add_parser("notebooks", help="run every notebook and write them as a static HTML site",
                               description="Execute the notebooks top to bottom and write DIR/index.html and one "
                                           "self-contained page per notebook (no server or network needed).")
    notebooks.add_argument("--html", required=True, metavar="DIR", help="folder for the site")
    notebooks.add_argument("--steps", type=_positive_int,
                           help="training steps of every notebook (default: each notebook's own)")
    notebooks.add_argument("--only", nargs="+", metavar="NAME",
                           help="only these notebooks: file names or number prefixes, e.g. 04 05")
    _convert_arguments(sub, epilog)
    return parser


def _convert_arguments(sub, epilog) -> None:
    convert = sub.add_parser("convert", help="a TF1 checkpoint of post or slim into a Keras 3 .weights.h5",
                             description="Read a TF1 checkpoint (a run folder's newest intact one, or a bare "
                                         "checkpoint such as the 2017 scripts write) and write its weights for "
                                         "the package's Keras 3 model (legacy_vae.migrate.post_model / "
                                         "slim_model), which keras.Model.load_weights reads. Optimizer slots "
                                         "and global_step are skipped. Every problem (a weight missing, "
                                         "matched twice, of the wrong shape; not a checkpoint) is listed at "
                                         "once, with exit status 2, and nothing is written.",
                             epilog=epilog, formatter_class=_Formatter)
    convert.add_argument("source", metavar="CHECKPOINT_OR_RUN",
                         help="a run folder (config.json and checkpoints/), a checkpoint prefix "
                              "(model.ckpt-600) or a folder holding one")
    convert.add_argument("--to", required=True, metavar="FILE.weights.h5", help="the file to write")
    convert.add_argument("--model", choices=("post", "slim"),
                         help="which model: needed for a bare checkpoint and for a run folder of both models")
    convert.add_argument("--verbose", action="store_true", help="on a failure, also print the Python traceback")


def _cluster_arguments(parser) -> None:
    group = parser.add_argument_group(
        "cluster (TensorFlow's distributed runtime: parameter servers and workers, worker 0 the chief)")
    group.add_argument("--cluster", metavar="ps=P,workers=N",
                       help="train on a local cluster of P parameter servers and N workers, one process "
                            "each on free ports of 127.0.0.1, asynchronously unless --sync")
    group.add_argument("--cluster-spec", metavar="JSON",
                       help="run one task of a cluster given from outside: a ClusterSpec JSON "
                            '(\'{"ps": ["host:port"], "worker": ["host:port", ...]}\'), @FILE, or TF_CONFIG '
                            "to read that variable; with --task, or a TF_CONFIG-shaped JSON")
    group.add_argument("--task", metavar="JOB:I", help="this process's task in --cluster-spec: ps:0, worker:0 "
                                                       "(the chief, writes the run folder), worker:1, ...")
    group.add_argument("--sync", action="store_true",
                       help="synchronous training: every step averages one gradient from each worker "
                            "(SyncReplicasOptimizer)")
    group.add_argument("--no-isolation", action="store_true",
                       help="run the local cluster on the machine's network; TensorFlow's servers then listen "
                            "on every interface (the default runs them in a private network namespace)")
