// Renders a workflow history as searchable text with every payload decoded, so tests can look for leaked secrets.
import type { temporal } from '@temporalio/proto';

export function historyText(history: temporal.api.history.v1.IHistory): string {
  const parts: string[] = [];
  // A hand-rolled walk: protobufjs' toJSON would render payload bytes as base64 and hide their text.
  const visit = (value: unknown): void => {
    if (value === null || value === undefined) return;
    if (value instanceof Uint8Array) {
      parts.push(Buffer.from(value).toString('utf8'));
    } else if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        parts.push(key);
        visit(child);
      }
    } else {
      parts.push(String(value));
    }
  };
  visit(history);
  return parts.join('\n');
}
