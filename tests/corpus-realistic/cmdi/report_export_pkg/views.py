from flask import Blueprint, request

from .services import export_pdf

bp = Blueprint("reports", __name__)


@bp.post("/reports/export")
def export():
    name = request.form.get("report", "monthly")
    status = export_pdf(name)
    return {"status": status}
