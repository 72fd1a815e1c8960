# case: vulnerable CWE-502
# A notebook service restores a user's saved session state with dill from the request body.
import dill
from flask import Flask, request

app = Flask(__name__)


class NotebookSession:
    @classmethod
    def restore(cls, blob):
        state = dill.loads(blob)
        session = cls()
        session.__dict__.update(state)
        return session


@app.post("/notebooks/restore")
def restore_notebook():
    nb = NotebookSession.restore(request.data)
    return {"cells": len(getattr(nb, "cells", []))}
