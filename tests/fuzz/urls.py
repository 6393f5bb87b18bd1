"""Throwaway owned resources for testing the fuzz harness itself: one scoped correctly, one leaky.

``notes`` are the caller's notifications (list, create, read, update, delete; another user's id is a
404). With ``FUZZ_DEMO_LEAKY=1`` the server also has ``leaky-notes/<id>/``, which forgets the owner
check on purpose: the harness must catch it.
"""

import os

from django.urls import include, path
from rest_framework import generics

from core.serializers import StrictModelSerializer
from notifications.models import Notification
from stackpro.urls import urlpatterns as project_urlpatterns


class NoteSerializer(StrictModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "category", "title", "body", "read_at", "created_at"]
        read_only_fields = ["id", "read_at", "created_at"]
        extra_kwargs = {"title": {"max_length": 50}, "body": {"max_length": 200}}


class NoteList(generics.ListCreateAPIView):
    serializer_class = NoteSerializer

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user).order_by("-created_at", "id")

    def perform_create(self, serializer):
        serializer.save(user=self.request.user)


class NoteDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = NoteSerializer
    lookup_field = "id"

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user)


class LeakyNoteDetail(generics.RetrieveAPIView):
    serializer_class = NoteSerializer
    lookup_field = "id"
    queryset = Notification.objects.all()  # no owner filter: the bug the harness must find


test_patterns = [
    path("notes/", NoteList.as_view(), name="notes"),
    path("notes/<uuid:id>/", NoteDetail.as_view(), name="note"),
]
if os.environ.get("FUZZ_DEMO_LEAKY"):  # a server started with the bug on
    test_patterns += [
        path("leaky-notes/", NoteList.as_view(), name="leaky-notes"),
        path("leaky-notes/<uuid:id>/", LeakyNoteDetail.as_view(), name="leaky-note"),
    ]

urlpatterns = [path("api/v1/test-fuzz/", include(test_patterns)), *project_urlpatterns]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
