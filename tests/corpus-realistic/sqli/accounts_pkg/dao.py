import sqlite3


def balance(account):
    conn = sqlite3.connect("/srv/app/bank.db")
    sql = "SELECT balance FROM accounts WHERE number = %d" % account
    row = conn.execute(sql).fetchone()
    return row[0] if row else None
