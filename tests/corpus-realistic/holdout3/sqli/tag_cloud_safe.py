# case: safe CWE-89
# Same filter with one placeholder per value.
from django.db import connection
from django.http import JsonResponse


def in_clause(count):
    return "(" + ", ".join(["%s"] * count) + ")"


def tag_cloud(request):
    tags = request.GET.get("tags", "python").split(",")
    sql = "SELECT tag, COUNT(*) FROM blog_post_tags WHERE tag IN " + in_clause(len(tags)) + " GROUP BY tag"
    with connection.cursor() as cur:
        cur.execute(sql, tags)
        return JsonResponse({"counts": dict(cur.fetchall())})
