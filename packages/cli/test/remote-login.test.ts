// `kiln login` and the sign-in of the remote commands, with the real CLI against a real server: saved
// credentials (mode 0600), the server from --server / KILN_SERVER / the saved file, refreshed tokens
// saved back, API tokens, and the "log in" message for every refused or missing sign-in.
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RemoteCli, startRemoteCli } from "./remote-cli-harness.ts";

let cli: RemoteCli;
let url: string;
const credentialsFile = () => join(cli.home, "credentials.json");
const readSaved = async () => JSON.parse(await readFile(credentialsFile(), "utf8"));

beforeAll(async () => {
  cli = await startRemoteCli();
  url = cli.t.url;
});
afterAll(async () => {
  await cli?.close();
});
beforeEach(async () => {
  await rm(credentialsFile(), { force: true });
});

describe("kiln login", () => {
  it("saves the tokens from --password-stdin with mode 0600, and later commands need no flags", async () => {
    const login = await cli.kiln(["login", "--server", url, "--username", "alice", "--password-stdin"], {
      stdin: "alice-password\n",
    });
    expect(login).toMatchObject({ code: 0, stdout: `Logged in to ${url} as alice.\n`, stderr: "" });
    expect((await stat(credentialsFile())).mode & 0o777).toBe(0o600);
    expect(await readSaved()).toEqual({
      server: url,
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresAt: expect.any(Number),
    });

    const list = await cli.kiln(["tasks", "list", "--json"]);
    expect(list).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(list.stdout)).toEqual({ tasks: [] });
  });

  it("takes the server from KILN_SERVER, for the login and for later commands", async () => {
    const env = { ...cli.env, KILN_SERVER: `${url}/` };
    const login = await cli.kiln(["login", "--username", "alice", "--password-stdin"], {
      stdin: "alice-password",
      env,
    });
    expect(login).toMatchObject({ code: 0, stdout: `Logged in to ${url} as alice.\n` });
    expect((await readSaved()).server).toBe(url);
    expect(await cli.kiln(["tasks", "list"], { env })).toMatchObject({
      code: 0,
      stdout: 'No tasks. Start one with: kiln tasks create --env ENV "what to do"\n',
    });
  });

  it("saves the refreshed tokens when the access token has expired", async () => {
    await cli.login();
    const before = await readSaved();
    await writeFile(credentialsFile(), JSON.stringify({ ...before, expiresAt: 0 }), { mode: 0o600 });
    expect((await cli.kiln(["tasks", "list"])).code).toBe(0);
    const after = await readSaved();
    expect(after).toEqual({
      server: url,
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresAt: expect.any(Number),
    });
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now());
    expect((await stat(credentialsFile())).mode & 0o777).toBe(0o600);
  });

  it("refreshes once when several commands find the access token expired at the same time", async () => {
    await cli.login();
    const before = await readSaved();
    await writeFile(credentialsFile(), JSON.stringify({ ...before, expiresAt: 0 }), { mode: 0o600 });
    const runs = await Promise.all([1, 2, 3, 4].map(() => cli.kiln(["tasks", "list"])));
    expect(runs.map((r) => ({ code: r.code, stderr: r.stderr }))).toEqual(
      runs.map(() => ({ code: 0, stderr: "" })),
    );
    const after = await readSaved();
    expect(after.refreshToken).not.toBe(before.refreshToken);
    await expect(stat(`${credentialsFile()}.lock`)).rejects.toThrow(/ENOENT/);
    // The rotated tokens still work: no process presented a used refresh token (which revokes them all).
    await writeFile(credentialsFile(), JSON.stringify({ ...after, expiresAt: 0 }), { mode: 0o600 });
    expect(await cli.kiln(["tasks", "list"])).toMatchObject({ code: 0, stderr: "" });
  });

  it("signs in with a personal API token and saves it with the server", async () => {
    const created = await cli.t.call(cli.alice, "POST", "/api/v1/tokens", { name: "cli" });
    const pat = created.body.token as string;
    const login = await cli.kiln(["login", "--server", url, "--token", "-"], { stdin: `${pat}\n` });
    expect(login).toMatchObject({ code: 0, stdout: `Logged in to ${url} as alice (API token).\n` });
    expect(await readSaved()).toEqual({ server: url, token: pat });
    expect((await cli.kiln(["tasks", "list"])).code).toBe(0);
  });

  it("replaces a damaged credentials file, which other commands report with what to do", async () => {
    await writeFile(credentialsFile(), "not json");
    expect(await cli.kiln(["tasks", "list"])).toMatchObject({
      code: 1,
      stderr: `kiln: ${credentialsFile()} is not a Kiln credentials file: delete it and run \`kiln login --server URL\`\n`,
    });
    await cli.login();
    expect((await readSaved()).server).toBe(url);
  });

  it("refuses a wrong password without saving anything", async () => {
    const login = await cli.kiln(["login", "--server", url, "--username", "alice", "--password-stdin"], {
      stdin: "not-the-password\n",
    });
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(
      new RegExp(`^kiln: ${escapeRegExp(url)} refused the username or password: .+\\n$`),
    );
    await expect(stat(credentialsFile())).rejects.toThrow(/ENOENT/);
  });
});

