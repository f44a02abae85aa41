// Offline verification of what the Countersign broker sends, with panva's
// `jose` (an independent JOSE implementation, as backend teams use it in
// Node.js): an approver's decision against their JWKS, and an outcome
// callback against the broker's JWKS (`/.well-known/jwks.json`).
//
// As a module:
//   import { verifyDecision, verifyCallback } from "./verify.mjs";
// As a command (what tests/broker.rs runs on a real callback):
//   node verify.mjs callback BODY.json BROKER_JWKS.json [REQUEST_ID [ISSUER]]
//   node verify.mjs decision JWS_FILE APPROVER_JWKS.json [REQUEST_ID]
// prints the verified claims as JSON, or the reason on stderr and exits 1.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { compactVerify, createLocalJWKSet } from "jose";

export const DECISION_TYP = "countersign-decision+jwt";
export const OUTCOME_TYP = "countersign-outcome+jwt";

/** Verifies one compact JWS against a JWKS: Ed25519 only, the expected
 * `typ` (RFC 8725 §3.11 explicit typing), a JSON object payload. */
async function verifyTyped(compact, jwks, typ) {
  const keys = createLocalJWKSet(jwks);
  const { payload, protectedHeader } = await compactVerify(compact, keys, {
    algorithms: ["EdDSA", "Ed25519"],
  });
  const got = String(protectedHeader.typ ?? "")
    .toLowerCase()
    .replace(/^application\//, "");
  if (got !== typ) throw new Error(`typ is ${JSON.stringify(got)}, expected ${typ}`);
  const claims = JSON.parse(new TextDecoder().decode(payload));
  if (claims === null || typeof claims !== "object" || Array.isArray(claims)) {
    throw new Error("the payload is not a JSON object");
  }
  return claims;
}

/** An approver's decision, verified against their JWKS
 * (`GET /v1/approvers/{id}/jwks`); with `requestId`, also that it decides
 * that request. Returns its claims. */
export async function verifyDecision(compact, approverJwks, { requestId } = {}) {
  const claims = await verifyTyped(compact, approverJwks, DECISION_TYP);
  if (requestId !== undefined && claims.request_id !== requestId) {
    throw new Error(`the decision is for ${claims.request_id}, not ${requestId}`);
  }
  return claims;
}

/** A callback body (`{"outcome": …, "jws": …}`), verified against the
 * broker's JWKS; returns the signed outcome (never the unsigned copy beside
 * it), with `requestId` and `issuer` checked when given. */
export async function verifyCallback(body, brokerJwks, { requestId, issuer } = {}) {
  if (typeof body?.jws !== "string") throw new Error("the callback carries no jws");
  const outcome = await verifyTyped(body.jws, brokerJwks, OUTCOME_TYP);
  if (body.outcome !== undefined && !sameJson(body.outcome, outcome)) {
    throw new Error("the unsigned outcome differs from the signed one");
  }
  if (requestId !== undefined && outcome.request_id !== requestId) {
    throw new Error(`the outcome is for ${outcome.request_id}, not ${requestId}`);
  }
  if (issuer !== undefined && outcome.iss !== issuer) {
    throw new Error(`the outcome was issued by ${outcome.iss}, not ${issuer}`);
  }
  return outcome;
}

function sameJson(a, b) {
  const canonical = (v) =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical(v[k])]),
          )
        : v;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

async function main(argv) {
  const [what, subject, jwksFile, requestId, issuer] = argv;
  if (!subject || !jwksFile || !["callback", "decision"].includes(what)) {
    process.stderr.write(
      "usage: verify.mjs callback BODY.json BROKER_JWKS.json [REQUEST_ID [ISSUER]]\n" +
        "       verify.mjs decision JWS_FILE APPROVER_JWKS.json [REQUEST_ID]\n",
    );
    process.exit(what === "--help" || what === "-h" ? 0 : 2);
  }
  const jwks = JSON.parse(readFileSync(jwksFile, "utf8"));
  const claims =
    what === "callback"
      ? await verifyCallback(JSON.parse(readFileSync(subject, "utf8")), jwks, { requestId, issuer })
      : await verifyDecision(readFileSync(subject, "utf8").trim(), jwks, { requestId });
  process.stdout.write(JSON.stringify(claims) + "\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`refused: ${e.message}\n`);
    process.exit(1);
  });
}
