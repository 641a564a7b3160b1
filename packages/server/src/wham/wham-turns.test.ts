import { KilnError, WhamFollowUpResponse, WhamSiblingTurns, WhamTurnList } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { whamTaskDetails } from "./wham-mapping.ts";
import { attempt, kilnId, run, T0, TASK_ID, task, userTurn } from "./wham-test-tasks.ts";
import { whamFollowUpResponse, whamSiblingTurns, whamTurnList } from "./wham-turns.ts";

const u0 = userTurn(0, "Add a hello file", [kilnId("att", 0), kilnId("att", 1)]);
const a1 = run(0, 0, "completed", { message: "Summary of the work" });
const a2 = run(1, 0, "completed", { message: "Another way" });

const prompt = (text: string) => [
  { type: "message", role: "user", content: [{ content_type: "text", text }] },
];

describe("WHAM attempts and turns", () => {
  // Attempts listed out of order, with the third one created first: placement decides.
  const b0 = run(0, 0, "completed", { createdAt: T0 + 30 });
  const b1 = run(1, 0, "running", { createdAt: T0 + 20 });
  const b2 = run(2, 0, "queued", { createdAt: T0 + 10 });
  const bestOfThree = task({
    bestOfN: 3,
    status: "running",
    userTurns: [
      userTurn(
        0,
        "Add a hello file",
        [0, 1, 2].map((i) => kilnId("att", i)),
      ),
    ],
    attempts: [attempt(2, [b2]), attempt(0, [b0]), attempt(1, [b1])],
  });

  it("list the other attempts' answers ordered by attempt_placement", () => {
    const siblings = WhamSiblingTurns.parse(whamSiblingTurns(bestOfThree, b2.id)).sibling_turns;
    expect(siblings.map((t) => [t.id, t.attempt_placement, t.turn_status])).toEqual([
      [b0.id, 0, "completed"],
      [b1.id, 1, "in_progress"],
    ]);
    expect(siblings.map((t) => t.sibling_turn_ids)).toEqual([
      [b1.id, b2.id],
      [b0.id, b2.id],
    ]);
    expect(whamTaskDetails(bestOfThree).current_assistant_turn?.id).toBe(b0.id);
  });

  it("answer not_found for a turn id that is not one of the task's assistant turns", () => {
    const error = (() => {
      try {
        whamSiblingTurns(bestOfThree, kilnId("turn", 999));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).code).toBe("not_found");
  });

  it("list every turn in order, and make the follow-up's answer the current one", () => {
    const u1 = userTurn(1, "Also say goodbye", [kilnId("att", 1)], T0 + 60_000);
    const followUp = run(1, 1, "running", { createdAt: T0 + 61_000 });
    const continued = task({
      bestOfN: 2,
      status: "running",
      userTurns: [u1, u0],
      attempts: [attempt(0, [a1]), attempt(1, [a2, followUp])],
    });
    const turns = WhamTurnList.parse(whamTurnList(continued)).turns;
    expect(turns.map((t) => [t.role, t.id])).toEqual([
      ["user", u0.id],
      ["assistant", a1.id],
      ["assistant", a2.id],
      ["user", u1.id],
      ["assistant", followUp.id],
    ]);
    const details = whamTaskDetails(continued);
    expect(details.current_user_turn?.input_items).toEqual(prompt("Also say goodbye"));
    expect(details.current_assistant_turn).toMatchObject({
      id: followUp.id,
      attempt_placement: 1,
      sibling_turn_ids: [],
      turn_status: "in_progress",
    });
  });

  it("answer a follow-up with its recorded turns, or a pending answer not recorded yet", () => {
    const u1 = userTurn(1, "Also say goodbye", [kilnId("att", 0)], T0 + 60_000);
    const accepted = { userTurnId: u1.id, turnId: kilnId("turn", 210), attemptId: kilnId("att", 0) };
    const recorded = task({ status: "running", userTurns: [u0, u1], attempts: [attempt(0, [a1])] });
    const answer = WhamFollowUpResponse.parse(
      whamFollowUpResponse(recorded, accepted, {
        input: [{ type: "text", text: "ignored" }],
        now: T0 + 60_500,
      }),
    );
    expect(answer).toEqual({
      task: { id: TASK_ID },
      user_turn: {
        id: u1.id,
        role: "user",
        turn_status: "completed",
        created_at: 1795234820.07,
        input_items: prompt("Also say goodbye"),
      },
      assistant_turn: {
        id: accepted.turnId,
        role: "assistant",
        turn_status: "pending",
        created_at: 1795234820.57,
        attempt_placement: 0,
        sibling_turn_ids: [],
        output_items: [],
        error: null,
      },
    });
  });
});
