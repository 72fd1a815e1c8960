# case: safe CWE-95
# The same importer parses the upload with ast.literal_eval, which only accepts literals.
import ast

from django.http import HttpResponse


class SettingsImporter:
    def __init__(self, text):
        self.text = text
        self.values = {}

    def apply(self):
        parsed = ast.literal_eval(self.text)
        self.values.update(parsed)
        return self.values


def import_settings(request):
    upload = request.FILES["settings"].read().decode("utf-8")
    importer = SettingsImporter(upload)
    values = importer.apply()
    return HttpResponse("imported %d settings" % len(values))
