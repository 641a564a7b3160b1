import { describe, expect, it } from "vitest";
import { gitAuthConfig } from "./git-auth-config.ts";

const github = { kind: "github" as const, apiUrl: "https://api.github.com", token: "ghp_abc" };
const basic = (user: string, token: string) =>
  `Authorization: Basic ${Buffer.from(`${user}:${token}`).toString("base64")}`;

describe("gitAuthConfig", () => {
  it("sends the token as Basic auth in the forge's form, scoped to the repository's origin", () => {
    expect(gitAuthConfig("https://github.com/acme/w.git", github)).toEqual([
      ["http.https://github.com/.extraHeader", basic("x-access-token", "ghp_abc")],
    ]);
    expect(
      gitAuthConfig("https://gitlab.example.com:8443/g/p.git", {
        kind: "gitlab",
        apiUrl: "https://gitlab.example.com/api/v4",
        token: "glpat-1",
      }),
    ).toEqual([["http.https://gitlab.example.com:8443/.extraHeader", basic("oauth2", "glpat-1")]]);
  });

  it("sends no token in clear text off the machine, nor where it is not needed or not wanted", () => {
    const local = { ...github, apiUrl: "http://127.0.0.1:9000" };
    expect(gitAuthConfig("http://127.0.0.1:8080/w.git", local)).toHaveLength(1);
    expect(gitAuthConfig("http://127.0.0.1:8080/w.git", github)).toEqual([]);
    for (const repository of [
      "http://git.example.com/acme/w.git",
      "https://kiln:pw@github.com/acme/w.git",
      "git@github.com:acme/w.git",
      "ssh://git@github.com/acme/w.git",
      "/srv/git/w.git",
      "https://gitlab.com/acme/w.git",
    ]) {
      expect([repository, gitAuthConfig(repository, github)]).toEqual([repository, []]);
    }
    expect(gitAuthConfig("https://github.com/acme/w.git", undefined)).toEqual([]);
  });
});
