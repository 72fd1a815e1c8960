# case: vulnerable CWE-601
# Switching language sends the user back to the Referer header.
from django.http import HttpResponseRedirect


def back_to(request, fallback="/"):
    return request.META.get("HTTP_REFERER", fallback)


def switch_language(request, code):
    request.session["lang"] = code if code in ("en", "de") else "en"
    return HttpResponseRedirect(back_to(request))
