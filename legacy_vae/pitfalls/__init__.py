"""The classic Jupyter pitfalls of TF1 graph mode, each raised for real and then avoided.

A notebook keeps one Python process alive, and TF1 keeps one global default
graph in it, so re-running a cell adds to what earlier runs built. Each
function rebuilds one pitfall in a graph of its own and returns an
:class:`Outcome` (the exception TensorFlow raised, verbatim, or counts and
names); its ``*_fix`` partner applies the cure and returns what happened then.
Notebook 04 walks through them in this order:

    reruns      re-running a variable cell; unnamed ops piling up
    resets      what reset_default_graph leaves behind: tensors, sessions, the seed; resetting inside a nesting
    templates   sharing weights, a uniquified scope that a checkpoint does not know, reuse=True too early
    running     initializers and Adam's slots, merge_all's stale summaries, ops made after finalize
    eager       a placeholder in eager mode; disable_eager_execution() too late (in a child process)

The cure for most of them is the pattern the whole package follows:

    graph = tf.Graph()
    with graph.as_default():          # every op and variable goes into `graph`
        ...build...                   # the seed, the optimizer, the Saver and the initializer included
    graph.finalize()                  # optional: later op creation is an error
    with tf.compat.v1.Session(graph=graph) as session:
        ...run...

None of them changes the caller's state: the ones that reset the default
graph run in a worker thread, the one that switches eager mode off in a
child process.
"""
from legacy_vae.pitfalls.eager import (eager_disabled_too_late, eager_disabled_too_late_fix,
                                       placeholder_in_eager_mode, placeholder_in_eager_mode_fix,
                                       run_in_fresh_python)
from legacy_vae.pitfalls.outcome import Outcome
from legacy_vae.pitfalls.reruns import (ops_pile_up, ops_pile_up_fix, reset_at_top_of_cell,
                                        variable_already_exists, variable_already_exists_fix)
from legacy_vae.pitfalls.resets import (reset_inside_nesting, reset_inside_nesting_fix, seed_lost_after_reset,
                                        seed_lost_after_reset_fix, session_from_before_reset,
                                        session_from_before_reset_fix, tensor_from_before_reset,
                                        tensor_from_before_reset_fix)
from legacy_vae.pitfalls.running import (init_before_optimizer, init_before_optimizer_fix,
                                         monitored_session_finalizes, monitored_session_finalizes_fix,
                                         ops_added_in_loop, ops_added_in_loop_fix, stale_summaries,
                                         stale_summaries_fix, uninitialized_variable, uninitialized_variable_fix)
from legacy_vae.pitfalls.templates import (network_called_twice, network_called_twice_fix,
                                           restore_after_uniquified_scope, restore_after_uniquified_scope_fix,
                                           reuse_missing_variable, reuse_missing_variable_fix,
                                           template_created_twice, template_created_twice_fix,
                                           variable_in_template, variable_in_template_fix)

# Each pitfall with its fix, in the order of notebook 04.
PITFALLS = {
    pitfall.__name__: (pitfall, fix) for pitfall, fix in [
        (variable_already_exists, variable_already_exists_fix),
        (ops_pile_up, ops_pile_up_fix),
        (tensor_from_before_reset, tensor_from_before_reset_fix),
        (session_from_before_reset, session_from_before_reset_fix),
        (seed_lost_after_reset, seed_lost_after_reset_fix),
        (reset_inside_nesting, reset_inside_nesting_fix),
        (network_called_twice, network_called_twice_fix),
        (template_created_twice, template_created_twice_fix),
        (restore_after_uniquified_scope, restore_after_uniquified_scope_fix),
        (reuse_missing_variable, reuse_missing_variable_fix),
        (variable_in_template, variable_in_template_fix),
        (uninitialized_variable, uninitialized_variable_fix),
        (init_before_optimizer, init_before_optimizer_fix),
        (stale_summaries, stale_summaries_fix),
        (ops_added_in_loop, ops_added_in_loop_fix),
        (monitored_session_finalizes, monitored_session_finalizes_fix),
        (placeholder_in_eager_mode, placeholder_in_eager_mode_fix),
        (eager_disabled_too_late, eager_disabled_too_late_fix),
    ]
}

__all__ = ["Outcome", "PITFALLS", "run_in_fresh_python", "reset_at_top_of_cell", *PITFALLS,
           *(fix.__name__ for _, fix in PITFALLS.values())]
