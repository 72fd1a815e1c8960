# case: safe CWE-89
# A package: the view validates the account number in validators.py; the DAO formats it in.
