# case: safe CWE-22
# The project is looked up by primary key; its folder name comes from the database record.
import os
import shutil

from django.conf import settings
from django.http import FileResponse
from django.shortcuts import get_object_or_404

from .models import Project


def project_dir(project):
    return os.path.join(settings.MEDIA_ROOT, "projects", project.folder)


def export_project(request, pk):
    project = get_object_or_404(Project, pk=int(pk))
    archive = shutil.make_archive("/tmp/export", "zip", project_dir(project))
    return FileResponse(open(archive, "rb"))
