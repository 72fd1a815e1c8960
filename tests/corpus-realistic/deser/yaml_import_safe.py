# case: safe CWE-502
# Same importer with yaml.SafeLoader.
import yaml
from django.http import JsonResponse


class PipelineImporter:
    loader = yaml.SafeLoader

    def load(self, text):
        return yaml.load(text, Loader=self.loader)


def import_pipeline(request):
    spec = PipelineImporter().load(request.FILES["pipeline"].read())
    return JsonResponse({"stages": len(spec.get("stages", []))})
