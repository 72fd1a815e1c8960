# case: vulnerable CWE-89
# Django view: the sort column and search term are formatted into a raw query in a service.
from django.db import connection
from django.http import JsonResponse


def search_orders(term, order_by):
    query = f"SELECT id, total FROM shop_order WHERE customer LIKE '%{term}%' ORDER BY {order_by}"
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchall()


def orders(request):
    term = request.GET.get("q", "")
    order_by = request.GET.get("sort", "id")
    return JsonResponse({"orders": search_orders(term, order_by)})
