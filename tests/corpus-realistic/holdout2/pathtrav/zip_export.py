# case: vulnerable CWE-22
# A project export zips a folder named in the JSON body, resolved by a settings helper.
import os
import shutil

from django.conf import settings
from django.http import FileResponse


def project_dir(name):
    return os.path.join(settings.MEDIA_ROOT, "projects", name)


def export_project(request):
    payload = request.body.decode()
    name = payload.split("=", 1)[-1]
    archive = shutil.make_archive("/tmp/export", "zip", project_dir(name))
    return FileResponse(open(archive, "rb"))
