"""``python -m legacy_vae`` is the ``legacy-vae`` command."""
from legacy_vae.cli import command

raise SystemExit(command())
