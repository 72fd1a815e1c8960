# case: safe CWE-643
# Same feed, filtered in Python after a constant XPath.
from django.http import JsonResponse
from lxml import etree


def feed_items(request):
    tree = etree.parse("/srv/app/feed.xml")
    wanted = request.GET.get("category", "news")
    items = tree.xpath("//item")
    titles = [i.findtext("title") for i in items if i.findtext("category") == wanted]
    return JsonResponse({"titles": titles})
