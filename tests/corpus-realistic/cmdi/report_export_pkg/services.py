import subprocess

PDF_TOOL = "/usr/bin/wkhtmltopdf"


def export_pdf(report_name, out_dir="/tmp/reports"):
    command = "%s /srv/app/reports/%s.html %s/%s.pdf" % (PDF_TOOL, report_name, out_dir, report_name)
    return subprocess.call(command, shell=True)
