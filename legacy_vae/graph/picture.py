"""A picture of a TF1 graph collapsed by name scope, as TensorBoard's graph view first shows it.

TensorBoard draws each top-level name scope (``encoder``, ``decoder``,
``loss``, ``train``, ...) as one box, and a tensor that one scope's op feeds
to another's as an arrow between their boxes. :func:`draw` draws that picture
inline with matplotlib alone, no server: boxes in columns from the inputs on
the left to what depends on them on the right (a column is the length of the
longest path into the box), each labelled with its op and variable counts.
Boxes and arrows that a construction step added (``new``: what
``listing.watch`` gained) are highlighted, so a notebook can show the graph
growing one step at a time.
"""
from __future__ import annotations

import collections

from matplotlib.figure import Figure

NEW, OLD = "#ffcc80", "#e3ecf7"  # fill of the boxes a step added, and of those it found


def scope_of(name: str, depth: int = 1) -> str:
    return "/".join(name.split("/")[:depth])


def collapse(graph, depth: int = 1):
    """(ops per scope, variables per scope, edges): the graph with each name scope as one node.

    Edges are data edges (an op's inputs) between different scopes; control
    dependencies, such as an initializer's, are left out as TensorBoard does.
    """
    ops, edges = collections.Counter(), {}
    for op in graph.get_operations():
        target = scope_of(op.name, depth)
        ops[target] += 1
        for tensor in op.inputs:
            source = scope_of(tensor.op.name, depth)
            if source != target:
                edges.setdefault((source, target), set()).add(op.name)
    variables = collections.Counter(scope_of(v.op.name, depth) for v in graph.get_collection("variables"))
    return dict(ops), dict(variables), edges


def columns(nodes, edges) -> dict:
    """Node -> column: the longest path into it (back edges of a cycle are ignored)."""
    into = collections.defaultdict(list)
    for source, target in edges:
        into[target].append(source)
    column, visiting = {}, set()

    def place(node):
        if node not in column:
            visiting.add(node)
            column[node] = 1 + max((place(s) for s in into[node] if s not in visiting), default=-1)
            visiting.discard(node)
        return column[node]

    for node in nodes:
        place(node)
    return column


def _rows(nodes, edges, column) -> dict:
    """Node -> row within its column, ordered by the mean row of the nodes feeding it."""
    by_column = collections.defaultdict(list)
    for node in nodes:  # graph order first: inputs are created before what reads them
        by_column[column[node]].append(node)
    row = {}
    for c in sorted(by_column):
        def feeding(node):
            rows = [row[s] for s, t in edges if t == node and s in row]
            return sum(rows) / len(rows) if rows else len(row)
        for i, node in enumerate(sorted(by_column[c], key=feeding)):
            row[node] = i - (len(by_column[c]) - 1) / 2
    return row


def draw(graph, new=None, title: str | None = None, depth: int = 1) -> Figure:
    """The graph collapsed to its name scopes; ``new`` (a ``listing.watch`` result) highlighted."""
    ops, variables, edges = collapse(graph, depth)
    fresh_ops = {name for name, _ in new.ops} if new is not None else set()
    fresh = {scope_of(name, depth) for name in fresh_ops}
    nodes = list(ops)
    column = columns(nodes, edges)
    row = _rows(nodes, edges, column)
    width = max(column.values(), default=0) + 1
    height = max(collections.Counter(column.values()).values(), default=1)
    figure = Figure(figsize=(max(6.0, 1.9 * width), max(2.2, 0.75 * height + 0.8)))
    ax = figure.subplots()
    ax.set_xlim(-0.7, width - 0.3)
    ax.set_ylim(-height / 2 - 0.2, height / 2 + 0.2)
    ax.axis("off")
    for (source, target), readers in edges.items():
        added = bool(readers & fresh_ops)
        ax.annotate("", xy=(column[target], -row[target]), xytext=(column[source], -row[source]),
                    arrowprops=dict(arrowstyle="-|>", color="#e65100" if added else "#7a8699",
                                    lw=1.6 if added else 1.0, shrinkA=24, shrinkB=24,
                                    connectionstyle="arc3,rad=0.08"))
    for node in nodes:
        label = f"{node}\n{ops[node]} ops" + (f", {variables[node]} var" if variables.get(node) else "")
        ax.text(column[node], -row[node], label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round,pad=0.4", fc=NEW if node in fresh else OLD,
                          ec="#e65100" if node in fresh else "#5b6b80"))
    if title:
        ax.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure
