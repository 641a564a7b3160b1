/**
 * The Lark grammar of the `apply_patch` format, for a Responses API `custom` tool with
 * `format: { type: "grammar", syntax: "lark", definition: APPLY_PATCH_LARK_GRAMMAR }`. It constrains the
 * model's output to the strict form; `parsePatch` is deliberately more lenient (padded markers, heredoc
 * wrapping, a first chunk without `@@`). Codex's `tool_apply_patch.lark`, except that an update must
 * contain a change (Codex's grammar allows an empty one, which both parsers then reject).
 */
export const APPLY_PATCH_LARK_GRAMMAR = `start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk
add_hunk: "*** Add File: " filename LF add_line+
delete_hunk: "*** Delete File: " filename LF
update_hunk: "*** Update File: " filename LF change_move? change

filename: /(.+)/
add_line: "+" /(.*)/ LF -> line

change_move: "*** Move to: " filename LF
change: (change_context | change_line)+ eof_line?
change_context: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
eof_line: "*** End of File" LF

%import common.LF
`;
