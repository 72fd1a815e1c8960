# case: safe CWE-79
# Same formatter; each field is escaped with markupsafe before formatting.
from flask import Flask, request
from markupsafe import escape

app = Flask(__name__)


class NotificationFormatter:
    template = "<li class='note'>{author}: {text}</li>"

    def render(self, items):
        rows = [self.template.format(author=escape(i["author"]), text=escape(i["text"])) for i in items]
        return "<ul>" + "".join(rows) + "</ul>"


@app.post("/notifications/preview")
def preview():
    items = [{"author": "you", "text": request.form.get("text", "")}]
    return NotificationFormatter().render(items)
