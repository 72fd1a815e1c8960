# case: vulnerable CWE-90
# Org chart: the employee id from the URL is put into a filter via a filters module-level dict.
import ldap
from flask import Flask

app = Flask(__name__)
LDAP_FILTERS = {"employee": "(&(objectClass=person)(employeeNumber={id}))"}


class OrgChart:
    def __init__(self):
        self.conn = ldap.initialize("ldap://ldap.example.com")

    def manager_of(self, employee_id):
        flt = LDAP_FILTERS["employee"].format(id=employee_id)
        result = self.conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, flt, ["manager"])
        return result[0][1].get("manager") if result else None


@app.route("/org/<employee_id>/manager")
def manager(employee_id):
    return {"manager": str(OrgChart().manager_of(employee_id))}
