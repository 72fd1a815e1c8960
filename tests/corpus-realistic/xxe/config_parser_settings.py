# case: vulnerable CWE-611
# Parser options come from a settings dict that enables entity expansion for "legacy" feeds.
from lxml import etree
from django.http import JsonResponse

XML_OPTIONS = {"resolve_entities": True, "load_dtd": True, "huge_tree": False}


class LegacyFeed:
    def __init__(self, options):
        self.parser = etree.XMLParser(**options)

    def items(self, data):
        return [el.text for el in etree.fromstring(data, self.parser).iter("item")]


def legacy_feed(request):
    feed = LegacyFeed(XML_OPTIONS)
    return JsonResponse({"items": feed.items(request.body)})
