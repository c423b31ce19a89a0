"""A picture of the fast engine's graph: the model's graph, and what ``engine.fast.build`` adds.

``picture.draw`` collapses a graph by top-level name scope. The engine's
``train_steps`` is a ``tf.compat.v1.while_loop``, which TensorFlow 2 keeps as
a function in the graph's library, so its body (the towers, the gradients,
Adam's step) is no op of the graph and a plain ``picture.draw`` shows one
``train_steps`` box. :func:`draw` draws the body too: it hands
``picture.draw`` a stand-in graph whose ops are the engine graph's ops and
the body's nodes, each renamed ``<box>/<name>``, with the body's arguments
drawn as coming from the loop op. Boxes the model's own graph does not have
are highlighted.
"""
from __future__ import annotations

from types import SimpleNamespace

from legacy_vae.graph import picture

MODEL_BOXES = {"encoder": "encoder", "decoder": "decoder", "decoder_1": "decoder\n(prior samples)",
               "loss": "loss", "train": "train_op (Adam)", "optimizer": "optimizer"}


def _outer_box(name: str, model_ops: set) -> str:
    top = name.split("/")[0]
    if name not in model_ops:
        return "train_steps\n(while_loop)" if top == "train_steps" else "tf.data\niterator"
    return MODEL_BOXES.get(top, "x, eps,\nlog p(x|z), KL")


def _body_box(name: str) -> str:
    top = name.split("/")[0]
    if top.startswith("tower_"):
        return f"loop: {top}\n(encoder, decoder)"
    if top == "gradients":
        return "loop: gradients"
    if top == "Adam":
        return "loop: Adam step\n(the same slots)"
    if top.startswith(("IteratorGetNext", "split", "stateless_random_normal")):
        return "loop: next batch,\nnoise, split"
    if top.startswith(("concat", "Mean", "elbo", "kl", "loss", "reconstruction", "sub", "Neg")):
        return "loop: concat,\nbatch-mean loss"
    if top in MODEL_BOXES:  # one tower: the model's own scopes, called again in the body
        return f"loop: {top}"
    return "loop: step count,\nNaN check"


def draw(engine, model, title: str | None = None, loop_name: str = "train_steps/while"):
    """``engine`` (a ``fast.build`` graph) with the while loop's body, what ``model``'s graph lacks highlighted."""
    model_ops = {op.name for op in model.get_operations()}
    box_of, edges = {}, []
    for op in engine.get_operations():
        box_of[op.name] = _outer_box(op.name, model_ops)
        edges += [(tensor.op.name, op.name) for tensor in op.inputs]
    loop = engine.get_operation_by_name(loop_name)
    library = {f.signature.name: f for f in engine.as_graph_def().library.function}
    body = library[loop.get_attr("body").name]
    arguments = {arg.name for arg in body.signature.input_arg}
    for node in body.node_def:
        box_of["body/" + node.name] = _body_box(node.name)
        for ref in node.input:
            if not ref.startswith("^"):  # control inputs are left out, as TensorBoard does
                source = ref.split(":")[0]
                edges.append((loop.name if source in arguments else "body/" + source, "body/" + node.name))
    ops = {name: SimpleNamespace(name=f"{box}/{name}", inputs=[]) for name, box in box_of.items()}
    for source, target in edges:
        if source in ops:
            ops[target].inputs.append(SimpleNamespace(op=ops[source]))
    view = SimpleNamespace(get_operations=lambda: list(ops.values()),
                           get_collection=lambda key: [SimpleNamespace(op=ops[v.op.name])
                                                       for v in engine.get_collection(key)])
    added = SimpleNamespace(ops=[(op.name, "") for name, op in ops.items() if name not in model_ops])
    return picture.draw(view, new=added, title=title)
