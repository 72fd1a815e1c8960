"""An interprocedural taint pass for Python written for this engine (standard library only).

It follows values through helper functions (with the caller's argument values), object fields,
dicts and lists, module constants and string building; folds constant conditions; sees
sanitisers, allow-lists and validators wherever they are applied. ``runner.main`` is what runs in
the sandbox (see ``sandbox.analysis.dataflow`` for how it gets there).
"""
