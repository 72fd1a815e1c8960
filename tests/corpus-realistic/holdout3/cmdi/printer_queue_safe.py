# case: safe CWE-78
# Same service; the printer must be one CUPS reports, and lp gets an argv list.
import subprocess
from dataclasses import dataclass

from django.http import HttpResponseBadRequest, JsonResponse


def installed_printers():
    out = subprocess.run(["lpstat", "-e"], capture_output=True, text=True).stdout
    return set(out.split())


@dataclass
class PrintJob:
    printer: str
    path: str
    copies: int = 1

    def argv(self):
        return ["lp", "-d", self.printer, "-n", str(self.copies), self.path]


def submit_print(request):
    printer = request.POST["printer"]
    if printer not in installed_printers():
        return HttpResponseBadRequest("unknown printer")
    job = PrintJob(printer=printer, path="/srv/app/out/report.pdf")
    result = subprocess.run(job.argv(), capture_output=True, text=True)
    return JsonResponse({"queued": result.returncode == 0})
