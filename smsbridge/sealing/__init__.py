"""Reporters' numbers sealed, and the daemon as the only door to them.

- ``keys``: the daemon's key file; a number's token (keyed hash), sealed copy and mask.
- ``run``: the daemon seals a database written before sealed numbers, in batches.
- ``door``: an operator's command asks the daemon (its Unix socket) for what needs
  the keys: a typed number's token, a walk-in number sealed, numbers revealed.
- ``server``: the daemon's side of the door, each answer audited with the caller's
  login as the kernel gives it.

``store/sealed.py`` is how the database's columns hold them.
"""
