# case: vulnerable CWE-502
# ML model upload: the file is loaded with pickle.load straight from the upload stream.
import pickle

from django.http import JsonResponse


class ModelRegistry:
    def __init__(self):
        self.models = {}

    def register(self, name, stream):
        self.models[name] = pickle.load(stream)
        return self.models[name]


REGISTRY = ModelRegistry()


def upload_model(request):
    upload = request.FILES["model"]
    model = REGISTRY.register(upload.name, upload)
    return JsonResponse({"type": type(model).__name__})
