# case: safe CWE-79
# Same fragment built with format_html for every option.
from django.http import HttpResponse
from django.utils.html import format_html

SUGGESTIONS = ["apple", "apricot", "banana"]


def option_html(value, label):
    return format_html('<option value="{}">{}</option>', value, label)


def suggest(request):
    term = request.GET.get("term", "")
    options = [option_html(s, s) for s in SUGGESTIONS if s.startswith(term)]
    options.insert(0, option_html(term, "Search for: " + term))
    return HttpResponse("\n".join(options))
