# case: safe CWE-601
# The user picks a path on our own host; the prefix fixes scheme and host.
from flask import Flask, redirect, request
from urllib.parse import quote

app = Flask(__name__)
BASE = "https://shop.example.com/"


def shop_url(section):
    return BASE + quote(section.lstrip("/"), safe="/")


@app.get("/shop")
def shop():
    return redirect(shop_url(request.args.get("section", "")))
