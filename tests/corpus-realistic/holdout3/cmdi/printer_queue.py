# case: vulnerable CWE-78
# A print service sends documents to CUPS; the printer name comes from the form via a settings object.
import subprocess
from dataclasses import dataclass

from django.http import JsonResponse


@dataclass
class PrintJob:
    printer: str
    path: str
    copies: int = 1

    def command(self):
        return f"lp -d {self.printer} -n {self.copies} {self.path}"


def submit_print(request):
    job = PrintJob(printer=request.POST["printer"], path="/srv/app/out/report.pdf")
    result = subprocess.run(job.command(), shell=True, capture_output=True, text=True)
    return JsonResponse({"queued": result.returncode == 0})
