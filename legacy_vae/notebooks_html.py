"""``legacy-vae notebooks --html DIR``: every notebook run top to bottom, written as a static site.

    DIR/index.html     the notebooks in order, each with its title, figure count and run time
    DIR/<name>.html    one page per notebook, outputs included
    DIR/<name>.ipynb   the executed notebook the page was made from

The pages need no server and no network: figures are PNG outputs embedded in
the page as ``data:`` URIs (nbconvert's way for HTML), formulas are MathML
made here (``legacy_vae.mathml``) instead of MathJax, and the template is
nbconvert's "lab" page with every block emptied that loads a script from a
CDN (require.js, MathJax, mermaid, Jupyter widgets).

The notebooks run with the parameters in their first cell unless ``steps`` is
given, which sets ``LEGACY_VAE_NOTEBOOK_STEPS`` as the tests do; their run
folders go to a temporary folder. Each runs in a fresh kernel of this Python
(a kernelspec in a temporary ``JUPYTER_PATH``), so the pages show the package
this command belongs to.
"""
from __future__ import annotations

import contextlib
import dataclasses
import html
import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

EXTRA = 'pip install "legacy-vae[notebooks]"'
NEEDED = ("nbformat", "nbclient", "nbconvert", "ipykernel", "latex2mathml")
KERNEL_NAME = "legacy-vae-site"
TEMPLATE_FILE = "legacy_vae_offline.html.j2"
# nbconvert's lab page, less the blocks that fetch scripts from a CDN.
OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


class SiteError(RuntimeError):
    """A one-line reason the site could not be built (a missing extra, a notebook that failed)."""


@dataclasses.dataclass(frozen=True)
class Page:
    name: str        # the notebook's file name
    title: str       # its first heading
    html: Path
    images: int      # image outputs of the executed notebook
    seconds: float   # time to execute it


def check_extra() -> None:
    """Raise SiteError naming the extra if a package the command needs is not installed."""
    missing = []
    for name in NEEDED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise SiteError(f"needs {', '.join(missing)}, from the notebooks extra: {EXTRA}")


def default_folder() -> Path:
    """The repository's notebooks/ beside the package (an editable install), else ./notebooks."""
    beside = Path(__file__).resolve().parents[1] / "notebooks"
    return beside if beside.is_dir() else Path.cwd() / "notebooks"


def select(paths, only) -> list:
    """The notebooks named in ``only`` (file names, stems or number prefixes such as "04"), in order."""
    if not only:
        return list(paths)
    chosen = [p for p in paths if any(p.name == o or p.stem == o or p.name.startswith(f"{o}_") for o in only)]
    unknown = [o for o in only if not any(p.name == o or p.stem == o or p.name.startswith(f"{o}_") for p in paths)]
    if unknown:
        raise ValueError(f"no notebook {', '.join(unknown)} (have: {', '.join(p.name for p in paths)})")
    return chosen


@contextlib.contextmanager
def _environment(scratch: Path, steps):
    """Kernels inherit this process's environment: the kernelspec, the run folder, the steps."""
    spec = scratch / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"legacy-vae ({sys.executable})", "language": "python"}), encoding="utf-8")
    paths = [str(scratch / "jupyter"), os.environ.get("JUPYTER_PATH")]
    changes = {"JUPYTER_PATH": os.pathsep.join(filter(None, paths)), "LEGACY_VAE_NOTEBOOK_OUT": str(scratch / "runs")}
    if steps is not None:
        changes["LEGACY_VAE_NOTEBOOK_STEPS"] = str(steps)
    saved = {key: os.environ.get(key) for key in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def title_of(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0][2:].replace("`", "").strip()
    return fallback


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file=TEMPLATE_FILE,
                        extra_loaders=[DictLoader({TEMPLATE_FILE: OFFLINE_TEMPLATE})])


def execute(path: Path, workdir: Path, timeout: int):
    """Run the notebook at ``path`` top to bottom in a fresh kernel; (the executed notebook, seconds)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=timeout, startup_timeout=120,
                            resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        raise SiteError(f"{path.name} failed: {error.ename}: {error.evalue.splitlines()[0]}") from None
    return nb, time.perf_counter() - start


def write_page(nb, name: str, out: Path, seconds: float) -> Page:
    """Write an executed notebook ``nb`` (file name ``name``) and its page into ``out``.

    The tests give it the notebooks they executed, so the site's pages are
    checked without running the notebooks a second time.
    """
    import copy

    import nbformat

    from legacy_vae.mathml import markdown_math_to_mathml

    out = Path(out)
    nbformat.write(nb, str(out / name))
    images = sum("image/png" in output.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                 for output in cell.outputs)
    title = title_of(nb, Path(name).stem)
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown_math_to_mathml(cell.source)
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    page = out / f"{Path(name).stem}.html"
    page.write_text(body, encoding="utf-8")
    return Page(name, title, page, images, seconds)


def _page(path: Path, out: Path, workdir: Path, timeout: int) -> Page:
    nb, seconds = execute(path, workdir, timeout)
    return write_page(nb, path.name, out, seconds)


def _index(pages, steps) -> str:
    run = "each notebook's own parameters" if steps is None else f"LEGACY_VAE_NOTEBOOK_STEPS={steps}"
    items = "\n".join(
        f'<li><a href="{html.escape(p.html.name)}">{html.escape(p.title)}</a> '
        f"<small>({html.escape(p.name)}: {p.images} figure{'' if p.images == 1 else 's'}, "
        f"run in {p.seconds:.0f} s)</small></li>"
        for p in pages)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>legacy-vae notebooks</title>
<style>body {{font-family: sans-serif; max-width: 48em; margin: 2em auto; line-height: 1.5}}</style></head>
<body><h1>legacy-vae notebooks</h1>
<p>Executed top to bottom on {time.strftime("%Y-%m-%d %H:%M")} with {html.escape(run)}.
Every page is self-contained: figures are embedded and no page loads anything from the network.</p>
<ol>
{items}
</ol></body></html>
"""


def build(out, steps: int | None = None, only=None, folder=None, timeout: int = 3600) -> list:
    """Execute the notebooks (all, or those in ``only``) and write the site to ``out``; the pages."""
    check_extra()
    folder = Path(folder) if folder else default_folder()
    paths = select(sorted(folder.glob("*.ipynb")), only)
    if not paths:
        raise SiteError(f"no notebooks in {folder}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="legacy-vae-site-") as scratch:
        scratch = Path(scratch)
        with _environment(scratch, steps):
            pages = [_page(path, out, scratch, timeout) for path in paths]
    (out / "index.html").write_text(_index(pages, steps), encoding="utf-8")
    return pages
