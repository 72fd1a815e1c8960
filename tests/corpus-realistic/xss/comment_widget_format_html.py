# case: safe CWE-79
# Same preview, built with format_html, which escapes its arguments.
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.html import format_html


def render_preview(text):
    return format_html("<div class='preview'>{}</div>", text)


def preview(request):
    text = request.POST.get("comment", "")
    html = render_to_string("comments/preview.html", {"preview": render_preview(text)})
    return HttpResponse(html)
