"""Looking at a TF1 graph, for notebooks and learners: nothing here trains.

- ``listing``: a graph's variables and ops by name scope, and what a step added;
- ``picture``: the graph collapsed by name scope, as TensorBoard's graph view
  shows it, drawn inline with matplotlib;
- ``loop_view``: the fast engine's graph, its while loop's body included, with
  what the engine adds to the model's graph highlighted.
"""
