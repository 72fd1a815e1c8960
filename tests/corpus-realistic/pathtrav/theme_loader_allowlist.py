# case: safe CWE-22
# The cookie's theme must be one of the installed themes before a path is built.
from pathlib import Path

from django.http import HttpResponse

THEME_CONFIG = {"base_dir": "/srv/app/themes", "suffix": ".css"}
INSTALLED_THEMES = ("light", "dark", "contrast")


def theme_file(theme):
    base = Path(THEME_CONFIG["base_dir"])
    return base / (theme + THEME_CONFIG["suffix"])


def theme_css(request):
    theme = request.COOKIES.get("theme", "light")
    if theme not in INSTALLED_THEMES:
        theme = "light"
    css = theme_file(theme).read_text()
    return HttpResponse(css, content_type="text/css")
