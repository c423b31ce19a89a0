"""``python -m legacy_vae`` is the ``legacy-vae`` command."""
from legacy_vae.cli import main

raise SystemExit(main())
