# case: safe CWE-643
# Category and brand must come from the known values before the XPath is built.
from django.http import HttpResponseBadRequest, JsonResponse
from lxml import etree

CATALOG = etree.parse("/srv/app/catalog.xml")
CATEGORIES = {"books", "music", "games"}
BRANDS = {"acme", "globex", "any"}


def build_query(criteria):
    return "/catalog/product[category='{category}' and brand='{brand}']/name".format(**criteria)


def products(request):
    category = request.GET.get("category", "books")
    brand = request.GET.get("brand", "any")
    if category not in CATEGORIES or brand not in BRANDS:
        return HttpResponseBadRequest("unknown filter")
    names = [n.text for n in CATALOG.xpath(build_query({"category": category, "brand": brand}))]
    return JsonResponse({"products": names})
