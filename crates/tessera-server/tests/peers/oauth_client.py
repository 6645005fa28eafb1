"""A service client of Tessera, written with other people's libraries, as
docs/integrating.md shows: Authlib's OAuth 2.0 client for the client-credentials grant,
requests for introspection and revocation, and PyJWT in a small resource server that
protects its own route with Tessera's JWKS.

    oauth_client.py grant BASE CLIENT_ID CLIENT_SECRET ISSUER AUDIENCE
        Fetches a token with Authlib, calls the protected route with it and without.
    oauth_client.py introspect BASE CLIENT_ID CLIENT_SECRET TOKEN
    oauth_client.py revoke BASE CLIENT_ID CLIENT_SECRET TOKEN

Prints one JSON object: what happened.
"""

import http.server
import json
import sys
import threading

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session


def protected_api(jwks_url, issuer, audience):
    """A resource server: GET / answers 200 with the caller's client_id for a token that
    verifies with Tessera's published keys, for this audience, else 401."""
    jwks = jwt.PyJWKClient(jwks_url)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            try:
                if scheme.lower() != "bearer":
                    raise jwt.InvalidTokenError("no bearer token")
                claims = jwt.decode(
                    token,
                    jwks.get_signing_key_from_jwt(token).key,
                    algorithms=["EdDSA", "ES256"],
                    issuer=issuer,
                    audience=audience,
                    options={"require": ["exp", "iat", "sub"]},
                )
                status, body = 200, {"client_id": claims.get("client_id")}
            except jwt.InvalidTokenError as error:
                status, body = 401, {"error": str(error)}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def grant(base, client_id, client_secret, issuer, audience):
    server, api = protected_api(f"{base}/.well-known/jwks.json", issuer, audience)
    try:
        session = OAuth2Session(
            client_id, client_secret, token_endpoint_auth_method="client_secret_basic"
        )
        token = session.fetch_token(
            f"{base}/oauth/token", grant_type="client_credentials"
        )
        with_token = session.get(api, timeout=10)
        without = requests.get(api, timeout=10)
        return {
            "token_type": token["token_type"],
            "expires_in": token["expires_in"],
            "access_token": token["access_token"],
            "with_token": with_token.status_code,
            "caller": with_token.json().get("client_id"),
            "without_token": without.status_code,
        }
    finally:
        server.shutdown()


def introspect(base, client_id, client_secret, token):
    answer = requests.post(
        f"{base}/oauth/introspect",
        data={"token": token},
        auth=(client_id, client_secret),
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()


def revoke(base, client_id, client_secret, token):
    answer = requests.post(
        f"{base}/oauth/revoke",
        data={"token": token, "token_type_hint": "refresh_token"},
        auth=(client_id, client_secret),
        timeout=10,
    )
    return {"status": answer.status_code}


def main(args):
    commands = {"grant": grant, "introspect": introspect, "revoke": revoke}
    print(json.dumps(commands[args[0]](*args[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
