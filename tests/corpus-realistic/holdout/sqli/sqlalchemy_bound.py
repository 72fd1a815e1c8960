# case: safe CWE-89
# Same query with a bound parameter in text().
from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine("sqlite:///app.db")
PRODUCT_QUERY = text("SELECT name, price FROM products WHERE category = :category")


@app.get("/products")
def products():
    with engine.connect() as conn:
        rows = conn.execute(PRODUCT_QUERY, {"category": request.args.get("category", "all")})
    return jsonify([list(r) for r in rows.fetchall()])
