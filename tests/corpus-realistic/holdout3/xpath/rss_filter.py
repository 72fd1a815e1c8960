# case: vulnerable CWE-643
# RSS items are filtered by category with an XPath assembled in a query builder class.
from django.http import JsonResponse
from lxml import etree


class ItemQuery:
    def __init__(self):
        self.conditions = []

    def where(self, field, value):
        self.conditions.append("%s='%s'" % (field, value))
        return self

    def build(self):
        return "//item[" + " and ".join(self.conditions) + "]/title/text()"


def feed_items(request):
    tree = etree.parse("/srv/app/feed.xml")
    query = ItemQuery().where("category", request.GET.get("category", "news")).build()
    return JsonResponse({"titles": tree.xpath(query)})
