"""Billing API views: thin — validate, call one selector or service, serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import VerifiedEmail
from core.api import paginate, validate
from core.pagination import LimitOffsetPagination
from core.schema import error_responses

from . import selectors, services
from .serializers import (
    CheckoutInputSerializer,
    InvoiceSerializer,
    PlanSerializer,
    PortalInputSerializer,
    RedirectSerializer,
    SubscriptionSerializer,
)

PROVIDER_ERRORS = error_responses(
    502, 503, descriptions={502: "payment_provider_error", 503: "payment_provider_error (unreachable)"}
)


class PlanListView(APIView):
    """The plan catalogue with limits and prices (public)."""

    permission_classes = [AllowAny]
    schema_public = True

    @extend_schema(responses={200: PlanSerializer(many=True)}, operation_id="billing_plans_list")
    def get(self, request: Request) -> Response:
        return Response([PlanSerializer.build(plan, price) for plan, price in selectors.plan_list()])


class SubscriptionView(APIView):
    """My plan, subscription status and usage against each limit."""

    @extend_schema(responses={200: SubscriptionSerializer}, operation_id="billing_subscription_retrieve")
    def get(self, request: Request) -> Response:
        return Response(SubscriptionSerializer(selectors.subscription_summary(user=request.user)).data)


class CheckoutView(APIView):
    """Start a Stripe Checkout Session for a subscription to a paid plan."""

    permission_classes = [IsAuthenticated, VerifiedEmail]  # Stripe mails receipts to the address

    @extend_schema(
        request=CheckoutInputSerializer,
        responses={200: RedirectSerializer, **error_responses(409), **PROVIDER_ERRORS},
        operation_id="billing_checkout_create",
    )
    def post(self, request: Request) -> Response:
        data = validate(CheckoutInputSerializer, request.data)
        url = services.checkout_session_create(
            user=request.user,
            plan_code=data["plan"],
            success_url=data.get("success_url"),
            cancel_url=data.get("cancel_url"),
            client_key=request.headers.get("Idempotency-Key"),
        )
        return Response({"url": url})


class PortalView(APIView):
    """Open a Stripe Billing Portal session (change plan or card, cancel)."""

    @extend_schema(
        request=PortalInputSerializer,
        responses={200: RedirectSerializer, **PROVIDER_ERRORS},
        operation_id="billing_portal_create",
    )
    def post(self, request: Request) -> Response:
        data = validate(PortalInputSerializer, request.data)
        url = services.portal_session_create(
            user=request.user,
            return_url=data.get("return_url"),
            client_key=request.headers.get("Idempotency-Key"),
        )
        return Response({"url": url})


class InvoiceListView(APIView):
    """My invoices, newest first."""

    pagination_class = LimitOffsetPagination  # schema only: the list is paginated by ``core.api.paginate``

    @extend_schema(responses=InvoiceSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginate(request, selectors.invoice_list_for_user(user=request.user), InvoiceSerializer)
