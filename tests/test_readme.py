"""README.md's commands are the ones CI runs."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README.md must open with a bash block of commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    install_and_train, test = commands
    assert "pip install" in install_and_train and "legacy-vae train" in install_and_train
    assert '".[test]"' in test and "pytest" in test


def test_ci_runs_readmes_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()
    assert "python3 -m venv" in ci and "LEGACY_VAE_DATA=../shared/mnist" in ci


def test_readmes_python_example_runs(tmp_path, mnist_dir, monkeypatch):
    """The 'From Python' block, run as written but for fewer steps."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## From Python\n\n```python\n(.*?)```", text, re.S).group(1)
    assert "steps=2000" in block
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEGACY_VAE_DATA", str(mnist_dir))
    exec(compile(block.replace("steps=2000", "steps=30"), "README.md", "exec"), {})
    for folder in ("runs/post-classic", "runs/post-fast"):
        assert (tmp_path / folder / "results.json").exists(), folder
