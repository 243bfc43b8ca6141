// Renders a workflow history as searchable text with every payload decoded, so tests can look for leaked secrets.
import type { temporal } from '@temporalio/proto';

export function historyText(history: temporal.api.history.v1.IHistory): string {
  return JSON.stringify(history, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    const buffer = value as { type?: string; data?: number[] };
    if (buffer && buffer.type === 'Buffer' && Array.isArray(buffer.data)) return Buffer.from(buffer.data).toString('utf8');
    return value;
  });
}
