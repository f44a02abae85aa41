import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import SignInPanel from "./SignInPanel.svelte";
import type { WhoAmI } from "../lib/types";

const local: WhoAmI = {
  person: null,
  local_actor: "jdoe",
  team_role: null,
  acting_as: "jdoe",
  local_groups: [],
  issuer: "https://login.example.com",
  keys_bound: false,
  session_problem: null,
};
const alice: WhoAmI = {
  ...local,
  person: {
    issuer: "https://login.example.com",
    sub: "alice",
    name: "Alice Governance",
    groups: ["identity-governance"],
    expires_at: 4102444800,
  },
  keys_bound: true,
  acting_as: "alice",
};

describe("SignInPanel", () => {
  it("says plainly that nobody vouches for the local mode, and signs in with the configured provider", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "who_am_i") return local;
      if (cmd === "sign_in") return alice;
    });
    render(SignInPanel);
    const mode = await screen.findByTestId("local-mode");
    expect(mode.textContent).toContain("jdoe");
    expect(mode.textContent).toContain("no identity provider vouches");
    expect((screen.getByTestId("issuer") as HTMLInputElement).value).toBe(
      "https://login.example.com",
    );
    await fireEvent.click(screen.getByTestId("sign-in-button"));
    const signedIn = await screen.findByTestId("signed-in-as");
    expect(signedIn.textContent).toContain("Alice Governance");
    expect(signedIn.textContent).toContain("groups: identity-governance");
    const call = calls.find((c) => c.cmd === "sign_in")!;
    expect((call.args as { issuer: string }).issuer).toBe(
      "https://login.example.com",
    );
  });

  it("asks to sign in again when the keys are not the ones signed in for", async () => {
    mockIPC((cmd) =>
      cmd === "who_am_i" ? { ...alice, keys_bound: false } : null,
    );
    render(SignInPanel);
    expect((await screen.findByTestId("keys-not-bound")).textContent).toContain(
      "Sign in again",
    );
  });

  it("warns when the team database's role is not the signed-in person", async () => {
    mockIPC((cmd) =>
      cmd === "who_am_i"
        ? { ...alice, team_role: "carol", acting_as: "carol" }
        : null,
    );
    render(SignInPanel);
    expect((await screen.findByTestId("team-role")).textContent).toContain(
      "carol",
    );
    expect(
      (await screen.findByTestId("acting-as-other")).textContent,
    ).toContain("you act here as carol");
  });

  it("shows why an earlier session could not be taken up", async () => {
    mockIPC((cmd) =>
      cmd === "who_am_i"
        ? { ...local, session_problem: 'the session of "alice" expired' }
        : null,
    );
    render(SignInPanel);
    expect(
      (await screen.findByTestId("session-problem")).textContent,
    ).toContain("expired");
  });

  it("shows a refused sign-in with what to do", async () => {
    mockIPC((cmd) => {
      if (cmd === "who_am_i") return local;
      if (cmd === "sign_in")
        throw {
          code: "provider_unreachable",
          message:
            "the OpenID provider https://login.example.com could not be discovered",
          hint: "Check the issuer URL",
        };
    });
    render(SignInPanel);
    await fireEvent.click(await screen.findByTestId("sign-in-button"));
    await waitFor(() =>
      expect(document.body.textContent).toContain("could not be discovered"),
    );
    expect(document.body.textContent).toContain("Check the issuer URL");
  });
});
