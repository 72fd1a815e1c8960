# case: vulnerable CWE-22
# Django: a theme name from a cookie selects a CSS file via a settings-like dict of paths.
from pathlib import Path

from django.http import HttpResponse

THEME_CONFIG = {"base_dir": "/srv/app/themes", "suffix": ".css"}


def theme_file(theme):
    base = Path(THEME_CONFIG["base_dir"])
    return base / (theme + THEME_CONFIG["suffix"])


def theme_css(request):
    theme = request.COOKIES.get("theme", "light")
    css = theme_file(theme).read_text()
    return HttpResponse(css, content_type="text/css")
