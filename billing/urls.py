"""URLs of the billing API, mounted under /api/v1/billing/."""

from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("plans/", views.PlanListView.as_view(), name="plans"),
    path("subscription/", views.SubscriptionView.as_view(), name="subscription"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("portal/", views.PortalView.as_view(), name="portal"),
    path("invoices/", views.InvoiceListView.as_view(), name="invoices"),
]
