"""Billing routes, included under /api/ (the spec shows membership/save also without /v1/)."""

from django.urls import path

from apps.billing.api import views

urlpatterns = [
    path("v1/membership/save", views.MembershipSaveView.as_view()),
    path("membership/save", views.MembershipSaveView.as_view()),
    path("v1/membership/stop", views.MembershipStopView.as_view()),
    path("v1/membership/request", views.MembershipRequestView.as_view()),
    path("v1/payments/get", views.PaymentsView.as_view()),
    path("v1/paymentmethod/save", views.PaymentMethodSaveView.as_view()),
    path("v1/paymentmethod/default", views.PaymentMethodDefaultView.as_view()),
    path("v1/paymentmethod/delete", views.PaymentMethodDeleteView.as_view()),
    path("v1/paymentmethods/get", views.PaymentMethodsView.as_view()),
]
