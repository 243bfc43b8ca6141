// The workflow bundle tests run: the same cached, out-of-process bundle the worker uses (built once per source version).
import { workflowBundlePath } from '../../worker/workflow-bundle';

let codePath: Promise<string> | undefined;

export async function workflowBundle(): Promise<{ codePath: string }> {
  codePath ??= workflowBundlePath();
  return { codePath: await codePath };
}
