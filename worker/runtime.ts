// Installs the Temporal runtime for the worker process: structured JSON logs and the Prometheus metrics endpoint.
import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogEntry } from '@temporalio/worker';
import type { WorkerConfig } from './config';

/** One JSON object per line: time, level, message, and the SDK's metadata (workflowId, runId, activityId, ...). */
function jsonLine(entry: LogEntry): void {
  const line = JSON.stringify({
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level,
    message: entry.message,
    ...entry.meta,
  });
  process.stderr.write(`${line}\n`);
}

export function installWorkerRuntime(config: WorkerConfig['observability']): void {
  Runtime.install({
    logger:
      config.logFormat === 'json'
        ? new DefaultLogger(config.logLevel, jsonLine)
        : new DefaultLogger(config.logLevel),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      ...(config.metricsAddress ? { metrics: { prometheus: { bindAddress: config.metricsAddress } } } : {}),
    },
  });
}
