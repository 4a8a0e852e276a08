"""Training the paper's networks with PyTorch, and what a run records.

Modules: ``networks``, ``runs``, ``setup``, ``adam``, ``moments`` (fast path),
``samples`` (sample path), ``recording``, ``training`` (``train``, ``train_many``),
``history``. Importing this package does not import its modules (nor torch).
"""
