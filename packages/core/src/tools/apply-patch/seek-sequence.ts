/**
 * Finds where a run of patch lines sits in a file, forgiving the small differences models make when
 * they copy context: trailing whitespace, indentation, and typographic punctuation.
 */

type LineComparison = (fileLine: string, patternLine: string) => boolean;

/**
 * Comparisons from strictest to most lenient. The first one that finds the pattern anywhere wins, so a
 * lenient match never beats an exact match further down the file.
 */
const COMPARISONS: readonly LineComparison[] = [
  (a, b) => a === b,
  (a, b) => a.trimEnd() === b.trimEnd(),
  (a, b) => a.trim() === b.trim(),
  (a, b) => normalizePunctuation(a) === normalizePunctuation(b),
];

/**
 * Returns the index of the first line at or after `start` where `pattern` occurs in `lines`, or
 * `undefined`. Tries an exact match, then ignoring trailing whitespace, then ignoring leading and
 * trailing whitespace, then after normalising Unicode dashes, quotes and spaces to ASCII.
 *
 * With `endOfFile`, the pattern is first tried at the very end of the file (where an `*** End of File`
 * chunk belongs), and only then searched from `start`. An empty pattern matches at `start`.
 */
export function seekSequence(
  lines: readonly string[],
  pattern: readonly string[],
  start: number,
  endOfFile: boolean,
): number | undefined {
  if (pattern.length === 0) return start;
  if (pattern.length > lines.length) return undefined;

  const lastStart = lines.length - pattern.length;
  if (endOfFile) {
    const atEnd = findFrom(lines, pattern, lastStart, lastStart);
    if (atEnd !== undefined) return atEnd;
  }
  return findFrom(lines, pattern, start, lastStart);
}

function findFrom(
  lines: readonly string[],
  pattern: readonly string[],
  from: number,
  to: number,
): number | undefined {
  for (const same of COMPARISONS) {
    for (let index = from; index <= to; index++) {
      if (matchesAt(lines, pattern, index, same)) return index;
    }
  }
  return undefined;
}

function matchesAt(
  lines: readonly string[],
  pattern: readonly string[],
  index: number,
  same: LineComparison,
): boolean {
  return pattern.every((patternLine, offset) => same(lines[index + offset] ?? "", patternLine));
}

const PUNCTUATION_TO_ASCII: ReadonlyMap<string, string> = new Map([
  // Hyphens and dashes, and the minus sign.
  ...["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212"].map((c) => [c, "-"] as const),
  // Curly and low single quotes.
  ...["\u2018", "\u2019", "\u201A", "\u201B"].map((c) => [c, "'"] as const),
  // Curly and low double quotes.
  ...["\u201C", "\u201D", "\u201E", "\u201F"].map((c) => [c, '"'] as const),
  // No-break and typographic spaces.
  ...[
    "\u00A0",
    "\u2002",
    "\u2003",
    "\u2004",
    "\u2005",
    "\u2006",
    "\u2007",
    "\u2008",
    "\u2009",
    "\u200A",
    "\u202F",
    "\u205F",
    "\u3000",
  ].map((c) => [c, " "] as const),
]);

const PUNCTUATION_PATTERN = new RegExp(`[${[...PUNCTUATION_TO_ASCII.keys()].join("")}]`, "g");

// Trims, composes (NFC) and maps typographic punctuation to its ASCII look-alike.
function normalizePunctuation(line: string): string {
  return line
    .trim()
    .normalize("NFC")
    .replace(PUNCTUATION_PATTERN, (c) => PUNCTUATION_TO_ASCII.get(c) ?? c);
}
