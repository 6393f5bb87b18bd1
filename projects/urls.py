"""URLs of the projects API, mounted under /api/v1/projects/.

Ids are matched as plain strings and parsed by the selectors, so a malformed id is the same 404
as a project the caller cannot see (and an anonymous caller always gets 401)."""

from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.ProjectListView.as_view(), name="list"),
    path("<str:project_id>/", views.ProjectDetailView.as_view(), name="detail"),
    path("<str:project_id>/transfer/", views.ProjectTransferView.as_view(), name="transfer"),
    path("<str:project_id>/members/", views.MemberListView.as_view(), name="members"),
    path("<str:project_id>/members/<str:member_id>/", views.MemberDetailView.as_view(), name="member"),
    path("<str:project_id>/invitations/", views.InvitationListView.as_view(), name="invitations"),
    path("<str:project_id>/invitations/<str:invitation_id>/", views.InvitationDetailView.as_view(), name="invitation"),
    path("<str:project_id>/files/", views.FileListView.as_view(), name="files"),
    path("<str:project_id>/files/uploads/", views.FileUploadStartView.as_view(), name="file-upload-start"),
    path("<str:project_id>/files/<str:file_id>/", views.FileDetailView.as_view(), name="file"),
    path("<str:project_id>/files/<str:file_id>/complete/", views.FileCompleteView.as_view(), name="file-complete"),
    path("<str:project_id>/files/<str:file_id>/download/", views.FileDownloadView.as_view(), name="file-download"),
    path("<str:project_id>/activity/", views.ActivityListView.as_view(), name="activity"),
]
