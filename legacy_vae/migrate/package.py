"""``legacy-vae convert``: a run folder or a bare checkpoint of post or slim into a ``.weights.h5``.

    run folder of one model   its newest intact checkpoint, the model and sizes from config.json
    run folder of --model both  RUN/post or RUN/slim, chosen by --model
    bare checkpoint           a prefix (model.ckpt-600), or a folder holding one (the 2017 scripts'
                              output); --model says which, the sizes are read off the weights' shapes
"""
from __future__ import annotations

from pathlib import Path

from legacy_vae.migrate.errors import MigrationError

MODELS = ("post", "slim")


def _run_folder(path: Path, model: str | None):
    """(prefix, config) of a run folder, or None if ``path`` is no run folder."""
    from legacy_vae.config import Config
    from legacy_vae.migrate.checkpoint import resolve

    if not (path / "config.json").is_file():
        both = [m for m in MODELS if (path / m / "config.json").is_file()]
        if not both:
            return None
        if model is None:
            raise MigrationError([f"{path} holds the runs of {' and '.join(both)}: choose one with --model "
                                  f"{'|'.join(both)}"])
        if model not in both:
            raise MigrationError([f"{path} has no {model} run (it has {', '.join(both)})"])
        path = path / model
    config = Config.load(path / "config.json")
    if config.model not in MODELS:
        raise MigrationError([f"{path} is a {config.model} run; the converter knows the TF1 graph models "
                              f"{' and '.join(MODELS)} (the cvae is a TF2 model already)"])
    if model is not None and model != config.model:
        raise MigrationError([f"--model {model}, but {path} is a {config.model} run (config.json); drop --model"])
    return resolve(path), config


def sizes(model: str, weights: dict) -> dict:
    """code_size and hidden_size of a bare checkpoint of ``model``, read off its weights' shapes."""
    kernel = {"post": "encoder/dense_2/kernel", "slim": "encoder/fc2/weights"}[model]
    if kernel not in weights:
        other = "slim" if model == "post" else "post"
        hint = f" (it looks like a {other} checkpoint: --model {other})" if any(
            name.startswith(("encoder/fc1", "encoder/dense")) for name in weights) else ""
        raise MigrationError([f"the checkpoint has no {kernel}, so it is not a {model} checkpoint{hint}"])
    hidden, out = weights[kernel].shape
    return {"hidden_size": int(hidden), "code_size": int(out) // (2 if model == "slim" else 1)}


def convert(source, to, model: str | None = None):
    """Convert ``source`` (run folder or checkpoint) of post or slim into the file ``to``; the Conversion."""
    from legacy_vae.config import defaults
    from legacy_vae.migrate import checkpoint as checkpoints
    from legacy_vae.migrate.convert import check_target, convert as convert_into
    from legacy_vae.migrate.models import for_config

    check_target(to)
    path = Path(source)
    found = _run_folder(path, model) if path.is_dir() else None
    if found is not None:
        prefix, config = found
    else:
        prefix = checkpoints.resolve(path)
        if model is None:
            raise MigrationError([f"{source} is a bare checkpoint (no config.json): say which model it holds "
                                  f"with --model post or --model slim"])
        config = defaults(model).replace(**sizes(model, checkpoints.read(prefix).weights))
    return convert_into(prefix, for_config(config), to), config
