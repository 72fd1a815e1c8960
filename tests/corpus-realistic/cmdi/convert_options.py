# case: vulnerable CWE-78
# Image conversion: user options are collected in a dict and joined into a shell line.
import subprocess

from django.http import JsonResponse


def _options_from(request):
    opts = {}
    opts["resize"] = request.GET.get("size", "800x600")
    opts["quality"] = request.GET.get("quality", "85")
    return opts


def _command_line(source, opts):
    parts = ["convert", source]
    for name, value in opts.items():
        parts.append("-%s %s" % (name, value))
    parts.append("/tmp/out.jpg")
    return " ".join(parts)


def convert_view(request, image_id):
    source = "/srv/media/%d.png" % int(image_id)
    line = _command_line(source, _options_from(request))
    proc = subprocess.Popen(line, shell=True)
    proc.wait()
    return JsonResponse({"exit": proc.returncode})
