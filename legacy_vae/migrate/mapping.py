"""Which TF1 variable goes into which Keras 3 weight: an explicit map, or one worked out from TF1's names.

TF1 named variables by where they were made, ``scope/layer/variable``; the
families this understands:

    tf.layers           scope/dense/kernel, scope/dense_1/bias, scope/conv2d_2/kernel, ...
                        (an unnamed layer took its kind's name, then _1, _2, ... in the order made)
    tf_slim             scope/fc1/weights, scope/fc2/biases, scope/fully_connected_1/weights, ...
    tf.get_variable     scope/anything/W, scope/anything/b, ...

A checkpoint stores names sorted alphabetically, so the order the layers
were made in is read back from the names: within one scope, one queue per
family (``dense``, ``dense_1``, ``dense_2``...; ``fc1``, ``fc2``...).
The role of a variable (``kernel`` = ``weights`` = ``W``, ``bias`` =
``biases`` = ``b``, batch norm's four) is matched to the Keras weight's
own name. Keras names its layers with a counter shared by the whole process
(``dense_7`` today, ``dense_12`` after one more model), so Keras *names* are
never trusted; only its layer *order* and, for nested models, the model
names (``keras.Sequential(..., name="encoder")`` meets TF1's ``encoder/``).

Matching walks the Keras layers that hold weights, in order. For each, the
candidates are the heads of the queues (of its own scope, when a submodel
is named like one) whose variables have the layer's roles and shapes. One
candidate: matched, and its queue moves on. None or several: a problem,
with what was expected and what was found. All the problems are collected,
then raised at once (:class:`~legacy_vae.migrate.errors.MigrationError`).

An explicit ``name_map`` ``{keras weight path: checkpoint name}`` comes
first (paths as :func:`keras_weights` names them, e.g. ``encoder/dense_4/kernel``);
the layers it does not mention are matched automatically unless ``auto=False``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from legacy_vae.migrate.errors import MigrationError

ROLES = {"kernel": "kernel", "weights": "kernel", "w": "kernel", "filter": "kernel", "filters": "kernel",
         "depthwise_kernel": "depthwise_kernel", "depthwise_weights": "depthwise_kernel",
         "bias": "bias", "biases": "bias", "b": "bias",
         "gamma": "gamma", "beta": "beta", "moving_mean": "moving_mean", "moving_variance": "moving_variance",
         "embeddings": "embeddings"}
_NUMBERED = re.compile(r"^(.*?)(?:_(\d+)|(?<=[A-Za-z])(\d+))?$")


def role(name: str) -> str:
    """The normalized role of a variable's last name part (``weights`` -> ``kernel``)."""
    return ROLES.get(name.lower(), name)


def _shape(value) -> tuple:
    return tuple(int(d) for d in value.shape)


def _fmt(weights: dict) -> str:
    return ", ".join(f"{r} {list(s)}" for r, s in weights.items())


@dataclass
class Pair:
    """One Keras weight (its variable and path) and the TF1 variable name it takes its value from."""

    keras_path: str
    variable: object
    tf1_name: str


@dataclass
class _Tf1Layer:
    path: str                # scope/layer
    scope: str
    order: tuple             # (family, index): the order within its queue
    names: dict              # role -> full variable name
    shapes: dict             # role -> shape


def tf1_layers(source: dict) -> dict:
    """{(scope, family): [_Tf1Layer in the order they were made]} from {variable name: array}."""
    layers = {}
    for name, value in source.items():
        path, _, last = name.rpartition("/")
        layer = layers.setdefault(path, _Tf1Layer(path, path.rpartition("/")[0], (), {}, {}))
        layer.names[role(last)] = name
        layer.shapes[role(last)] = _shape(value)
    queues = {}
    for path, layer in layers.items():
        match = _NUMBERED.match(path.rpartition("/")[2])
        family, index = match.group(1), int(match.group(2) or match.group(3) or 0)
        layer.order = (family, index)
        queues.setdefault((layer.scope, family), []).append(layer)
    for queue in queues.values():
        queue.sort(key=lambda layer: layer.order[1])
    return queues


def keras_weights(model):
    """[(scope, layer, [(path, role, variable)])] for every layer that holds weights, in model order.

    ``scope`` is the tuple of enclosing submodel names; a path is
    ``submodel/.../layer/weight`` (e.g. ``encoder/dense_4/kernel``).
    """
    found = []

    def walk(layer, scope):
        for sub in getattr(layer, "layers", None) or []:
            if getattr(sub, "layers", None):
                walk(sub, scope + (sub.name,))
            elif sub.weights:
                prefix = "/".join(scope + (sub.name,))
                found.append((scope, sub, [(f"{prefix}/{v.name}", role(v.name), v) for v in sub.weights]))

    if getattr(model, "layers", None):
        walk(model, ())
    elif model.weights:
        found.append(((), model, [(f"{model.name}/{v.name}", role(v.name), v) for v in model.weights]))
    return found


def match(model, source: dict, name_map: dict | None = None, auto: bool = True,
          allow_unused: bool = False) -> list:
    """[Pair] for every weight of ``model``, from ``source`` {TF1 name: array}; or MigrationError listing all problems."""
    name_map = dict(name_map or {})
    layers = keras_weights(model)
    problems, pairs, used = [], [], {}
    by_path = {path: v for _, _, weights in layers for path, _, v in weights}

    for keras_path, tf1_name in name_map.items():
        if keras_path not in by_path:
            problems.append(f"name_map names {keras_path!r}, which is no weight of the model "
                            f"(its weights: {', '.join(by_path)})")
        elif tf1_name not in source:
            problems.append(f"name_map maps {keras_path} to {tf1_name!r}, which the checkpoint does not hold")
        elif tf1_name in used:
            problems.append(f"matched twice: {tf1_name} would go into both {used[tf1_name]} and {keras_path}")
        elif _shape(by_path[keras_path]) != _shape(source[tf1_name]):
            problems.append(f"shape mismatch: {keras_path} is {list(_shape(by_path[keras_path]))}, "
                            f"{tf1_name} is {list(_shape(source[tf1_name]))}")
        else:
            used[tf1_name] = keras_path
            pairs.append(Pair(keras_path, by_path[keras_path], tf1_name))

    queues = tf1_layers({name: value for name, value in source.items() if name not in used})
    for scope, layer, weights in layers:
        todo = [(path, r, v) for path, r, v in weights if path not in name_map]
        if not todo:
            continue
        if len(todo) < len(weights) or not auto:
            problems.extend(f"unmatched: {path} {list(_shape(v))} is not in name_map" for path, _, v in todo)
            continue
        wanted = {r: _shape(v) for _, r, v in todo}
        label = "/".join(scope + (layer.name,))
        heads = _heads(queues, scope)
        fits = [tf1 for tf1 in heads if tf1.shapes == wanted]
        if len(fits) == 1:
            chosen = fits[0]
            pairs.extend(Pair(path, v, chosen.names[r]) for path, r, v in todo)
        elif len(fits) > 1:
            problems.append(f"ambiguous: Keras layer {label} ({_fmt(wanted)}) fits {len(fits)} checkpoint layers "
                            f"equally: {', '.join(t.path for t in fits)}; name the Keras submodels like the TF1 "
                            f"scopes, or pass a name_map")
            continue
        else:
            chosen = _near_miss(heads, wanted)
            if chosen is None:
                seen = "; ".join(f"{t.path} ({_fmt(t.shapes)})" for t in heads) or "none left"
                problems.append(f"unmatched: Keras layer {label} ({_fmt(wanted)}) fits none of the next checkpoint "
                                f"layers in order: {seen}")
                continue
            problems.extend(_differences(label, wanted, chosen))
        queue = queues[(chosen.scope, chosen.order[0])]
        queue.remove(chosen)
        used.update({name: label for name in chosen.names.values()})

    left = sorted(name for queue in queues.values() for tf1 in queue for name in tf1.names.values()
                  if name not in used)
    if left and not allow_unused:
        problems.extend(f"unused: checkpoint variable {name} {list(_shape(source[name]))} matched no Keras weight"
                        for name in left)
    if problems:
        raise MigrationError(problems)
    return pairs


def _heads(queues: dict, scope: tuple) -> list:
    """The next layer of every queue; only the queues of ``scope`` when the Keras submodels name one."""
    heads = {key: queue[0] for key, queue in queues.items() if queue}
    if scope:
        named = "/".join(scope)
        mine = [layer for (tf1_scope, _), layer in heads.items()
                if tf1_scope == named or tf1_scope.endswith("/" + named) or tf1_scope == scope[-1]]
        if mine:
            return mine
    return list(heads.values())


def _near_miss(heads: list, wanted: dict):
    """The one head that is plainly meant but does not fit (same roles, or a subset of them), else None."""
    same_roles = [t for t in heads if set(t.shapes) == set(wanted)]
    if len(same_roles) == 1:
        return same_roles[0]
    subset = [t for t in heads if set(t.shapes) < set(wanted) and all(wanted[r] == s for r, s in t.shapes.items())]
    return subset[0] if len(subset) == 1 else None


def _differences(label: str, wanted: dict, tf1: _Tf1Layer) -> list:
    problems = []
    for r, shape in wanted.items():
        if r not in tf1.shapes:
            problems.append(f"missing weight: Keras {label}/{r} {list(shape)} has no counterpart; checkpoint "
                            f"layer {tf1.path} holds only {', '.join(tf1.names.values())}")
        elif tf1.shapes[r] != shape:
            problems.append(f"shape mismatch: Keras {label}/{r} is {list(shape)}, checkpoint "
                            f"{tf1.names[r]} is {list(tf1.shapes[r])}")
    return problems
