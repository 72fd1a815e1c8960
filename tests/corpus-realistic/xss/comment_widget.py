# case: vulnerable CWE-79
# Django: a comment preview is marked safe after being wrapped in a list of HTML parts.
from django.http import HttpResponse
from django.utils.safestring import mark_safe
from django.template.loader import render_to_string


def render_preview(text):
    parts = ["<div class='preview'>", text, "</div>"]
    return mark_safe("".join(parts))


def preview(request):
    text = request.POST.get("comment", "")
    html = render_to_string("comments/preview.html", {"preview": render_preview(text)})
    return HttpResponse(html)
