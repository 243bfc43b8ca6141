// VisualizationPresenter: how GET /api/v1/viz shows a map or dataset to its owner (private) or anyone else (public).
import type { Account, Catalog, UserTable, Visualization } from './catalog';
import { deterministicUuid } from './ids';
import { isOwner } from './visibility';

export interface PresenterOptions {
  related: boolean;
  showStats: boolean;
  showTable: boolean;
  showLiked: boolean;
  showPermission: boolean;
  showSynchronization: boolean;
  showUsesBuilderFeatures: boolean;
  showTableSizeAndRowCount: boolean;
  showAuthTokens: boolean;
  withDependentVisualizations: number;
}

export const DEFAULT_PRESENTER_OPTIONS: PresenterOptions = {
  related: true,
  showStats: true,
  showTable: true,
  showLiked: true,
  showPermission: true,
  showSynchronization: true,
  showUsesBuilderFeatures: true,
  showTableSizeAndRowCount: true,
  showAuthTokens: true,
  withDependentVisualizations: 0,
};

export function presentVisualization(
  visualization: Visualization,
  viewer: Account | undefined,
  catalog: Catalog,
  origin: string,
  options: PresenterOptions,
): Record<string, unknown> {
  const poro = isOwner(visualization, viewer)
    ? privatePoro(visualization, viewer, catalog, origin, options)
    : publicPoro(visualization);
  if (options.withDependentVisualizations > 0) {
    const dependents =
      visualization.type === 'table'
        ? catalog
            .dependentMaps(visualization.tableIds[0])
            .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        : [];
    poro.dependent_visualizations_count = dependents.length;
    poro.dependent_visualizations = dependents
      .slice(0, options.withDependentVisualizations)
      .map((dependent) => ({
        id: dependent.id,
        name: dependent.name,
        updated_at: dependent.updatedAt,
        permission: { id: permissionId(dependent), owner: ownerPoro(dependent, catalog, origin) },
        auth_tokens: [],
      }));
  }
  if (options.showLiked) poro.liked = false;
  if (options.showPermission) poro.permission = permissionPoro(visualization, catalog, origin);
  poro.stats = {};
  poro.auth_tokens = [];
  if (options.showTable) {
    const table = visualization.type === 'table' ? catalog.table(visualization.tableIds[0]) : undefined;
    poro.table = table ? tablePoro(table, viewer, catalog, origin, options) : {};
  }
  return poro;
}

function privatePoro(
  visualization: Visualization,
  viewer: Account | undefined,
  catalog: Catalog,
  origin: string,
  options: PresenterOptions,
): Record<string, unknown> {
  const base = `${origin}/user/${viewer?.name ?? visualization.owner}`;
  const poro: Record<string, unknown> = {
    id: visualization.id,
    name: visualization.name,
    display_name: null,
    map_id: visualization.mapId,
    active_layer_id: deterministicUuid('layer', visualization.id, '1'),
    type: visualization.type,
    tags: [],
    description: visualization.description,
    privacy: visualization.privacy,
    created_at: visualization.createdAt,
    updated_at: visualization.updatedAt,
    locked: false,
    source: '',
    title: '',
    license: '',
    attributions: '',
    kind: 'geom',
    external_source: {},
    url:
      visualization.type === 'table'
        ? `${base}/dataset/${visualization.name}`
        : `${base}/viz/${visualization.id}/public_map`,
    version: 3,
    prev_id: null,
    next_id: null,
    parent_id: null,
    transition_options: {},
    active_child: null,
    children: [],
  };
  if (options.related) {
    poro.related_tables =
      visualization.type === 'derived'
        ? visualization.tableIds.flatMap((id) => {
            const table = catalog.table(id);
            return table ? [tablePoro(table, viewer, catalog, origin, DEFAULT_PRESENTER_OPTIONS)] : [];
          })
        : [];
  }
  if (options.showSynchronization) poro.synchronization = null;
  if (options.showUsesBuilderFeatures) poro.uses_builder_features = visualization.type === 'derived';
  return poro;
}

function publicPoro(visualization: Visualization): Record<string, unknown> {
  return {
    id: visualization.id,
    name: visualization.name,
    display_name: null,
    attributions: '',
    source: '',
    license: '',
    type: visualization.type,
    tags: [],
    description: visualization.description,
    created_at: visualization.createdAt,
    updated_at: visualization.updatedAt,
    title: '',
    kind: 'geom',
    privacy: visualization.privacy,
  };
}

function tablePoro(
  table: UserTable,
  viewer: Account | undefined,
  catalog: Catalog,
  origin: string,
  options: PresenterOptions,
): Record<string, unknown> {
  const poro: Record<string, unknown> = {
    id: table.id,
    name: table.name,
    geometry_types: ['ST_Point'],
    // UserTablePresenter reports link-shared tables as PUBLIC.
    privacy: table.privacy === 'LINK' ? 'PUBLIC' : table.privacy,
    updated_at: table.updatedAt,
  };
  if (viewer?.name === table.owner) poro.synchronization = null;
  if (options.showTableSizeAndRowCount) {
    poro.size = 16_384 + table.rowCount * 96;
    poro.row_count = table.rowCount;
  }
  const dataset = catalog.visualization(table.canonicalId);
  if (options.showPermission && dataset) poro.permission = permissionPoro(dataset, catalog, origin);
  return poro;
}

function permissionId(visualization: Visualization): string {
  return deterministicUuid('permission', visualization.id);
}

function permissionPoro(
  visualization: Visualization,
  catalog: Catalog,
  origin: string,
): Record<string, unknown> {
  return {
    id: permissionId(visualization),
    owner: ownerPoro(visualization, catalog, origin),
    entity: { id: visualization.id, type: 'vis' },
    acl: [],
    created_at: visualization.createdAt,
    updated_at: visualization.updatedAt,
  };
}

function ownerPoro(visualization: Visualization, catalog: Catalog, origin: string): Record<string, unknown> {
  const owner = catalog.account(visualization.owner);
  return {
    id: owner?.id ?? null,
    username: visualization.owner,
    avatar_url: null,
    base_url: `${origin}/user/${visualization.owner}`,
    org_admin: false,
    org_user: false,
  };
}
