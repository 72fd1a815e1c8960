# case: safe CWE-611
# The legacy feed is parsed with defusedxml, which refuses entities and DTDs.
from defusedxml import ElementTree
from django.http import JsonResponse


class LegacyFeed:
    def items(self, data):
        return [el.text for el in ElementTree.fromstring(data).iter("item")]


def legacy_feed(request):
    feed = LegacyFeed()
    return JsonResponse({"items": feed.items(request.body)})
