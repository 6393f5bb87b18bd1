"""URLs of the assistant API, mounted under /api/v1/assistant/."""

from django.urls import path

from . import views

app_name = "assistant"

urlpatterns = [
    path("conversations/", views.ConversationListCreateView.as_view(), name="conversations"),
    path("conversations/<uuid:conversation_id>/", views.ConversationDetailView.as_view(), name="conversation"),
    path("conversations/<uuid:conversation_id>/messages/", views.MessageListCreateView.as_view(), name="messages"),
    path("usage/", views.UsageView.as_view(), name="usage"),
]
