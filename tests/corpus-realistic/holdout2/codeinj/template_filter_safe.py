# case: safe CWE-94
# Snippets come from the server's own named templates; the user only picks the name.
from django.http import Http404, HttpResponse
from jinja2 import Environment

env = Environment(autoescape=True)
SNIPPETS = {"greeting": "Hello {{ name }}", "bye": "Goodbye {{ name }}"}


def render_snippet(source, **context):
    return env.from_string(source).render(**context)


def snippet_preview(request):
    key = request.POST.get("snippet", "greeting")
    if key not in SNIPPETS:
        raise Http404(key)
    return HttpResponse(render_snippet(SNIPPETS[key], name=request.user.get_username()))
