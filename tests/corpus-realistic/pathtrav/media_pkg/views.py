from django.http import FileResponse

from .storage import MediaStorage

storage = MediaStorage()


def media(request):
    relative = request.GET["file"]
    return FileResponse(storage.open(relative))
