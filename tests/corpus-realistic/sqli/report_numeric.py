# case: safe CWE-89
# The report's year is converted to int in a parsing helper before it is formatted in.
import sqlite3

from django.http import JsonResponse


def parse_year(raw):
    year = int(raw)
    if not 2000 <= year <= 2100:
        raise ValueError(raw)
    return year


def yearly_report(request):
    year = parse_year(request.GET.get("year", "2024"))
    conn = sqlite3.connect("/srv/app/sales.db")
    sql = "SELECT month, SUM(total) FROM sales WHERE year = %d GROUP BY month" % year
    rows = conn.execute(sql).fetchall()
    return JsonResponse({"rows": rows})
