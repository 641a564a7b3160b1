/**
 * The `apply_patch` tool's prompt for the model: when to use it, the format with an example, and its
 * limits. `description.md` holds the same text for people; a test keeps the two identical.
 */
export const APPLY_PATCH_DESCRIPTION = `Create, edit, rename and delete files in the workspace by sending a patch. Use this tool for every file
change. Do not use it to read files: read a file first if you are not sure of its current content. Send
the raw patch text: no JSON, no code fence, no heredoc.

## Format

A patch is an envelope holding one or more file operations:

\`\`\`
*** Begin Patch
[ one or more file operations ]
*** End Patch
\`\`\`

Each operation starts with one of three headers:

- \`*** Add File: <path>\` creates a file. Every following line is a \`+\` line holding the contents, blank
  lines included (a lone \`+\`). An existing file at that path is replaced.
- \`*** Delete File: <path>\` deletes an existing file. Nothing follows.
- \`*** Update File: <path>\` edits an existing file. To rename it as well, put \`*** Move to: <new path>\`
  on the next line; an existing file at the new path is replaced.

An update is made of one or more chunks. Each chunk starts with \`@@\`, optionally followed by a line that
occurs above the change, such as a class or function signature, to say where it is
(\`@@ def handler():\`). Then come the chunk's lines, each starting with one character:

- \` \` (a space): a context line, kept as is;
- \`-\`: a line to remove;
- \`+\`: a line to add.

Copy context lines exactly from the file: about 3 above and 3 below each change, enough to find it. When
that context could match in more than one place, add the \`@@ <line>\` header. Chunks must be in the order
they appear in the file. End a chunk with \`*** End of File\` when its lines are the last ones of the file.

## Example

\`\`\`
*** Begin Patch
*** Add File: docs/hello.md
+# Hello
+
+Nice to meet you.
*** Update File: src/app.py
*** Move to: src/main.py
@@ def greet():
     name = get_name()
-    print("Hi")
+    print(f"Hello, {name}!")
     return name
*** Delete File: obsolete.txt
*** End Patch
\`\`\`

## Rules

- Paths are relative to the workspace root. Absolute paths, and paths that lead outside the workspace
  (with \`../\` or through a symbolic link), are refused.
- A patch is atomic: if any operation cannot be applied (a missing file, context lines not found, an
  invalid line), nothing is changed and the error says what and where. Fix the patch and send all of it
  again.
- Files are written with a final newline; files with CRLF line endings keep them.
- Only UTF-8 text files can be patched. Directories and symbolic links cannot be deleted or moved.

On success the tool answers \`Success. Updated the following files:\` followed by one line per file: \`A\`
added, \`M\` modified (a moved file under its new path), \`D\` deleted.
`;
