# case: vulnerable CWE-79
# Django: an error page puts the "next" parameter into an HttpResponse via a message dict.
from django.http import HttpResponse

MESSAGES = {"denied": "<p>You may not open <code>{target}</code>.</p>"}


def message(kind, **values):
    return MESSAGES[kind].format(**values)


def denied(request):
    target = request.GET.get("next", "/")
    return HttpResponse(message("denied", target=target), status=403)
