"""Loaded by pytest before Django reads its settings (``-p tests.environment`` in pyproject.toml).

Tests run on the development settings: plain HTTP, static files from their folders. Production's security
settings are tested by reloading the settings module with a production environment (tests/test_settings.py).
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