describe("a missing or refused sign-in", () => {
  it("says to log in when nothing is saved", async () => {
    expect(await cli.kiln(["tasks", "list"])).toMatchObject({
      code: 1,
      stdout: "",
      stderr: "kiln: not logged in to a Kiln server: run `kiln login --server URL`\n",
    });
    expect(
      await cli.kiln(["tasks", "show", "task_x"], { env: { ...cli.env, KILN_SERVER: url } }),
    ).toMatchObject({
      code: 1,
      stderr: `kiln: not logged in to ${url}: run \`kiln login --server ${url}\`\n`,
    });
  });

  it("says to log in again when the server refuses a wrong API token", async () => {
    await writeFile(credentialsFile(), JSON.stringify({ server: url, token: "kiln_pat_wrong" }));
    const run = await cli.kiln(["tasks", "list"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^kiln: ${escapeRegExp(url)} refused your credentials \\(.+\\): run \`kiln login --server ${escapeRegExp(url)}\`\\n$`,
      ),
    );
  });

  it("says the session expired when the refresh token is refused, and forgets the tokens", async () => {
    await writeFile(
      credentialsFile(),
      JSON.stringify({
        server: url,
        accessToken: "wrong",
        refreshToken: "wrong",
        expiresAt: Date.now() + 3_600_000,
      }),
    );
    expect(await cli.kiln(["tasks", "list"])).toMatchObject({
      code: 1,
      stderr: `kiln: your session with ${url} has expired or was revoked: run \`kiln login --server ${url}\`\n`,
    });
    expect(await readSaved()).toEqual({ server: url });
    // The address stays: logging in again needs no --server.
    const again = await cli.kiln(["login", "--username", "alice", "--password-stdin"], {
      stdin: "alice-password\n",
    });
    expect(again).toMatchObject({ code: 0, stdout: `Logged in to ${url} as alice.\n` });
  });
});

describe("usage", () => {
  it("answers a usage error with exit code 2 and the command's usage", async () => {
    const [unknown, noServer, attempts, noCommand, noExec] = await Promise.all([
      cli.kiln(["tasks", "list", "--bogus"]),
      cli.kiln(["login", "--username", "alice", "--password-stdin"]),
      cli.kiln(["tasks", "create", "--env", "demo", "--attempts", "9", "fix it"]),
      cli.kiln(["tasks", "frobnicate"]),
      cli.kiln(["sandbox", "exec", "task_x"]),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^kiln tasks list: Unknown option '--bogus'\n\nUsage: kiln tasks list/);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toMatch(
      /^kiln login: which server\? Give --server URL \(or set KILN_SERVER\)\n\nUsage: kiln login/,
    );
    expect(attempts.code).toBe(2);
    expect(attempts.stderr).toMatch(
      /^kiln tasks create: --attempts: "9" is not a whole number from 1 to 4\n/,
    );
    expect(noCommand).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^kiln tasks: unknown command "frobnicate"\n/),
    });
    expect(noExec).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^kiln sandbox exec: give the command after --\n/),
    });
  });

  it("prints each command's help with --help", async () => {
    const commands = [
      ["login"],
      ["tasks", "create"],
      ["tasks", "list"],
      ["tasks", "show"],
      ["tasks", "watch"],
      ["tasks", "diff"],
      ["tasks", "apply"],
      ["sandbox", "exec"],
      ["sandbox", "shell"],
    ];
    const runs = await Promise.all(commands.map((command) => cli.kiln([...command, "--help"])));
    runs.forEach((run, i) => {
      const command = (commands[i] as string[]).join(" ");
      expect(run, command).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(new RegExp(`^Usage: kiln ${command} `));
    });
    expect((await cli.kiln(["tasks", "--help"])).stdout).toMatch(/^Usage: kiln tasks COMMAND/);
    expect((await cli.kiln(["sandbox", "--help"])).stdout).toMatch(/^Usage: kiln sandbox COMMAND/);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
