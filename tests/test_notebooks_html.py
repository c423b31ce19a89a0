"""`legacy-vae notebooks --html DIR`: a static site of the executed notebooks that needs no network.

The pages of notebooks 01 (formulas, graph pictures and the training
figures) and 04 (errors and no figures) are made from the notebooks that the
notebook tests executed (``notebook_runs``: once per test run, shared by the
workers), so nothing runs twice; the checks are that every page holds every
figure of its notebook, that the formulas are MathML and that no page loads a
script or a style sheet from the network. The command itself, end to end
(execute, write, index, what it prints), runs on a small notebook made here
in seconds, and its one-line errors are checked without running anything.
"""
import re
import sys

import nbformat
import pytest

from legacy_vae import cli, notebooks_html
from notebook_runs import notebooks  # noqa: F401 (a fixture)

SITE_NOTEBOOKS = ["01_post_vae.ipynb", "04_reset_default_graph_pitfalls.ipynb"]
PNG = re.compile(r'<img[^>]*\ssrc="data:image/png;base64,')  # an embedded PNG figure
# Ways a page could fetch code or style from elsewhere: script and link tags, ES module imports, CSS.
FETCHES = [re.compile(p, re.I) for p in (
    r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//",
    r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//",
    r"\bimport\s*\(\s*[\"'](https?:)?//",
    r"\bfrom\s+[\"'](https?:)?//",
    r"@import\s+(url\()?\s*[\"']?(https?:)?//",
    r"url\(\s*[\"']?(https?:)?//",
)]


def fetches(page: str) -> list:
    return [m.group(0) for pattern in FETCHES for m in pattern.finditer(page)]


def image_outputs(path) -> int:
    nb = nbformat.read(str(path), as_version=4)
    return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.outputs)


def test_the_offline_check_catches_a_cdn_script():
    assert fetches('<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"></script>')
    assert fetches('await import("https://cdnjs.cloudflare.com/ajax/libs/mermaid/11.10.0/mermaid.esm.min.mjs")')
    assert not fetches('<a href="https://arxiv.org/abs/1312.6114">a link to follow is fine</a>')


@pytest.fixture
def small_notebooks(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A `small` notebook\n\n$$\\mathbb E_{q}[\\log p(x \\mid z)]$$ "
                                      "and $\\mathcal N(0, I)$, but not `$HOME`"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                                  "plt.plot([1, 2, 3]);\nplt.show()\nprint('done')"),
    ])
    nbformat.write(nb, str(folder / "01_small.ipynb"))
    return folder


def test_the_command_writes_a_small_notebook_as_a_self_contained_page(small_notebooks, tmp_path, monkeypatch,
                                                                      capsys):
    monkeypatch.setattr(notebooks_html, "default_folder", lambda: small_notebooks)
    out = tmp_path / "site"
    assert cli.main(["notebooks", "--html", str(out), "--steps", "5"]) == 0
    assert sorted(p.name for p in out.glob("*.html")) == ["01_small.html", "index.html"]
    page = (out / "01_small.html").read_text(encoding="utf-8")
    assert image_outputs(out / "01_small.ipynb") == len(PNG.findall(page)) == 1
    assert page.count("<math ") == 2 and "𝔼" in page and "𝒩" in page and "$HOME" in page
    assert "done" in page
    assert not fetches(page)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="01_small.html">A small notebook</a>' in index and "LEGACY_VAE_NOTEBOOK_STEPS=5" in index
    # The command prints each notebook's figures and run time, then where the site is.
    printed = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"01_small\.ipynb: 1 figures, run in \d+ s", printed[0]), printed
    assert printed[-1] == f"1 notebooks written to {out / 'index.html'}"


def test_missing_extra_is_one_line_naming_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "latex2mathml", None)  # makes `import latex2mathml` fail
    assert cli.main(["notebooks", "--html", str(tmp_path / "site")]) == 1
    err = capsys.readouterr().err
    assert err == ('legacy-vae notebooks: needs latex2mathml, from the notebooks extra: '
                   'pip install "legacy-vae[notebooks]"\n')
    assert not (tmp_path / "site").exists()


def test_unknown_notebook_is_a_usage_error(capsys, tmp_path):
    assert cli.main(["notebooks", "--html", str(tmp_path / "site"), "--only", "99"]) == 2
    assert "no notebook 99 (have: 00_tf1_code_on_tf2.ipynb, 01_post_vae.ipynb" in capsys.readouterr().err


def test_the_executed_notebooks_become_self_contained_pages(notebooks, tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    for name in SITE_NOTEBOOKS:
        run = notebooks(name)
        page = notebooks_html.write_page(run.nb, name, out, run.seconds)
        html = page.html.read_text(encoding="utf-8")
        assert page.images == image_outputs(out / name) == len(PNG.findall(html)), name
        assert not fetches(html), (name, fetches(html))
        assert "$$" not in html.replace("`$$`", ""), f"{name}: a formula was left to MathJax"
        assert "<math " in html or name.startswith("04"), f"{name}: no formula became MathML"
    # The graph picture, 21 looks of the classic loop, the curve, codes, grid and reconstructions.
    assert image_outputs(out / "01_post_vae.ipynb") >= 25


