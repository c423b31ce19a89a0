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
    assert (tmp_path / "runs" / "post.weights.h5").is_file()  # the converter's output


# ---------------------------------------------------------------------------
# Every command README.md and docs/ show, checked against what it names.

import argparse  # noqa: E402
import ast  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import shlex  # noqa: E402

import pytest  # noqa: E402

PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def page_id(path):
    return str(path.relative_to(ROOT))


def shell_lines(body: str) -> list[str]:
    """The commands of a bash block: continuation lines joined, a multi-line ``python -c "..."`` kept whole."""
    commands, pending = [], ""
    for line in body.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        if pending.rstrip().endswith("\\"):
            pending = pending.rstrip()[:-1]
            continue
        if pending.count('"') % 2:  # an open quote: the command goes on
            continue
        if pending.strip():
            commands.append(pending.strip())
        pending = ""
    assert not pending, f"unclosed quote in a bash block: {pending!r}"
    return commands


def subparser(parser, path):
    for name in path:
        choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
        parser = choices[name]
    return parser


def check_legacy_vae(words, variables):
    from legacy_vae.cli import _train_configs
    from legacy_vae.cli.parser import build_parser

    words = [variables.get(w[1:], w) if w.startswith("$") else w for w in words]
    args = build_parser().parse_args(words)  # a wrong option or value exits with status 2 here
    if args.command == "train" and not args.resume:
        assert _train_configs(args)


def check_python(words):
    if words[:2] == ["-m", "pip"]:
        assert words[2:4] == ["install", "-e"], words
        target = words[4]
        extras = re.fullmatch(r"\.(?:\[(\w+)\])?", target)
        assert extras, f"pip install of {target!r}: only the package itself or its extras"
        if extras.group(1):
            assert f'"{extras.group(1)}":' in (ROOT / "setup.py").read_text(), f"no extra {extras.group(1)!r} in setup.py"
    elif words[0] == "-m":
        assert importlib.util.find_spec(words[1]) is not None, f"no module {words[1]}"
    elif words[0] == "-c":
        for node in ast.walk(ast.parse(words[1])):
            if isinstance(node, ast.ImportFrom):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    # A name the module defines, or a submodule (which ``from`` imports itself).
                    assert hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{node.module}.{alias.name}") is not None, f"{node.module} has no {alias.name}"
    else:
        assert (ROOT / words[0]).is_file(), f"python {words[0]}: no such file in the repository"


def check_command(command: str, variables: dict):
    for part in command.split("&&"):
        words = shlex.split(part, comments=True)
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):  # VAR=value prefixes
            name, _, value = words.pop(0).partition("=")
            if not words:
                variables[name] = value
        if not words:
            continue
        if words[0] == "export":
            name = words[1].partition("=")[0]
            sources = "".join(p.read_text() for p in (ROOT / "legacy_vae").rglob("*.py"))
            assert name in sources, f"export {name}: the package never reads it"
        elif words[0] == "legacy-vae":
            check_legacy_vae(words[1:], variables)
        elif words[0] == "python":
            check_python(words[1:])
        else:
            raise AssertionError(f"{command!r}: teach tests/test_readme.py to check this kind of command")


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_command_in_a_bash_block_parses(page):
    """Each line of every ```bash block: `legacy-vae` through the command's own parser (and the
    train options through the config they make), pip extras against setup.py, python files,
    modules and `python -c` imports against the repository."""
    variables = {}
    for lang, body in FENCE.findall(page.read_text(encoding="utf-8")):
        assert lang, f"{page_id(page)}: label every code block (bash, text, python) so commands are checked"
        if lang == "bash":
            for command in shell_lines(body):
                check_command(command, variables)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_command_named_in_prose_exists(page):
    """`legacy-vae ...` in running text: the subcommand and every --option it names exist."""
    from legacy_vae.cli.parser import build_parser

    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    for span in re.findall(r"`((?:[A-Z_]+=\S+ )*legacy-vae [^`]*)`", text):
        words = shlex.split(re.sub(r"^(?:[A-Z_]+=\S+ )*legacy-vae ", "", span.replace("\n", " ")))
        parser, path = build_parser(), []
        while words and not words[0].startswith("-"):
            try:
                parser = subparser(parser, [words[0]])
            except (StopIteration, KeyError):
                break
            path.append(words.pop(0))
        assert path, f"{page_id(page)}: `{span}` names no subcommand"
        known = {flag for action in parser._actions for flag in action.option_strings}
        for word in words:
            if word.startswith("--"):
                assert word.split("=")[0] in known, f"{page_id(page)}: `{span}`: {' '.join(path)} has no {word}"


def test_readme_is_a_front_door():
    """README stays one screen of purpose: under 10 KB, the originals linked, a figure early, docs linked."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode()) <= 10_000
    for address in ("https://danijar.com/building-variational-auto-encoders-in-tensorflow/",
                    "https://github.com/kevinjliang/Duke-Tsinghua-MLSS-2017/blob/master/03A_Variational_Autoencoder.ipynb",
                    "https://www.tensorflow.org/tutorials/generative/cvae"):
        assert address in text
    figure = next(i for i, line in enumerate(text.splitlines()) if line.startswith("!["))
    assert figure < 40
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link
    for page in (ROOT / "docs").glob("*.md"):
        assert f"docs/{page.name}" in text, f"README does not link docs/{page.name}"


def test_where_to_read_names_functions_that_exist():
    """Each row of README's "Where to read" points at a file and functions that are there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Where to read"):text.index("\n## ", text.index("## Where to read") + 1)]
    rows = re.findall(r"^\| [^|]+ \| `(legacy_vae/[\w/]+\.py)`(?:: (.*?))? \|$", section, re.M)
    assert len(rows) >= 12
    for path, names in rows:
        source = (ROOT / path).read_text(encoding="utf-8")
        for name in re.findall(r"`(\w+)`", names or ""):
            assert re.search(rf"^\s*(?:def|class) {name}\b|^\s*{name} = ", source, re.M) or \
                re.search(rf"\b{name}\b", source), f"{path} has no {name}"
