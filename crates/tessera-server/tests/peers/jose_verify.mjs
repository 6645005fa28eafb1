// Verifies a Tessera access token with jose and prints its claims as JSON.
//
//   node jose_verify.mjs JWKS_URL ISSUER ALG TOKEN [AUDIENCE]
//
// Exits 1, with the reason on stderr, when the token does not verify.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksUrl, issuer, algorithm, token, audience] = process.argv.slice(2);
if (!token) {
  console.error("usage: node jose_verify.mjs JWKS_URL ISSUER ALG TOKEN [AUDIENCE]");
  process.exit(2);
}

// In a service, make this once: it caches the keys and refetches on an unknown kid.
const jwks = createRemoteJWKSet(new URL(jwksUrl));
try {
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    // The allowlist, never the token's own header, chooses the algorithm.
    algorithms: [algorithm],
    requiredClaims: ["exp", "iat", "sub"],
    clockTolerance: 30,
  });
  console.log(JSON.stringify(payload));
} catch (error) {
  console.error(`${error.code ?? error.name}: ${error.message}`);
  process.exitCode = 1;
}
