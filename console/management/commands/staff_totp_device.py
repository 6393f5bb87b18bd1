"""Give a staff member a TOTP authenticator: prints the otpauth:// URL and secret to enter in an app."""

from base64 import b32encode
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import normalize_email


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="authenticator")
        parser.add_argument("--replace", action="store_true", help="delete the user's other TOTP devices first")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(email=normalize_email(options["email"]))
        except User.DoesNotExist:
            raise CommandError(f"no user {options['email']}")
        if not user.is_staff:
            raise CommandError(f"{user.email} is not staff")
        if options["replace"]:
            TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name=options["name"], confirmed=True)
        self.stdout.write(f"secret: {b32encode(device.bin_key).decode()}")
        self.stdout.write(f"url:    {device.config_url}")
