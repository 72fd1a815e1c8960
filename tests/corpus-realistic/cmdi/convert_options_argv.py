# case: safe CWE-78
# Same conversion, but the options go to the program as separate argv entries (no shell).
import subprocess

from django.http import JsonResponse


def _options_from(request):
    opts = {}
    opts["resize"] = request.GET.get("size", "800x600")
    opts["quality"] = request.GET.get("quality", "85")
    return opts


def _argv(source, opts):
    argv = ["convert", source]
    for name, value in opts.items():
        argv.extend(["-" + name, value])
    argv.append("/tmp/out.jpg")
    return argv


def convert_view(request, image_id):
    source = "/srv/media/%d.png" % int(image_id)
    proc = subprocess.Popen(_argv(source, _options_from(request)))
    proc.wait()
    return JsonResponse({"exit": proc.returncode})
