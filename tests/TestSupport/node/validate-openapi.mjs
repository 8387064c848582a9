// Validates one OpenAPI document with the pinned @seriousme/openapi-schema-validator: the document against the
// official OpenAPI JSON Schema of its version, then every $ref resolved. Prints {"valid", "version", "errors"}.
// Usage: node validate-openapi.mjs <openapi.json>. Exit code 0 when valid, 1 when not.
import { Validator } from '@seriousme/openapi-schema-validator';

const file = process.argv[2];
if (!file) {
  console.error('usage: node validate-openapi.mjs <openapi.json>');
  process.exit(2);
}

const validator = new Validator();
const result = await validator.validate(file);
let errors = result.errors ?? [];
if (result.valid) {
  try {
    validator.resolveRefs();
  } catch (error) {
    errors = [{ message: `unresolved $ref: ${error.message}` }];
  }
}

const valid = result.valid && errors.length === 0;
console.log(JSON.stringify({ valid, version: validator.version ?? null, errors }, null, 2));
process.exit(valid ? 0 : 1);
