# case: safe CWE-502
# Notebook state is restored from JSON.
import json

from flask import Flask, request

app = Flask(__name__)


class NotebookSession:
    @classmethod
    def restore(cls, blob):
        state = json.loads(blob)
        session = cls()
        session.__dict__.update(state)
        return session


@app.post("/notebooks/restore")
def restore_notebook():
    nb = NotebookSession.restore(request.data)
    return {"cells": len(getattr(nb, "cells", []))}
