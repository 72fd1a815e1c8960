"""Unsafe deserialization samples (py-unsafe-deserialization)."""
import base64
import json
import pickle

import yaml
from django.http import JsonResponse
from flask import Flask, request

app = Flask(__name__)


@app.post("/state")
def restore_state():
    blob = base64.b64decode(request.cookies["state"])
    # ruleid: py-unsafe-deserialization
    state = pickle.loads(blob)
    return {"keys": sorted(state)}


@app.post("/state/json")
def restore_state_json():
    blob = base64.b64decode(request.cookies["state"])
    # ok: py-unsafe-deserialization
    state = json.loads(blob)
    return {"keys": sorted(state)}


@app.post("/config")
def upload_config():
    text = request.get_data(as_text=True)
    # ruleid: py-unsafe-deserialization
    config = yaml.load(text, Loader=yaml.Loader)
    # ok: py-unsafe-deserialization
    safe = yaml.load(text, Loader=yaml.SafeLoader)
    # ok: py-unsafe-deserialization
    same = yaml.safe_load(text)
    return {"config": config, "safe": safe, "same": same}


def django_upload(request):
    # ruleid: py-unsafe-deserialization
    model = pickle.load(request.FILES["model"])
    return JsonResponse({"type": type(model).__name__})


def load_cache(path):
    with open(path, "rb") as handle:
        data = handle.read()
    # ruleid: py-unsafe-deserialization
    return pickle.loads(data)


def build_cache():
    # ok: py-unsafe-deserialization
    return pickle.loads(pickle.dumps({"warm": True}))
