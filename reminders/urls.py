from django.urls import path

from reminders import views

app_name = "reminders"

urlpatterns = [
    path("account/reminders/", views.reminder_settings, name="settings"),
    # The link in every reminder e-mail, and its List-Unsubscribe header (RFC 8058 one-click POST).
    path("reminders/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
