"""Verifies a Tessera access token with PyJWT and prints its claims as JSON.

    pyjwt_verify.py JWKS_URL ISSUER ALG TOKEN [AUDIENCE]   EdDSA or ES256: keys from the JWKS
    pyjwt_verify.py --secret SECRET ALG TOKEN              HS256: the shared secret

Exits 1, with the reason on stderr, when the token does not verify.
"""

import json
import sys

import jwt

# Claims a token must carry; PyJWT checks exp (and iat, nbf) whenever they are present.
REQUIRED = ["exp", "iat", "sub"]


def verify_with_jwks(jwks_url, issuer, algorithm, token, audience=None):
    # In a service, make the client once: it caches the keys and refetches on an unknown kid.
    jwks = jwt.PyJWKClient(jwks_url)
    signing_key = jwks.get_signing_key_from_jwt(token).key
    return jwt.decode(
        token,
        signing_key,
        # The allowlist, never the token's own header, chooses the algorithm.
        algorithms=[algorithm],
        issuer=issuer,
        audience=audience,
        options={"require": REQUIRED, "verify_aud": audience is not None},
        leeway=30,
    )


def verify_with_secret(secret, algorithm, token):
    return jwt.decode(
        token, secret, algorithms=[algorithm], options={"require": REQUIRED}
    )


def main(args):
    if args[:1] == ["--secret"] and len(args) == 4:
        claims = verify_with_secret(*args[1:])
    elif len(args) in (4, 5) and args[0] != "--secret":
        claims = verify_with_jwks(*args)
    else:
        sys.exit(__doc__)
    print(json.dumps(claims))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except jwt.PyJWTError as error:
        sys.exit(f"{type(error).__name__}: {error}")
