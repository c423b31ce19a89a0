"""What a graph gained between two points: new ops and new variables.

A notebook helper for building a model one piece at a time (named ``listing``,
not ``inspect``, so that it does not hide the standard library's module):

    with listing.watch(graph) as gained:
        with graph.as_default():
            loc, scale = make_encoder(x)
    print(gained)          # +N ops, +6 variables: encoder/dense/kernel (784, 200), ...

Ops are grouped by the first two levels of their name scope
(``encoder/dense/kernel/Initializer/...`` counts under ``encoder/dense``) so a
layer reads as one line, with the op types that compute something (variable
plumbing and initializers left out); variables are listed one per line with
their shape and whether they are trainable.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses

import tensorflow as tf

v1 = tf.compat.v1


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The names of a graph's ops and global variables at one moment."""

    ops: frozenset
    variables: frozenset


@dataclasses.dataclass(frozen=True)
class Variable:
    name: str          # without the ":0"
    shape: tuple
    trainable: bool

    @property
    def scope(self) -> str:
        return self.name.rpartition("/")[0]


# Op types that only hold, read, initialize or name values: left out of the summaries.
_PLUMBING = {"Const", "Identity", "VarHandleOp", "VarIsInitializedOp", "AssignVariableOp",
             "ReadVariableOp", "NoOp"}


_VARIABLE_HELPERS = {"Initializer", "IsInitialized", "Read", "Assign"}


def _computing_types(ops) -> list:
    """The distinct op types that compute, in order of appearance."""
    kinds = []
    for name, kind in ops:
        if kind not in _PLUMBING and "/Initializer/" not in name and kind not in kinds:
            kinds.append(kind)
    return kinds


def snapshot(graph) -> Snapshot:
    return Snapshot(frozenset(op.name for op in graph.get_operations()),
                    frozenset(v.op.name for v in graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)))


def variables(graph) -> tuple:
    """All global variables of ``graph``, in creation order."""
    trainable = {v.op.name for v in graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)}
    return tuple(Variable(v.op.name, tuple(v.shape.as_list()), v.op.name in trainable)
                 for v in graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES))


@dataclasses.dataclass(frozen=True)
class Gained:
    """The ops (name, type) and variables added to a graph since a snapshot."""

    ops: tuple
    variables: tuple
    scopes: frozenset = frozenset()  # the variable scopes of the whole graph, for grouping ops

    def op_scopes(self, depth: int = 2) -> dict:
        """Scope -> the (name, type) of the new ops in it.

        An op belongs to the longest variable scope its name starts with (so a
        layer's MatMul, its variables' initializers and reads are one group);
        other ops to the first ``depth`` levels of their name scope.
        """
        groups = collections.defaultdict(list)
        scopes = sorted(self.scopes, key=len, reverse=True)
        for name, kind in self.ops:
            owner = next((scope for scope in scopes if name.startswith(scope + "/")), None)
            if owner is None:
                parts = name.split("/")
                # A top-level variable's own helper ops (v/Read, v/Initializer, ...) count under v.
                for i, part in enumerate(parts[1:], 1):
                    if part in _VARIABLE_HELPERS:
                        parts = parts[:i + 1]
                        break
                owner = "/".join(parts[:max(1, min(depth, len(parts) - 1))])
            groups[owner].append((name, kind))
        return dict(groups)

    def op_types(self) -> dict:
        return dict(collections.Counter(kind for _, kind in self.ops))

    def __str__(self) -> str:
        return self.summary()

    def summary(self, depth: int = 2, list_ops: int = 8) -> str:
        """The text table: variables one per line, ops listed if few, else grouped by scope."""
        lines = [f"+{len(self.ops)} ops, +{len(self.variables)} variables"]
        if self.variables:
            width = max(len(v.name) for v in self.variables)
            lines.append("variables:")
            lines += [f"  {v.name:<{width}}  {str(v.shape):<12} {'trainable' if v.trainable else ''}".rstrip()
                      for v in self.variables]
        if self.ops and len(self.ops) <= list_ops:
            lines.append("ops:")
            lines += [f"  {name}  ({kind})" for name, kind in self.ops]
        elif self.ops:
            lines.append("ops by name scope:")
            groups = self.op_scopes(depth)
            width = max(len(scope) for scope in groups)
            for scope, ops in groups.items():
                kinds = _computing_types(ops)
                lines.append(f"  {scope:<{width}}  {len(ops):>4} ops  {', '.join(kinds)}".rstrip())
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython shows the table as the cell's value
        printer.text(str(self))


def gained(graph, since: Snapshot) -> Gained:
    """Everything ``graph`` has now that it did not have at ``since``, in creation order."""
    ops = tuple((op.name, op.type) for op in graph.get_operations() if op.name not in since.ops)
    everything = variables(graph)
    new = tuple(v for v in everything if v.name not in since.variables)
    return Gained(ops, new, frozenset(v.scope for v in everything if v.scope))


class _Watch:
    """Filled in when the ``with`` block ends; prints like :class:`Gained`."""

    def __init__(self):
        self.result = None

    def __getattr__(self, name):
        if name == "result" or self.result is None:
            raise AttributeError(f"{name}: the watched block has not finished yet")
        return getattr(self.result, name)

    def __str__(self):
        return str(self.result) if self.result is not None else "(still watching)"

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


@contextlib.contextmanager
def watch(graph):
    """``with watch(graph) as gained:`` -- afterwards ``gained`` holds what the block added."""
    before = snapshot(graph)
    handle = _Watch()
    try:
        yield handle
    finally:
        handle.result = gained(graph, before)
