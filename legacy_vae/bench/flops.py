"""FLOPs of one training step of the MLP models, counted analytically.

Only the matrix multiplications are counted (2 FLOPs per multiply-add); the
element-wise work (activations, the loss, Adam) is O(parameters + activations),
well under 1% here. For a dense layer with fan-in ``i``, fan-out ``o`` and a
batch of ``B``:

    forward            2 B i o
    weight gradient    2 B i o
    input gradient     2 B i o   (not for the first layer: the data needs no gradient)

so a step costs 2 B (3 S - i0 o0), S = sum of i o over the layers.
"""
from __future__ import annotations

IMAGE = 784


def layer_shapes(model: str, code_size: int, hidden_size: int) -> list[tuple[int, int]]:
    """(fan-in, fan-out) of every matmul of one forward pass, in order, encoder first."""
    if model == "post":
        return [(IMAGE, hidden_size), (hidden_size, hidden_size),
                (hidden_size, code_size), (hidden_size, code_size),   # loc, scale
                (code_size, hidden_size), (hidden_size, hidden_size), (hidden_size, IMAGE)]
    if model == "slim":
        return [(IMAGE, hidden_size), (hidden_size, 2 * code_size),  # mu_logvar
                (code_size, hidden_size), (hidden_size, IMAGE)]
    raise ValueError(f"no FLOP count for model {model!r}; expected 'post' or 'slim'")


def flops_per_step(model: str, batch_size: int, code_size: int, hidden_size: int) -> int:
    """Matmul FLOPs of one forward + backward pass over a batch."""
    shapes = layer_shapes(model, code_size, hidden_size)
    total = sum(i * o for i, o in shapes)
    first = shapes[0][0] * shapes[0][1]
    return 2 * batch_size * (3 * total - first)


def flops_for(config) -> int:
    return flops_per_step(config.model, config.batch_size, config.code_size, config.hidden_size)
