""" "Did you mean …@gmail.com?": the mistyped e-mail domains a busy desk makes, caught before the invitation goes.

An invitation to "ann@gmial.com" never arrives, and the patient finds out days later. The address is still the
patient's to give: a suggestion is asked about once, never forced. And only a slip is suggested, never another
provider: "ymail.com" is Yahoo's, not a typo of "gmail.com", and a password link sent to the wrong provider's
mailbox could reach a stranger.
"""

import difflib

# Where runners' mail lives in the UK, most used first; a domain typed close to one of these is asked about.
COMMON_DOMAINS = [
    "gmail.com", "hotmail.co.uk", "hotmail.com", "yahoo.co.uk", "yahoo.com", "outlook.com", "icloud.com",
    "live.co.uk", "btinternet.com", "googlemail.com", "aol.com", "sky.com", "me.com", "msn.com", "live.com",
    "virginmedia.com", "ntlworld.com", "talktalk.net", "protonmail.com", "outlook.co.uk", "nhs.net",
]  # fmt: skip
# Ends of addresses mistyped on a phone's keyboard or in a hurry.
ENDING_TYPOS = {
    "con": "com", "cmo": "com", "cpm": "com", "vom": "com", "xom": "com", "comm": "com", "ocm": "com",
    "couk": "co.uk", "co.uj": "co.uk", "co.ik": "co.uk", "co.k": "co.uk", "uk.co": "co.uk", "co.ku": "co.uk",
}  # fmt: skip
# A provider's name typed this close to a common one is taken for a slip ("gmial", "hotmial", "yahooo").
CLOSE = 0.8


def suggestion(email):
    """The address the patient most likely meant, or None when ``email`` looks as meant."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at or not local or domain in COMMON_DOMAINS:
        return None
    name, _, ending = domain.partition(".")
    ending = ENDING_TYPOS.get(ending, ending)
    for common in COMMON_DOMAINS:
        common_name, _, common_ending = common.partition(".")
        if _slip_of(name, common_name) and _slip_of_ending(ending, common_ending):
            return f"{local}@{common}"
    meant = f"{name}.{ending}"
    return f"{local}@{meant}" if meant != domain else None


def _slip_of(typed, name):
    # Same first letter: "ymail" and "rocketmail" are real providers, not slips of "gmail" and "hotmail".
    return typed[:1] == name[:1] and difflib.SequenceMatcher(None, typed, name).ratio() >= CLOSE


def _slip_of_ending(typed, ending):
    # "gmail.co" was cut short; "live.com.au" and "aol.co.uk" are other countries' real addresses.
    return typed == ending or (typed and ending.startswith(typed))
