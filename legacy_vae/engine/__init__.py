"""The engine that trains the graph models fast and safely, built around them.

It depends on legacy_vae.models and never the reverse: ``fast.build`` opens a
graph with a ``tf.data`` input (``pipeline``, in the DataSet's own batch
order), has the model file build into it (``make_model``), and adds
``train_steps``, a while loop of many
``train_op`` steps per ``session.run`` with the batch cut into towers.
``loop`` runs one model in a ``MonitoredSession`` with ``hooks`` (stop,
NaN guard, checkpoints via ``saving``, summaries via ``events``, validation and
figures via ``monitor``); ``parallel`` trains several models at once in
threads; ``threads`` chooses their thread pools; ``model_data`` prepares the
images each model trains on. A test shows it ends with the weights of
legacy_vae.models.classic, the seeds' plain loop.
"""
