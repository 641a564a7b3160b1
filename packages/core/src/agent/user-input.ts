import { readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { type ContentPart, type InputPart, KilnError } from "@kiln/protocol";

const IMAGE_TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
};

/** A prompt as input parts. */
export function normalizeInput(input: string | InputPart[]): InputPart[] {
  return typeof input === "string" ? [{ type: "text", text: input }] : input;
}

/** Input parts as model content; local images become data URLs (a missing file is a clear error). */
export function toModelContent(parts: InputPart[], cwd: string): ContentPart[] {
  return parts.map((part) => {
    if (part.type === "text") return { type: "input_text", text: part.text };
    const path = resolve(cwd, part.path);
    const mime = IMAGE_TYPES[extname(path).toLowerCase()];
    if (mime === undefined) {
      throw new KilnError(
        "invalid_request",
        `${part.path}: not an image Kiln can send (use .png, .jpg, .gif or .webp)`,
      );
    }
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch {
      throw new KilnError("invalid_request", `cannot read image ${path}: check the path`);
    }
    return { type: "input_image", image_url: `data:${mime};base64,${data.toString("base64")}` };
  });
}
