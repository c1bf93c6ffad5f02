from django.contrib import admin

from recovery.admin import alerts, content, plans  # noqa: F401  (registers the admin pages)

admin.site.site_header = "Apex Recovery · clinic workspace"
admin.site.site_title = "Apex Recovery"
admin.site.index_title = "Patients, alerts and the clinic's content"
# The home page: "Needs attention" (open alerts, inactive patients, tips to review) above the app list.
admin.site.index_template = "admin/workspace_index.html"
