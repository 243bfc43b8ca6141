// Ruby's `inspect` of strings and symbol arrays, which CARTO interpolates into some error messages verbatim.

/** `["a", "b"]`: how `"Errors: #{errors.full_messages}"` renders an array of messages. */
export function inspectStrings(values: string[]): string {
  return `[${values.map(inspectString).join(', ')}]`;
}

/** `[:asc, :desc]`: how `ParamInvalidError` lists the valid values. */
export function inspectSymbols(values: readonly string[]): string {
  return `[${values.map((value) => `:${value}`).join(', ')}]`;
}

function inspectString(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(/\r/g, '\\r')
    .replace(/#(?=[{$@])/g, '\\#');
  return `"${escaped}"`;
}
