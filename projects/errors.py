"""Error codes of the projects app (see docs/projects.md)."""

from core.errors import ApiError, Conflict, InvalidInput, PermissionDenied, RateLimited, ServiceUnavailable


class ProjectArchived(Conflict):
    code = "project_archived"
    message = "The project is archived: unarchive it to change its files."


class AlreadyMember(Conflict):
    code = "already_member"
    message = "This person is already a member of the project."


class OwnerRoleFixed(Conflict):
    code = "owner_role_fixed"
    message = "The owner's role cannot be changed or removed; transfer ownership first."


class InvitationInvalid(InvalidInput):
    code = "invitation_invalid"
    message = "This invitation is not valid (unknown, revoked or already used)."


class InvitationExpired(InvalidInput):
    code = "invitation_expired"
    message = "This invitation has expired. Ask for a new one."


class InvitationNotPending(Conflict):
    code = "invitation_not_pending"
    message = "This invitation was already accepted, revoked or has expired."


class InvitationEmailMismatch(PermissionDenied):
    code = "invitation_email_mismatch"
    message = "This invitation was sent to another email address."


class EmailNotVerified(PermissionDenied):
    code = "email_not_verified"
    message = "Verify your email address before accepting an invitation."


class DirectUploadUnavailable(Conflict):
    code = "direct_upload_unavailable"
    message = "Direct uploads need S3 storage; send the file as multipart field 'file' instead."


class UploadMissing(Conflict):
    code = "upload_missing"
    message = "No uploaded object was found for this file: upload it first."


class UploadSizeMismatch(Conflict):
    code = "upload_size_mismatch"
    message = "The uploaded object's size differs from the declared size; the upload was discarded."


class FileNotReady(Conflict):
    code = "file_not_ready"
    message = "The file's upload has not been completed."


class UploadTooLarge(ApiError):
    status_code = 413
    code = "upload_too_large"
    message = "This file is too large for a multipart upload; use a direct upload (files/uploads/)."


class StorageUnavailable(ServiceUnavailable):
    """S3 refused, timed out or failed (5xx): nothing was recorded as stored; retry later (503)."""

    code = "storage_unavailable"
    message = "File storage is temporarily unavailable. Please retry shortly."


class InvitationLimitReached(RateLimited):
    """Too many invitations from this inviter, or to this address, in the window (revoked ones count)."""

    code = "invitation_limit_reached"
    message = "Too many invitations were sent recently. Please wait before inviting again."
