from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/email-code/", views.email_sign_in, name="email_sign_in"),
    path("accounts/sessions/<int:session_id>/end/", views.session_end, name="session_end"),
    path("profile/", views.profile, name="profile"),
]
