"""URLs of the notifications API, mounted under /api/v1/notifications/."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.NotificationListView.as_view(), name="list"),
    path("unread-count/", views.UnreadCountView.as_view(), name="unread-count"),
    path("read-all/", views.NotificationReadAllView.as_view(), name="read-all"),
    path("preferences/", views.PreferencesView.as_view(), name="preferences"),
    path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    path("<uuid:pk>/", views.NotificationDetailView.as_view(), name="detail"),
    path("<uuid:pk>/read/", views.NotificationReadView.as_view(), name="read"),
]
