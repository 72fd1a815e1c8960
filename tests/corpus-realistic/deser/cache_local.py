# case: safe CWE-502
# A cache of computed reports pickled to a file the service itself wrote; no request data.
import os
import pickle

CACHE_FILE = "/var/cache/app/reports.pickle"


def compute_reports():
    return {"daily": [1, 2, 3], "weekly": [7, 14]}


def load_reports():
    if os.path.exists(CACHE_FILE):
        with open(CACHE_FILE, "rb") as fh:
            return pickle.load(fh)
    reports = compute_reports()
    with open(CACHE_FILE, "wb") as fh:
        pickle.dump(reports, fh)
    return reports
