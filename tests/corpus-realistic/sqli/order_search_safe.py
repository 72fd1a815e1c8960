# case: safe CWE-89
# Same search: the term is a bound parameter and the sort key is mapped through a fixed dict.
from django.db import connection
from django.http import JsonResponse

SORT_COLUMNS = {"id": "id", "total": "total", "newest": "created_at DESC"}


def search_orders(term, order_by):
    column = SORT_COLUMNS.get(order_by, "id")
    query = f"SELECT id, total FROM shop_order WHERE customer LIKE %s ORDER BY {column}"
    with connection.cursor() as cursor:
        cursor.execute(query, ["%" + term + "%"])
        return cursor.fetchall()


def orders(request):
    term = request.GET.get("q", "")
    order_by = request.GET.get("sort", "id")
    return JsonResponse({"orders": search_orders(term, order_by)})
