"""The graph picture: name scopes collapsed to boxes, data edges between them, a step's additions marked."""
import tensorflow as tf

from legacy_vae.config import defaults
from legacy_vae.graph import listing, picture
from legacy_vae.models import post

v1 = tf.compat.v1


def chain():
    """x -> a/ -> b/, plus an initializer that reads nothing (a control-only op)."""
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None], name="x")
        with v1.name_scope("a"):
            y = tf.multiply(x, 2.0)
        with listing.watch(graph) as gained:
            with v1.variable_scope("b"):
                w = v1.get_variable("w", [], initializer=v1.ones_initializer())
                tf.add(y, w)
        v1.global_variables_initializer()
    return graph, gained


def test_collapse_counts_ops_and_variables_per_scope_and_keeps_data_edges_only():
    graph, _ = chain()
    ops, variables, edges = picture.collapse(graph)
    assert ops["x"] == 1 and ops["init"] == 1
    assert sum(ops.values()) == len(graph.get_operations())
    assert variables == {"b": 1}
    assert set(edges) == {("x", "a"), ("a", "b")}  # nothing into init: its inputs are control inputs
    assert picture.columns(list(ops), edges) == {"x": 0, "a": 1, "b": 2, "init": 0}


def test_columns_survive_a_cycle():
    assert picture.columns(["p", "q"], {("p", "q"): set(), ("q", "p"): set()}) in ({"p": 0, "q": 1},
                                                                                     {"p": 1, "q": 0})


def test_draw_marks_what_the_step_added():
    graph, gained = chain()
    figure = picture.draw(graph, new=gained, title="step b")
    texts = figure.axes[0].texts  # the boxes' labels and the arrows (annotations without text)
    boxes = {text.get_text().split("\n")[0]: text.get_bbox_patch().get_facecolor()
             for text in texts if text.get_bbox_patch() is not None}
    assert set(boxes) == {"x", "a", "b", "init"}
    new = tuple(int(255 * c) for c in boxes["b"][:3])
    assert new == tuple(int(picture.NEW[i:i + 2], 16) for i in (1, 3, 5))
    assert boxes["a"] != boxes["b"] and boxes["a"] == boxes["x"]
    arrows = [a for a in texts if a.get_text() == "" and getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == 2


def test_the_post_model_shows_its_scopes():
    ops, variables, edges = picture.collapse(post.build(defaults("post")).graph)
    assert {"encoder", "decoder", "decoder_1", "loss", "train"} <= set(ops)
    assert ("encoder", "train") in edges and ("decoder", "decoder_1") in edges
    assert variables["encoder"] == 8 + 16  # 4 kernels and 4 biases, and Adam's two slots for each
