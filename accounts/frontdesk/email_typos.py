""" "Did you mean …@gmail.com?": the mistyped e-mail domains a busy desk makes, caught before the invitation goes.

An invitation to "ann@gmial.com" never arrives, and the patient finds out days later. The address is still the
patient's to give: a suggestion is asked about once, never forced (a real "mac.com" must go through).
"""

import difflib

# Where runners' mail lives in the UK, most used first; a domain typed close to one of these is asked about.
COMMON_DOMAINS = [
    "gmail.com", "hotmail.co.uk", "hotmail.com", "yahoo.co.uk", "yahoo.com", "outlook.com", "icloud.com",
    "live.co.uk", "btinternet.com", "googlemail.com", "aol.com", "sky.com", "me.com", "msn.com", "live.com",
    "virginmedia.com", "ntlworld.com", "talktalk.net", "protonmail.com", "outlook.co.uk", "nhs.net",
]  # fmt: skip
# Real domains that sit close to a common one ("mac.com" is one letter from "me.com"): never asked about.
ALSO_REAL = {"mac.com", "mail.com", "email.com", "aol.co.uk", "gmx.com", "gmx.co.uk", "proton.me", "hey.com"}
# Ends of addresses mistyped on a phone's keyboard or in a hurry.
ENDING_TYPOS = {
    ".con": ".com", ".cmo": ".com", ".cpm": ".com", ".vom": ".com", ".xom": ".com", ".comm": ".com",
    ".couk": ".co.uk", ".co.uj": ".co.uk", ".co.ik": ".co.uk", ".co.k": ".co.uk", ".uk.co": ".co.uk",
}  # fmt: skip


def suggestion(email):
    """The address the patient most likely meant, or None when ``email`` looks as meant."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at or not local or domain in ALSO_REAL or domain in COMMON_DOMAINS:
        return None
    close = difflib.get_close_matches(domain, COMMON_DOMAINS, n=1, cutoff=0.8)
    if close:
        return f"{local}@{close[0]}"
    for typo, meant in ENDING_TYPOS.items():
        if domain.endswith(typo):
            return f"{local}@{domain.removesuffix(typo)}{meant}"
    return None
