// A real OpenID provider for the tests: oidc-provider (a certified
// implementation, from npm) on loopback, with two people in different
// groups. It prints its issuer URL on the first line of stdout and runs
// until killed.
//
//   node tests/oidc/provider.mjs [--id-token-ttl SECONDS]
//
// Clients: `countersign` (public, native: the device authorization grant,
// RFC 8628, and authorization code + PKCE with loopback redirects, RFC
// 8252). ID tokens carry `name` and `groups` (the groups claim).
// People sign in with their password at /interaction/:uid (these pages
// stand in for the organisation's login screens; the protocol around
// them is oidc-provider's own).
import http from "node:http";
import { parseArgs } from "node:util";
import Provider from "oidc-provider";

const { values } = parseArgs({
  options: { "id-token-ttl": { type: "string", default: "600" } },
});

export const PEOPLE = {
  alice: {
    password: "alice-password",
    name: "Alice Governance",
    groups: ["identity-governance"],
  },
  bob: {
    password: "bob-password",
    name: "Bob Response",
    groups: ["incident-response"],
  },
};

const server = http.createServer();
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "countersign",
      application_type: "native",
      token_endpoint_auth_method: "none",
      grant_types: [
        "urn:ietf:params:oauth:grant-type:device_code",
        "authorization_code",
        "refresh_token",
      ],
      response_types: ["code"],
      redirect_uris: ["http://127.0.0.1/callback"],
    },
  ],
  claims: {
    openid: ["sub"],
    profile: ["name"],
    groups: ["groups"],
  },
  scopes: ["openid", "profile", "groups", "offline_access"],
  // Every claim of the granted scopes in the ID token itself: the backend
  // reads the person's groups from the token it is shown.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
  },
  ttl: {
    IdToken: Number(values["id-token-ttl"]),
    AccessToken: 600,
    DeviceCode: 600,
    Interaction: 600,
    Session: 600,
    Grant: 600,
    RefreshToken: 3600,
  },
  // Refresh tokens for the public client too (the app and the CLI keep a
  // session without asking again).
  issueRefreshToken: async (_ctx, client, code) =>
    client.grantTypeAllowed("refresh_token") &&
    code.scopes.has("offline_access"),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    const person = PEOPLE[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: person.name, groups: person.groups };
      },
    };
  },
});
provider.proxy = false;

const escape = (s) =>
  String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function form(uid, message) {
  return `<!doctype html><title>Sign in</title>
<p>${escape(message)}</p>
<form method="post" action="/interaction/${escape(uid)}">
  <input name="login" autocomplete="username">
  <input name="password" type="password" autocomplete="current-password">
  <button type="submit">Sign in</button>
</form>`;
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

/** The sign-in page: checks the password, then grants what was asked. */
async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");
  if (req.method === "GET") {
    res.setHeader("content-type", "text/html");
    res.end(form(uid, `Sign in to ${details.params.client_id}`));
    return;
  }
  const fields = await body(req);
  const login = fields.get("login") ?? "";
  const person = PEOPLE[login];
  if (!person || fields.get("password") !== person.password) {
    res.statusCode = 401;
    res.setHeader("content-type", "text/html");
    res.end(form(uid, "Wrong login or password"));
    return;
  }
  const grant = new provider.Grant({
    accountId: login,
    clientId: details.params.client_id,
  });
  grant.addOIDCScope(details.params.scope ?? "openid");
  grant.addOIDCClaims(["sub", "name", "groups"]);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: login }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
server.on("request", (req, res) => {
  const match = /^\/interaction\/([^/?]+)/.exec(req.url ?? "");
  if (!match) return callback(req, res);
  interaction(req, res, match[1]).catch((e) => {
    res.statusCode = 500;
    res.end(String(e));
  });
});

process.stdout.write(`${issuer}\n`);
