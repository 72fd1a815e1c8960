"""SQL injection samples (py-sql-injection)."""
import os
import sqlite3

import psycopg2.sql
import sqlalchemy
from django.db import connection
from django.db.models.expressions import RawSQL
from django.http import JsonResponse
from fastapi import Depends, FastAPI
from flask import Flask, request

app = Flask(__name__)
api = FastAPI()
db = sqlite3.connect("app.db")


@app.route("/users")
def list_users():
    name = request.args.get("name", "")
    cur = db.cursor()
    # ruleid: py-sql-injection
    cur.execute("SELECT id, email FROM users WHERE name = '" + name + "'")
    return {"users": cur.fetchall()}


@app.route("/users/search")
def search_users():
    term = request.args["q"]
    query = f"SELECT id FROM users WHERE email LIKE '%{term}%'"
    cur = db.cursor()
    # ruleid: py-sql-injection
    cur.execute(query)
    return {"ids": [row[0] for row in cur.fetchall()]}


@app.route("/users/safe")
def search_users_safe():
    term = request.args["q"]
    cur = db.cursor()
    # ok: py-sql-injection
    cur.execute("SELECT id FROM users WHERE email LIKE ?", (f"%{term}%",))
    return {"ids": [row[0] for row in cur.fetchall()]}


@app.route("/orders/<order_id>")
def get_order(order_id):
    cur = db.cursor()
    # ruleid: py-sql-injection
    cur.execute("SELECT * FROM orders WHERE id = %s" % order_id)
    return {"order": cur.fetchone()}


@app.route("/orders/by-number/<number>")
def get_order_by_number(number):
    cur = db.cursor()
    # ok: py-sql-injection
    cur.execute("SELECT * FROM orders WHERE id = %d" % int(number))
    return {"order": cur.fetchone()}


@app.post("/reports")
def report():
    body = request.get_json()
    column = body["sort"]
    cur = db.cursor()
    # ruleid: py-sql-injection
    cur.executemany("UPDATE reports SET seen = 1 ORDER BY {}".format(column), [])
    return {"ok": True}


@app.post("/reports/sorted")
def report_sorted():
    column = request.get_json()["sort"]
    stmt = psycopg2.sql.SQL("SELECT * FROM reports ORDER BY {}").format(
        # ok: py-sql-injection
        psycopg2.sql.Identifier(column)
    )
    cur = db.cursor()
    # ok: py-sql-injection
    cur.execute(stmt)
    return {"rows": cur.fetchall()}


def django_view(request):
    uid = request.GET.get("uid")
    with connection.cursor() as cursor:
        # ruleid: py-sql-injection
        cursor.execute(f"DELETE FROM sessions WHERE user_id = {uid}")
        # ok: py-sql-injection
        cursor.execute("DELETE FROM sessions WHERE user_id = %s", [uid])
    return JsonResponse({"ok": True})


def django_raw(request):
    from shop.models import Product

    category = request.POST["category"]
    # ruleid: py-sql-injection
    items = Product.objects.raw("SELECT * FROM shop_product WHERE category = '%s'" % category)
    # ok: py-sql-injection
    same = Product.objects.raw("SELECT * FROM shop_product WHERE category = %s", [category])
    # ruleid: py-sql-injection
    annotated = Product.objects.annotate(score=RawSQL("price * " + category, []))
    return JsonResponse({"n": len(list(items)) + len(list(same)) + annotated.count()})


@api.get("/items")
async def read_items(q: str, limit: int, engine=Depends(lambda: None)):
    with engine.connect() as conn:
        # ruleid: py-sql-injection
        rows = conn.execute(sqlalchemy.text(f"SELECT * FROM items WHERE title = '{q}'"))
        # ok: py-sql-injection
        safe = conn.execute(sqlalchemy.text("SELECT * FROM items WHERE title = :q"), {"q": q})
        # ok: py-sql-injection
        limited = conn.execute(sqlalchemy.text(f"SELECT * FROM items LIMIT {limit}"))
    return {"rows": list(rows) + list(safe) + list(limited)}


@api.get("/items/{item_id}")
async def read_item(item_id: int, pool=Depends(lambda: None)):
    # ok: py-sql-injection
    return await pool.fetchrow(f"SELECT * FROM items WHERE id = {item_id}")


async def by_env(pool):
    schema = os.environ["APP_SCHEMA"]
    # ruleid: py-sql-injection
    return await pool.fetch("SELECT * FROM " + schema + ".items")


def constant_query():
    table = "audit_log"
    cur = db.cursor()
    # ok: py-sql-injection
    cur.execute(f"SELECT count(*) FROM {table}")
    return cur.fetchone()
