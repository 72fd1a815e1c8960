# case: safe CWE-601
# Same switch; the Referer is only used when it points at this host.
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def back_to(request, fallback="/"):
    target = request.META.get("HTTP_REFERER", fallback)
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = fallback
    return target


def switch_language(request, code):
    request.session["lang"] = code if code in ("en", "de") else "en"
    return HttpResponseRedirect(back_to(request))
