// The person at the browser, for the tests: opens a verification or
// authorization URL on the test provider (tests/oidc/provider.mjs) and
// signs in, following redirects and submitting each page's form the way
// a browser does (cookies kept, hidden fields sent back).
//
//   node tests/oidc/browser.mjs URL LOGIN PASSWORD
//
// Prints the final URL it reached (for the code flow: the loopback
// redirect with `code` and `state`, which it does not fetch unless
// --follow-loopback is given) and exits 0; exits 1 with the page's text
// when sign-in fails.
const [start, login, password, ...flags] = process.argv.slice(2);
if (!start || !login || password === undefined) {
  console.error("usage: browser.mjs URL LOGIN PASSWORD [--follow-loopback]");
  process.exit(2);
}
const followLoopback = flags.includes("--follow-loopback");
const origin = new URL(start).origin;
const jar = new Map();

function remember(res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair.indexOf("=");
    jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
  }
}

async function go(url, init = {}) {
  let target = new URL(url, origin);
  let options = init;
  for (let hops = 0; hops < 20; hops++) {
    if (target.origin !== origin && !followLoopback) return { url: target };
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(target, {
      ...options,
      redirect: "manual",
      headers: { ...(options.headers ?? {}), cookie },
    });
    remember(res);
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      target = new URL(location, target);
      options = {};
      continue;
    }
    return { url: target, res, text: await res.text() };
  }
  throw new Error("too many redirects");
}

const attr = (tag, name) =>
  new RegExp(`${name}="([^"]*)"`, "i").exec(tag)?.[1]?.replace(/&amp;/g, "&");

/** The first form on the page: its action, method and fields. */
function firstForm(html) {
  const open = /<form\b[^>]*>/i.exec(html);
  if (!open) return null;
  const end = html.indexOf("</form>", open.index);
  const inner = html.slice(open.index, end < 0 ? undefined : end);
  const fields = new URLSearchParams();
  for (const input of inner.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attr(input, "name");
    if (name) fields.set(name, attr(input, "value") ?? "");
  }
  return {
    action: attr(open[0], "action") ?? "",
    method: (attr(open[0], "method") ?? "get").toUpperCase(),
    fields,
  };
}

let page = await go(start);
for (let step = 0; step < 10 && page.res; step++) {
  const f = firstForm(page.text);
  if (!f) break;
  if (f.fields.has("login")) {
    f.fields.set("login", login);
    f.fields.set("password", password);
  }
  // oidc-provider's device pages: confirm the code shown, never abort.
  f.fields.delete("abort");
  const action = new URL(f.action || page.url, page.url);
  page = await go(action, {
    method: f.method,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: f.fields.toString(),
  });
  if (page.res?.status === 401) break;
}
if (page.res && (page.res.status >= 400 || /error/i.test(page.text ?? ""))) {
  console.error(
    `sign-in failed at ${page.url}: ${page.res.status} ${page.text?.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim().slice(0, 300)}`,
  );
  process.exit(1);
}
console.log(page.url.toString());
