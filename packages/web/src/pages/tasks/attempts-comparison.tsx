// Two attempts' changes compared file by file: which files each touched (and how much), which
// changes are the same, and each file's two diffs side by side.
import type { Attempt } from "@kiln/protocol";
import { useId, useMemo, useState } from "react";
import { DiffCounts, DiffView } from "../../events/diff-view.tsx";
import { type FileDiffText, parseDiff, splitDiffByFile } from "../../events/parse-diff.ts";

/** One file in the comparison. */
interface ComparedFile {
  path: string;
  a: FileDiffText | undefined;
  b: FileDiffText | undefined;
}

/** Compares the files two diffs change. */
export function compareDiffs(a: string, b: string): ComparedFile[] {
  const left = new Map(splitDiffByFile(a).map((f) => [f.path, f]));
  const right = new Map(splitDiffByFile(b).map((f) => [f.path, f]));
  const paths = [...new Set([...left.keys(), ...right.keys()])].sort();
  return paths.map((path) => ({ path, a: left.get(path), b: right.get(path) }));
}

/** Drops the `index <blob>..<blob>` line: equal content has equal blobs, but say so by content. */
const body = (file: FileDiffText | undefined) => file?.text.replace(/^index .*\n/m, "");

function counts(file: FileDiffText | undefined) {
  if (file === undefined) return <span className="muted">unchanged</span>;
  try {
    const parsed = parseDiff(file.text)[0];
    return <DiffCounts additions={parsed?.additions ?? 0} deletions={parsed?.deletions ?? 0} />;
  } catch {
    return <span className="muted">changed</span>;
  }
}

/** The comparison of two of `attempts`, chosen with two selects. */
export function AttemptsComparison({ attempts }: { attempts: readonly Attempt[] }) {
  const id = useId();
  const [aIndex, setA] = useState(attempts[0]?.index ?? 0);
  const [bIndex, setB] = useState(attempts[1]?.index ?? 1);
  const a = attempts.find((x) => x.index === aIndex);
  const b = attempts.find((x) => x.index === bIndex);
  const files = useMemo(() => compareDiffs(a?.diff ?? "", b?.diff ?? ""), [a?.diff, b?.diff]);
  const options = attempts.map((x) => (
    <option key={x.index} value={x.index}>
      Attempt {x.index + 1} ({x.status})
    </option>
  ));
  return (
    <section className="panel comparison" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Compare attempts</h2>
      <div className="form-row">
        <label>
          Left
          <select value={aIndex} onChange={(e) => setA(Number(e.target.value))}>
            {options}
          </select>
        </label>
        <label>
          Right
          <select value={bIndex} onChange={(e) => setB(Number(e.target.value))}>
            {options}
          </select>
        </label>
      </div>
      {files.length === 0 ? (
        <p className="muted">Neither attempt changed anything yet.</p>
      ) : (
        <div className="table-scroll">
          <table
            className="compare-table"
            aria-label={`Files changed by attempt ${aIndex + 1} and attempt ${bIndex + 1}`}
          >
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Attempt {aIndex + 1}</th>
                <th scope="col">Attempt {bIndex + 1}</th>
                <th scope="col">Same change</th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.path}>
                  <th scope="row">
                    <code>{f.path}</code>
                  </th>
                  <td>{counts(f.a)}</td>
                  <td>{counts(f.b)}</td>
                  <td>{body(f.a) === body(f.b) ? "yes" : "no"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {files.map((f) => (
        <details key={f.path} className="compare-file" open={body(f.a) !== body(f.b) && files.length <= 8}>
          <summary>
            <code>{f.path}</code>
            {body(f.a) === body(f.b) && <span className="muted"> (same in both)</span>}
          </summary>
          <div className="side-by-side">
            <section aria-label={`Attempt ${aIndex + 1}: ${f.path}`}>
              <h3 className="side-title">Attempt {aIndex + 1}</h3>
              {f.a === undefined ? (
                <p className="muted">Not changed.</p>
              ) : (
                <DiffView diff={f.a.text} mode="unified" />
              )}
            </section>
            <section aria-label={`Attempt ${bIndex + 1}: ${f.path}`}>
              <h3 className="side-title">Attempt {bIndex + 1}</h3>
              {f.b === undefined ? (
                <p className="muted">Not changed.</p>
              ) : (
                <DiffView diff={f.b.text} mode="unified" />
              )}
            </section>
          </div>
        </details>
      ))}
    </section>
  );
}
