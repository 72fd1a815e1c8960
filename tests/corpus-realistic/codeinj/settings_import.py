# case: vulnerable CWE-95
# A Django admin tool imports settings written as Python literals by executing the upload.
from django.http import HttpResponse


class SettingsImporter:
    def __init__(self, text):
        self.text = text
        self.values = {}

    def apply(self):
        exec(self.text, {}, self.values)
        return self.values


def import_settings(request):
    upload = request.FILES["settings"].read().decode("utf-8")
    importer = SettingsImporter(upload)
    values = importer.apply()
    return HttpResponse("imported %d settings" % len(values))
