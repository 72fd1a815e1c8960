# case: vulnerable CWE-22
# A package: the Django view passes the requested file to a storage module that opens it.
