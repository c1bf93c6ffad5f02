from recovery.admin import content, plans  # noqa: F401  (registers the admin pages)
