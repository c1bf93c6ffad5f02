"""axe-core (through axe-playwright-python) on the page a test is looking at."""

from axe_playwright_python.sync_playwright import Axe

BLOCKING = {"serious", "critical"}

_axe = Axe()


def assert_accessible(page, what):
    """No serious or critical axe-core violation on the page as it is now, once it has loaded."""
    # A click that navigates returns as soon as the new page starts to arrive: axe run then can meet a form whose
    # inputs are parsed but whose labels are not yet (seen once on the admin's tip page: "#id_published" unlabelled).
    page.wait_for_load_state("load")
    results = _axe.run(page)
    problems = [
        f"{violation['impact']} {violation['id']}: {violation['help']} — "
        + "; ".join(f"{node['target']} {_why(node)}" for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    assert not problems, f"axe-core on {what} ({page.url}):\n  " + "\n  ".join(problems)


def _why(node):
    return " ".join(check["message"] for check in node.get("any", []) + node.get("all", []) if check.get("message"))
