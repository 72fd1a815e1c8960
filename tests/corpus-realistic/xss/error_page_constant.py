# case: safe CWE-79
# The error page only reports the status; the requested path is logged, not echoed.
import logging

from django.http import HttpResponse

log = logging.getLogger(__name__)
MESSAGES = {"denied": "<p>You may not open this page ({code}).</p>"}


def message(kind, **values):
    return MESSAGES[kind].format(**values)


def denied(request):
    log.info("denied access to %s", request.GET.get("next", "/"))
    return HttpResponse(message("denied", code=403), status=403)
