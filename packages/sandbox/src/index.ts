export * from "./environment/index.ts";
export * from "./live/index.ts";
export * from "./sandbox-doctor.ts";
export * from "./sandbox-provider.ts";
export type * from "./types.ts";
