# case: safe CWE-502
# Model uploads are JSON weight tables, read with json.load.
import json

from django.http import JsonResponse


class ModelRegistry:
    def __init__(self):
        self.models = {}

    def register(self, name, stream):
        self.models[name] = json.load(stream)
        return self.models[name]


REGISTRY = ModelRegistry()


def upload_model(request):
    upload = request.FILES["model"]
    model = REGISTRY.register(upload.name, upload)
    return JsonResponse({"keys": len(model)})
