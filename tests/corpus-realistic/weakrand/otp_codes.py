# case: vulnerable CWE-330
# One-time login codes sent by SMS are drawn with random.randint in a service class.
import random

from flask import Flask, request

app = Flask(__name__)


class OtpService:
    digits = 6

    def issue(self, phone):
        code = str(random.randint(0, 10 ** self.digits - 1)).zfill(self.digits)
        self.send_sms(phone, "Your login code is " + code)
        return code

    def send_sms(self, phone, text):
        print("sms to", phone, text)


@app.post("/login/otp")
def login_otp():
    OtpService().issue(request.form["phone"])
    return "", 204
