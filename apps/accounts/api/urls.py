from django.urls import path

from apps.accounts.api import views

urlpatterns = [
    path("login", views.LoginView.as_view()),
    path("logout", views.LogoutView.as_view()),
    path("logout/all", views.LogoutAllView.as_view()),
    path("signup", views.SignupView.as_view()),
    path("confirmation/resend", views.ConfirmationResendView.as_view()),
    path("confirmation/confirm", views.ConfirmationConfirmView.as_view()),
    path("auth/confirm", views.AuthConfirmView.as_view()),
    path("users/me", views.MeView.as_view()),
    path("users/save", views.ProfileSaveView.as_view()),
    path("users/updatepassword", views.PasswordUpdateView.as_view()),
    path("users/mfa/setup", views.MfaSetupView.as_view()),
    path("users/mfa/verify", views.MfaVerifyView.as_view()),
    path("toolbox/tools/chats/group/get", views.GroupUsersView.as_view()),
    path("toolbox/tools/chats/group/save", views.GroupUserSaveView.as_view()),
    path("toolbox/tools/chats/group/delete", views.GroupUsersDeleteView.as_view()),
    path("toolbox/tools/chats/integrations/renew", views.KeysRenewView.as_view()),
    path("toolbox/tools/chats/integrations/revoke", views.KeysRevokeView.as_view()),
]
