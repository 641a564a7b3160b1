export * from "./sandbox-doctor.ts";
export * from "./sandbox-provider.ts";
export type * from "./types.ts";
