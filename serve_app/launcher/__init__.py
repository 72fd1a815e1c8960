"""Starting and stopping a local service: embedded servers, a Ray head, the Serve deployment.

``up`` records what it started in ``<data dir>/run/``, so ``down`` stops exactly those processes
(by pid) and nothing else on the machine.
"""
