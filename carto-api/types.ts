// Shapes of the CARTO API resources the client reads, as the server presents them (snake_case).

export type VisualizationExportState = 'pending' | 'exporting' | 'uploading' | 'complete' | 'failure';

/** Presenter of POST/GET /api/v3/visualization_exports: exactly these seven fields. */
export interface VisualizationExport {
  id: string;
  visualization_id: string;
  user_id: string | null;
  state: VisualizationExportState;
  url: string | null;
  created_at: string;
  updated_at: string;
}

/** The subset of GET /api/v1/imports/:id that carto-ferry relies on. */
export interface DataImport {
  id: string;
  state: string;
  error_code: number | null;
  get_error_text: { title: string; what_about: string; source: string } | null;
  table_name: string | null;
  table_id: string | null;
  tables_created_count: number | null;
  visualization_id: string | null;
  derived_visualization_id?: string | null;
  success?: boolean;
  display_name?: string;
  http_response_code?: string;
}

export interface ImportOptions {
  createVisualization: boolean;
  privacy?: 'public' | 'private' | 'link';
  collisionStrategy?: 'skip' | 'overwrite';
}

export interface VisualizationSummary {
  id: string;
  name: string;
  type: string;
  privacy: string;
  updated_at: string;
}
