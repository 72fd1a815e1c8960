# case: vulnerable CWE-89
# Tags are filtered with an IN list built by joining quoted values from a comma-separated parameter.
from django.db import connection
from django.http import JsonResponse


def in_clause(values):
    return "(" + ", ".join("'%s'" % v for v in values) + ")"


def tag_cloud(request):
    tags = request.GET.get("tags", "python").split(",")
    sql = "SELECT tag, COUNT(*) FROM blog_post_tags WHERE tag IN " + in_clause(tags) + " GROUP BY tag"
    with connection.cursor() as cur:
        cur.execute(sql)
        return JsonResponse({"counts": dict(cur.fetchall())})
