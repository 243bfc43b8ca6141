// Workflow entry points the worker bundles; the exported names are the workflow types.
export { exportVisualization } from './export-visualization';
export type { ExportRunState } from './export-visualization';
