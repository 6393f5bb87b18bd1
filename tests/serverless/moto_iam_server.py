"""A moto server that checks IAM (as ``INITIAL_NO_AUTH_ACTION_COUNT`` does) for the deploy rehearsal.

moto 5.2.5 recomputes SigV4 signatures from a request it rebuilds, and gets two things wrong for the
REST services Zappa uses most (Lambda, API Gateway): it hashes a GET's query parameters (or, when
there are none, its headers) as if they were the body, and it drops the trailing slash of paths
such as ``/2015-03-31/event-source-mappings/``. Every such call fails with SignatureDoesNotMatch
whatever the policy says. This server hashes such a request's body as sent and tries the path with its slash;
authentication otherwise, and policy evaluation, are moto's own.

It also answers two Lambda calls moto 5.2.5 lacks (404): ListFunctionUrlConfigs (``zappa update``
lists them to delete any; we make none) and GetAccountSettings (deploy/stage.py's quota check).
Run: ``python moto_iam_server.py PORT``.
"""

from __future__ import annotations

import json
import sys
import time

from botocore.awsrequest import AWSRequest
from moto.awslambda import urls
from moto.awslambda.responses import LambdaResponse
from moto.iam.access_control import IAMRequestBase
from moto.server import ThreadedMotoServer

ACCOUNT_LIMIT = {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}

_rebuild = IAMRequestBase._create_aws_request


def _create_aws_request(self) -> AWSRequest:
    request = _rebuild(self)
    if self._method in ("GET", "HEAD", "DELETE"):
        request.data = self._body or b""  # not the parsed query string (or headers) moto puts there
    return request


def check_signature(self) -> None:
    sent = self._get_string_between("Signature=", ",", self._headers["Authorization"])
    path, _, query = self._path.partition("?")
    for candidate in (path, path + "/"):  # moto's router may have dropped a trailing slash
        self._path = candidate + ("?" + query if query else "")
        if self._calculate_signature() == sent:
            return
    self._raise_signature_does_not_match()


def list_function_url_configs(self: LambdaResponse):
    return 200, {}, json.dumps({"FunctionUrlConfigs": []})


def get_account_settings(self: LambdaResponse):
    return 200, {}, json.dumps({"AccountLimit": ACCOUNT_LIMIT, "AccountUsage": {"FunctionCount": 0}})


def main() -> None:
    urls.url_paths[r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"] = (
        LambdaResponse.dispatch
    )
    urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = LambdaResponse.dispatch
    LambdaResponse.list_function_url_configs = list_function_url_configs
    LambdaResponse.get_account_settings = get_account_settings
    IAMRequestBase._create_aws_request = _create_aws_request
    IAMRequestBase.check_signature = check_signature
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
    server.start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
