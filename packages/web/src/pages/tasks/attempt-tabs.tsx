// A task's attempts as tabs (arrow keys move between them), or side by side on a wide screen. Only
// the attempts on screen follow their events live.
import type { Task } from "@kiln/protocol";
import { type KeyboardEvent, useId, useRef, useState } from "react";
import { StatusBadge } from "../../components/status-badge.tsx";
import { AttemptPanel } from "./attempt-panel.tsx";

/** Props of {@link AttemptTabs}. */
export interface AttemptTabsProps {
  task: Task;
  /** The selected attempt's position in `task.attempts`. */
  selected: number;
  onSelect: (index: number) => void;
}

/** The attempts' tabs and panels. */
export function AttemptTabs({ task, selected, onSelect }: AttemptTabsProps) {
  const id = useId();
  const [sideBySide, setSideBySide] = useState(false);
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const attempts = task.attempts;
  const current = Math.min(selected, attempts.length - 1);

  if (attempts.length === 1) {
    return (
      <section className="attempts" aria-label="Attempt 1">
        <AttemptPanel task={task} attempt={attempts[0]!} live />
      </section>
    );
  }

  const onKeyDown = (event: KeyboardEvent) => {
    const moves: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      Home: -current,
      End: attempts.length - 1 - current,
    };
    const move = moves[event.key];
    if (move === undefined) return;
    event.preventDefault();
    const next = (current + move + attempts.length) % attempts.length;
    onSelect(next);
    tabs.current[next]?.focus();
  };

  const toggle = (
    <button
      type="button"
      className="ghost"
      aria-pressed={sideBySide}
      onClick={() => setSideBySide((s) => !s)}
    >
      Side by side
    </button>
  );

  if (sideBySide) {
    return (
      <section className="attempts" aria-label="Attempts">
        <div className="attempts-toolbar">{toggle}</div>
        <div
          className="attempts-grid"
          style={{ gridTemplateColumns: `repeat(${attempts.length}, minmax(22rem, 1fr))` }}
        >
          {attempts.map((attempt) => (
            <section key={attempt.id} className="attempt-column" aria-label={`Attempt ${attempt.index + 1}`}>
              <h2 className="attempt-title">Attempt {attempt.index + 1}</h2>
              <AttemptPanel task={task} attempt={attempt} live />
            </section>
          ))}
        </div>
      </section>
    );
  }

  const attempt = attempts[current]!;
  return (
    <section className="attempts" aria-label="Attempts">
      <div className="attempts-toolbar">
        <div role="tablist" aria-label="Attempts" className="tabs" onKeyDown={onKeyDown}>
          {attempts.map((a, i) => (
            <button
              key={a.id}
              ref={(el) => {
                tabs.current[i] = el;
              }}
              type="button"
              role="tab"
              id={`${id}-tab-${i}`}
              aria-selected={i === current}
              aria-controls={`${id}-panel`}
              tabIndex={i === current ? 0 : -1}
              onClick={() => onSelect(i)}
            >
              Attempt {a.index + 1} <StatusBadge status={a.status} />
            </button>
          ))}
        </div>
        <span className="wide-only">{toggle}</span>
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${current}`}>
        <AttemptPanel key={attempt.id} task={task} attempt={attempt} live />
      </div>
    </section>
  );
}
