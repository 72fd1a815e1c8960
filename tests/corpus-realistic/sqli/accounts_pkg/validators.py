import re

ACCOUNT_RE = re.compile(r"^[0-9]{8}$")


class ValidationError(ValueError):
    pass


def account_number(raw):
    value = int(raw)
    if not 10_000_000 <= value <= 99_999_999:
        raise ValidationError(raw)
    return value
