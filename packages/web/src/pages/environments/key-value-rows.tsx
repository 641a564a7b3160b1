// Editable name = value rows (environment variables, secrets): add, change, remove. Secret values are
// password inputs the browser does not autofill; every input has a name a screen reader can say.
import { useId } from "react";
import type { EnvironmentFormErrors, KeyValueRow } from "./environment-form-state.ts";

/** Props of {@link KeyValueRows}. */
export interface KeyValueRowsProps {
  /** `env` or `secrets`: the error keys' prefix. */
  field: "env" | "secrets";
  /** "Variable" or "Secret": names the inputs and buttons. */
  noun: string;
  rows: readonly KeyValueRow[];
  errors: EnvironmentFormErrors;
  secret?: boolean;
  onChange: (rows: KeyValueRow[]) => void;
}

/** The rows, with an "Add" button under them. */
export function KeyValueRows({ field, noun, rows, errors, secret = false, onChange }: KeyValueRowsProps) {
  const id = useId();
  const set = (i: number, patch: Partial<KeyValueRow>) =>
    onChange(rows.map((row, j) => (j === i ? { ...row, ...patch } : row)));
  return (
    <div className="kv-rows">
      {rows.map((row, i) => {
        const nameError = errors[`${field}.${i}.name`];
        const valueError = errors[`${field}.${i}.value`];
        const label = `${noun} ${i + 1}`;
        return (
          // Rows have no identity but their position: a removed row shifts the others up.
          // biome-ignore lint/suspicious/noArrayIndexKey: the position is the row's identity here
          <div key={i} className="kv-row">
            <input
              aria-label={`${label} name`}
              value={row.name}
              placeholder="NAME"
              spellCheck={false}
              autoCapitalize="characters"
              onChange={(e) => set(i, { name: e.target.value })}
              aria-invalid={nameError !== undefined}
              aria-describedby={nameError === undefined ? undefined : `${id}-${i}-name`}
            />
            <input
              aria-label={`${label} value`}
              value={row.value}
              type={secret ? "password" : "text"}
              autoComplete={secret ? "new-password" : "off"}
              placeholder={secret ? "value (write-only)" : "value"}
              spellCheck={false}
              onChange={(e) => set(i, { value: e.target.value })}
              aria-invalid={valueError !== undefined}
              aria-describedby={valueError === undefined ? undefined : `${id}-${i}-value`}
            />
            <button
              type="button"
              aria-label={`Remove ${label.toLowerCase()}`}
              onClick={() => onChange(rows.filter((_, j) => j !== i))}
            >
              Remove
            </button>
            {nameError !== undefined && (
              <p id={`${id}-${i}-name`} className="error" role="alert">
                {nameError}
              </p>
            )}
            {valueError !== undefined && (
              <p id={`${id}-${i}-value`} className="error" role="alert">
                {valueError}
              </p>
            )}
          </div>
        );
      })}
      <button type="button" onClick={() => onChange([...rows, { name: "", value: "" }])}>
        {`Add ${noun.toLowerCase()}`}
      </button>
    </div>
  );
}
