"""`legacy-vae notebooks --html DIR`: a static site of the executed notebooks that needs no network.

The command's test runs it with ``--steps SITE_STEPS --only`` SITE_NOTEBOOKS
(01: formulas, graph pictures and training figures; 04: errors and no
figures) and checks that every page holds every figure of its notebook, that
the formulas are MathML and that no page loads a script or a style sheet from
the network. All six notebooks take about 7 minutes here (421 s with --steps
50 on the 2-core machine, measured once), as long again as the notebook tests
themselves, so the test takes the subset; ``--only`` is the command's own
documented option. A small notebook made here checks the same things in
seconds, and the command's one-line errors are checked without running anything.
"""
import re
import sys

import nbformat
import pytest

from legacy_vae import cli, notebooks_html

SITE_STEPS = "50"
SITE_NOTEBOOKS = ["01", "04"]
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


def test_a_small_notebook_becomes_a_self_contained_page(small_notebooks, tmp_path):
    out = tmp_path / "site"
    pages = notebooks_html.build(out, folder=small_notebooks)
    assert [p.name for p in pages] == ["01_small.ipynb"]
    page = (out / "01_small.html").read_text(encoding="utf-8")
    assert pages[0].images == image_outputs(out / "01_small.ipynb") == len(PNG.findall(page)) == 1
    assert page.count("<math ") == 2 and "𝔼" in page and "𝒩" in page and "$HOME" in page
    assert "done" in page
    assert not fetches(page)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="01_small.html">A small notebook</a>' in index


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


def test_the_command_writes_every_notebook_with_every_figure(tmp_path, mnist_dir, monkeypatch, capsys):
    monkeypatch.setenv("LEGACY_VAE_DATA", str(mnist_dir))
    monkeypatch.setenv("LEGACY_VAE_NOTEBOOK_TEST_IMAGES", "1000")  # notebook 06's test set, as in the tests
    out = tmp_path / "site"
    assert cli.main(["notebooks", "--html", str(out), "--steps", SITE_STEPS, "--only", *SITE_NOTEBOOKS]) == 0
    names = sorted(p.name for p in notebooks_html.default_folder().glob("*.ipynb")
                   if p.name.split("_")[0] in SITE_NOTEBOOKS)
    assert len(names) == len(SITE_NOTEBOOKS)
    assert sorted(p.name for p in out.glob("*.html")) == sorted([n.replace(".ipynb", ".html") for n in names]
                                                                + ["index.html"])
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in names:
        stem = name[:-len(".ipynb")]
        page = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert f'href="{stem}.html"' in index
        assert len(PNG.findall(page)) == image_outputs(out / name), name
        assert not fetches(page), (name, fetches(page))
        assert "$$" not in page.replace("`$$`", ""), f"{name}: a formula was left to MathJax"
    assert image_outputs(out / "01_post_vae.ipynb") >= 10  # 7 graph pictures, the curves, codes, samples
    # The command prints each notebook's figures and run time, then where the site is.
    printed = capsys.readouterr().out.splitlines()
    for name in names:
        assert any(re.fullmatch(rf"{re.escape(name)}: {image_outputs(out / name)} figures, run in \d+ s", line)
                   for line in printed), (name, printed)
    assert printed[-1] == f"{len(names)} notebooks written to {out / 'index.html'}"
