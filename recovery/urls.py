from django.urls import path

from recovery.views import account, check_in, progress, tips, today

app_name = "recovery"

urlpatterns = [
    path("today/", today.today, name="today"),
    path("today/steps/<int:step_id>/tick/", today.tick, name="tick"),
    path("today/day-off/", today.excuse, name="excuse"),
    path("check-in/", check_in.check_in, name="check_in"),
    path("progress/", progress.progress, name="progress"),
    path("tips/", tips.tip_list, name="tips"),
    path("tips/<slug:slug>/", tips.tip_detail, name="tip"),
    path("account/", account.account, name="account"),
    path("account/my-data.json", account.export_json, name="export_json"),
    path("account/my-data.csv", account.export_csv, name="export_csv"),
]
