# case: safe CWE-79
# Same banner; Markup's own formatting escapes the name.
from flask import Flask, render_template, request
from markupsafe import Markup

app = Flask(__name__)


class Banner:
    def __init__(self, name):
        self.name = name

    def html(self):
        return Markup("<strong>Welcome back, {}!</strong>").format(self.name)


@app.route("/home")
def home():
    banner = Banner(request.args.get("name", "friend"))
    return render_template("home.html", banner=banner.html())
