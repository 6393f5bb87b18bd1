"""Throwaway views for the resilience tests (idempotency, degraded cache), plus the project's URLs."""

import threading

from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from stackpro.urls import urlpatterns as project_urlpatterns

# How many times each flaky name has been tried (per process).
FLAKY_ATTEMPTS: dict[str, int] = {}


class Hold:
    """A request that waits inside the view until the test releases it (in-process clients only):
    "the first request is still running" as a state the test sets, not a time it hopes is enough."""

    def __init__(self) -> None:
        self.entered, self.released = threading.Event(), threading.Event()


HOLDS: dict[str, Hold] = {}


class ThingSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    hold = serializers.CharField(required=False)  # a name in HOLDS


class CreateThingView(APIView):
    """Creates a row (a Group) per call: the side effect the tests count."""

    def post(self, request):
        serializer = ThingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if hold := HOLDS.get(serializer.validated_data.get("hold", "")):
            hold.entered.set()
            hold.released.wait(30)
        group = Group.objects.create(name=f"{serializer.validated_data['name']}-{Group.objects.count()}")
        return Response({"id": group.pk, "name": group.name}, status=201, headers={"Location": f"/things/{group.pk}/"})


class AnonymousCreateThingView(CreateThingView):
    permission_classes = [AllowAny]


class FlakyCreateThingView(APIView):
    """Fails with a 500 on the first attempt for a name, succeeds afterwards."""

    def post(self, request):
        name = request.data["name"]
        FLAKY_ATTEMPTS[name] = FLAKY_ATTEMPTS.get(name, 0) + 1
        if FLAKY_ATTEMPTS[name] == 1:
            raise RuntimeError("transient failure")
        group = Group.objects.create(name=name)
        return Response({"id": group.pk}, status=201)


class CachedView(APIView):
    """Reads and writes the cache, as a response cache would."""

    permission_classes = [AllowAny]

    def get(self, request):
        hits = cache.get("resilience:hits") or 0
        cache.set("resilience:hits", hits + 1, 60)
        return Response({"cached_hits": hits})


test_patterns = [
    path("things/", CreateThingView.as_view(), name="things"),
    path("anon-things/", AnonymousCreateThingView.as_view(), name="anon-things"),
    path("flaky-things/", FlakyCreateThingView.as_view(), name="flaky-things"),
    path("cached/", CachedView.as_view(), name="cached"),
]

urlpatterns = [path("api/v1/test-resilience/", include(test_patterns)), *project_urlpatterns]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
