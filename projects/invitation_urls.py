"""URL of invitation acceptance, mounted at /api/v1/invitations/ (outside any one project)."""

from django.urls import path

from . import views

app_name = "invitations"

urlpatterns = [path("accept/", views.InvitationAcceptView.as_view(), name="accept")]
