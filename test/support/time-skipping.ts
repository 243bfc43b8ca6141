// Starts Temporal's time-skipping test server from the pinned binary (the SDK's own download cannot work offline).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes';
import { findBinary } from '../../local-stack/binaries';
import { installQuietRuntime } from './quiet-runtime';

/** IndexedValueType.KEYWORD in the operator API. */
const KEYWORD = 2;

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: findBinary('temporal-test-server') } },
  });
  // The workflow upserts these; an unregistered search attribute would fail its workflow task.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, KEYWORD])),
  });
  return env;
}
