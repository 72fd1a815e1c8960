# case: safe CWE-614
# A locale preference cookie set over HTTPS only.
from django.http import JsonResponse

LOCALES = ("en", "de", "fr")


def set_locale(request):
    locale = request.GET.get("locale", "en")
    response = JsonResponse({"locale": locale if locale in LOCALES else "en"})
    response.set_cookie("locale", locale if locale in LOCALES else "en", secure=True, samesite="Lax")
    return response
