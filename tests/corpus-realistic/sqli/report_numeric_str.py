# case: vulnerable CWE-89
# Looks validated, but the helper only strips whitespace; the year stays a string.
import sqlite3

from django.http import JsonResponse


def parse_year(raw):
    return raw.strip()


def yearly_report(request):
    year = parse_year(request.GET.get("year", "2024"))
    conn = sqlite3.connect("/srv/app/sales.db")
    sql = "SELECT month, SUM(total) FROM sales WHERE year = %s GROUP BY month" % year
    rows = conn.execute(sql).fetchall()
    return JsonResponse({"rows": rows})
