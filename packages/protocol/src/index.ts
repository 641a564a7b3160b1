export * from "./errors.ts";
export * from "./policy.ts";
