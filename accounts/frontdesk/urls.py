from django.urls import path

from accounts.frontdesk import views

app_name = "frontdesk"

urlpatterns = [
    path("", views.home, name="home"),
    path("enroll/", views.enrol, name="enrol"),
    path("import/", views.intake_upload, name="intake"),
    path("import/confirm/", views.intake_confirm, name="intake_confirm"),
    path("import/to-fix.csv", views.intake_to_fix, name="intake_to_fix"),
    path("import/sheets/", views.intake_sheets, name="intake_sheets"),
    path("patients/<int:pk>/", views.patient, name="patient"),
    path("patients/<int:pk>/new-plan/", views.plan_start, name="plan_start"),
    path("patients/<int:pk>/welcome/", views.welcome_sheet, name="welcome_sheet"),
    path("patients/<int:pk>/invite/", views.invite, name="invite"),
    path("patients/<int:pk>/deactivate/", views.deactivate, name="deactivate"),
    path("patients/<int:pk>/reactivate/", views.reactivate, name="reactivate"),
]
