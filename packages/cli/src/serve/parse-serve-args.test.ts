// `kiln serve`'s command line: the single-node defaults, and the API-node mode (`--engine restate`)
// with the checks that name what is missing.
import { describe, expect, it } from "vitest";
import { parseServeArgs } from "./parse-serve-args.ts";

const RESTATE = [
  "--engine",
  "restate",
  "--restate-ingress",
  "http://restate:8080",
  "--restate-admin",
  "http://restate:9070",
  "--db",
  "postgres://kiln@db/kiln",
];

describe("parseServeArgs", () => {
  it("runs turns in this process by default", () => {
    expect(parseServeArgs([])).toEqual({
      port: 8787,
      host: "127.0.0.1",
      dataDir: undefined,
      db: undefined,
      workspaceRoots: [],
      engine: { type: "local" },
      help: false,
    });
  });

  it("makes an API node of Restate with --engine restate and its two URLs", () => {
    expect(parseServeArgs(RESTATE)).toMatchObject({
      db: "postgres://kiln@db/kiln",
      engine: { type: "restate", ingressUrl: "http://restate:8080", adminUrl: "http://restate:9070" },
    });
  });

  it("refuses an API node without a URL, without PostgreSQL, or with an unknown engine", () => {
    const without = (flag: string) => {
      const i = RESTATE.indexOf(flag);
      return [...RESTATE.slice(0, i), ...RESTATE.slice(i + 2)];
    };
    expect(() => parseServeArgs(without("--restate-ingress"))).toThrow(/--restate-ingress URL/);
    expect(() => parseServeArgs(without("--restate-admin"))).toThrow(/--restate-admin URL/);
    expect(() => parseServeArgs(without("--db"))).toThrow(/--db postgres:/);
    expect(() => parseServeArgs([...without("--db"), "--db", "sqlite:/tmp/k.db"])).toThrow(/--db postgres:/);
    expect(() => parseServeArgs(["--engine", "temporal"])).toThrow(/"local" or "restate"/);
    expect(() => parseServeArgs(["--restate-admin", "http://r:9070", "--engine", "local"])).toThrow(
      /go with --engine restate/,
    );
  });
});
