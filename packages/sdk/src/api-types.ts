// The TypeScript types of API shapes whose zod schemas @kiln/protocol exports without a type of the
// same name (each is `z.infer` of the schema, as everywhere else).
import type * as P from "@kiln/protocol";
import type { z } from "zod";

/** A page of threads. */
export type ThreadPage = z.infer<typeof P.ThreadList>;
/** A completed item of a thread, with its seq. */
export type ThreadItemEntry = z.infer<typeof P.ThreadItemEntry>;
/** `POST /threads/{id}/turns`'s answer. */
export type TurnAccepted = z.infer<typeof P.TurnAccepted>;
/** `POST /threads/{id}/steer` and `/interrupt`'s answer. */
export type TurnSignalAccepted = z.infer<typeof P.TurnSignalAccepted>;
/** A thread's usage, in total and per turn. */
export type ThreadUsageReport = z.infer<typeof P.ThreadUsageReport>;
/** The caller's model usage per day, with the total. */
export type UsageReport = z.infer<typeof P.UsageReport>;
/** A decision on an approval, as recorded. */
export type ApprovalResponded = z.infer<typeof P.ApprovalResponded>;
/** `POST /tasks/{id}/turns`'s answer: the new user turn and the run that answers it. */
export type FollowUpAccepted = z.infer<typeof P.FollowUpAccepted>;
/** A directory's entries. */
export type SandboxDirectoryListing = z.infer<typeof P.SandboxDirectoryListing>;
/** A file's content (UTF-8 text, or base64 for other bytes). */
export type SandboxFileContent = z.infer<typeof P.SandboxFileContent>;
/** One file or directory of a workspace. */
export type SandboxFileEntry = z.infer<typeof P.SandboxFileEntry>;
/** An environment request, as sent. */
export type CreateEnvironmentInput = z.input<typeof P.CreateEnvironmentRequest>;
/** The fields of an environment to change, as sent (a secret set to `null` is removed). */
export type UpdateEnvironmentInput = z.input<typeof P.UpdateEnvironmentRequest>;
/** A task request, as sent (`bestOfN` defaults to 1). */
export type CreateTaskInput = z.input<typeof P.CreateTaskRequest>;
/** `PATCH /tasks/{id}`. */
export type UpdateTaskRequest = z.input<typeof P.UpdateTaskRequest>;
/** `POST /tasks/{id}/attempts/{attemptId}/publish`. */
export type PublishAttemptRequest = z.input<typeof P.PublishRequest>;
