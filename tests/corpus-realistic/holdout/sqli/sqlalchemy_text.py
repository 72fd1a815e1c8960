# case: vulnerable CWE-89
# SQLAlchemy text() with an f-string filter built in a query helper.
from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine("sqlite:///app.db")


def product_query(category):
    return text(f"SELECT name, price FROM products WHERE category = '{category}'")


@app.get("/products")
def products():
    with engine.connect() as conn:
        rows = conn.execute(product_query(request.args.get("category", "all"))).fetchall()
    return jsonify([list(r) for r in rows])
