import { KilnError } from "@kiln/protocol";
import { Ajv } from "ajv";

/** A checker for `--output-schema`: returns a problem description, or undefined when the text is valid. */
export function createOutputSchemaCheck(
  schema: Record<string, unknown>,
): (text: string) => string | undefined {
  const ajv = new Ajv({ allErrors: true, strict: false });
  let validate: ReturnType<Ajv["compile"]>;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw new KilnError(
      "invalid_request",
      `the output schema is not a valid JSON Schema: ${(error as Error).message}`,
    );
  }
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return "it is not valid JSON";
    }
    if (validate(value)) return undefined;
    return ajv.errorsText(validate.errors, { dataVar: "message" });
  };
}
