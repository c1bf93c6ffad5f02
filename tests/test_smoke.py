import json
import re
from pathlib import Path

from django.contrib.staticfiles import finders


def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200


def test_the_portal_can_be_added_to_a_phones_home_screen_with_its_name_and_icon(patient_client, plan):
    html = patient_client.get("/today/").content.decode()
    manifest_url = re.search(r'<link rel="manifest" href="([^"]+)">', html)[1]
    assert manifest_url.endswith(".json") and 'rel="apple-touch-icon"' in html
    manifest = json.loads(Path(finders.find("manifest.json")).read_text())
    assert (manifest["name"], manifest["start_url"], manifest["display"]) == ("Apex Recovery", "/", "standalone")
    sizes = set()
    for icon in manifest["icons"]:
        assert finders.find(icon["src"]), icon["src"]  # relative to the manifest, in the static files
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes  # what Android asks for an installable app
