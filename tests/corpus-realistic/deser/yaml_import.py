# case: vulnerable CWE-502
# A Django admin view imports pipeline definitions from uploaded YAML with the full loader.
import yaml
from django.http import JsonResponse


class PipelineImporter:
    loader = yaml.Loader

    def load(self, text):
        return yaml.load(text, Loader=self.loader)


def import_pipeline(request):
    spec = PipelineImporter().load(request.FILES["pipeline"].read())
    return JsonResponse({"stages": len(spec.get("stages", []))})
