"""constraints.txt pins the versions the suite passes with; CI (.ci/run) installs exactly them."""
import re
from importlib import metadata
from pathlib import Path

from skips import cannot_run

ROOT = Path(__file__).resolve().parents[1]
UNPINNED = {"legacy-vae", "pip", "setuptools", "wheel"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict:
    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    found = [re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line) for line in lines if line and not line.startswith("#")]
    assert all(found), "every line of constraints.txt is a comment or NAME==VERSION"
    return {canonical(m.group(1)): m.group(2) for m in found}


def test_ci_installs_with_the_constraints():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'export PIP_CONSTRAINT="$PWD/constraints.txt"' in ci.splitlines()
    assert ci.index("PIP_CONSTRAINT=") < ci.index('pip install -e ".[test]"')


def test_the_installed_versions_are_the_pinned_ones():
    """Every installed distribution is pinned, at its pinned version (only the package and pip's own
    tools are not). Outside CI a different environment is the developer's choice: a skip says which."""
    pinned = pins()
    assert {"tensorflow", "tf-slim", "keras", "numpy", "pytest"} <= set(pinned)
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differ = sorted(f"{name} {version} (pinned: {pinned.get(name, 'not pinned')})"
                    for name, version in installed.items()
                    if name not in UNPINNED and pinned.get(name) != version)
    if differ:
        cannot_run("this environment is not the pinned one: " + ", ".join(differ))
