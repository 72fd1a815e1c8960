# case: vulnerable CWE-78
# A package: the view (views.py) hands the report name to a service module that shells out.
