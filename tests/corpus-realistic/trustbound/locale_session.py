# case: safe CWE-501
# The locale is stored only when it is one of the supported locales; otherwise the default.
from django.conf import settings
from django.http import HttpResponseRedirect

SUPPORTED = ("en", "de", "fr")


def chosen_locale(request):
    wanted = request.GET.get("lang", "en")
    return wanted if wanted in SUPPORTED else settings.LANGUAGE_CODE


def set_locale(request):
    request.session["locale"] = chosen_locale(request)
    return HttpResponseRedirect("/")
