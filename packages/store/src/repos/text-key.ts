// Case-insensitive matching done the same way on both databases: Kiln folds the text into a `*_key`
// column (SQLite's lower() and LIKE only fold ASCII; PostgreSQL's ILIKE depends on the locale), and
// searches that column with LIKE.

/** Unicode-normalised, lower-cased text: what names are unique by and searches match against. */
export function foldCase(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

/**
 * A LIKE pattern (for `LIKE ? ESCAPE '\'`) matching any text that contains `text` ignoring case, with
 * `%`, `_` and `\` in it matching themselves.
 */
export function containsPattern(text: string): string {
  return `%${foldCase(text).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
