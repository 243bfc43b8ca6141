// The emulator's in-memory account database: users, their tables (datasets) and visualizations (maps).
import { deterministicUuid, randomId } from './ids';

export type VisualizationPrivacy = 'PUBLIC' | 'PRIVATE' | 'LINK' | 'PASSWORD';
export type TablePrivacy = 'PUBLIC' | 'PRIVATE' | 'LINK';

export interface Account {
  id: string;
  name: string;
  apiKey: string;
}

export interface UserTable {
  id: string;
  name: string;
  owner: string;
  privacy: TablePrivacy;
  /** The dataset (type 'table' visualization) that presents this table. */
  canonicalId: string;
  rowCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface Visualization {
  id: string;
  name: string;
  owner: string;
  type: 'derived' | 'table';
  privacy: VisualizationPrivacy;
  /** User table ids: the tables a map's layers read, or a dataset's own table. */
  tableIds: string[];
  mapId: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  /** Set when an import created it; `maps()` and `importedMaps()` tell seeded and restored maps apart with it. */
  importId?: string;
}

export class Catalog {
  readonly #accounts = new Map<string, Account>();
  readonly #visualizations = new Map<string, Visualization>();
  readonly #tables = new Map<string, UserTable>();

  addAccount(name: string, apiKey: string): Account {
    const account = { id: deterministicUuid('user', name), name, apiKey };
    this.#accounts.set(name, account);
    return account;
  }

  account(name: string): Account | undefined {
    return this.#accounts.get(name);
  }

  accountById(id: string): Account | undefined {
    return [...this.#accounts.values()].find((account) => account.id === id);
  }

  accounts(): Account[] {
    return [...this.#accounts.values()];
  }

  visualization(id: string): Visualization | undefined {
    return this.#visualizations.get(id.toLowerCase());
  }

  visualizations(owner?: string): Visualization[] {
    const all = [...this.#visualizations.values()];
    return owner === undefined ? all : all.filter((viz) => viz.owner === owner);
  }

  table(id: string): UserTable | undefined {
    return this.#tables.get(id.toLowerCase());
  }

  tables(owner: string): UserTable[] {
    return [...this.#tables.values()].filter((table) => table.owner === owner);
  }

  tableByName(owner: string, name: string): UserTable | undefined {
    return this.tables(owner).find((table) => table.name === name);
  }

  /** Registers a table together with its dataset visualization, as CARTO's table registrar does. */
  addTable(input: {
    owner: string;
    name: string;
    privacy: TablePrivacy;
    rowCount: number;
    createdAt: string;
    id?: string;
    canonicalId?: string;
    importId?: string;
  }): UserTable {
    const table: UserTable = {
      id: input.id ?? randomId(),
      name: input.name,
      owner: input.owner,
      privacy: input.privacy,
      canonicalId: input.canonicalId ?? randomId(),
      rowCount: input.rowCount,
      createdAt: input.createdAt,
      updatedAt: input.createdAt,
    };
    this.#tables.set(table.id, table);
    this.#visualizations.set(table.canonicalId, {
      id: table.canonicalId,
      name: table.name,
      owner: table.owner,
      type: 'table',
      privacy: table.privacy,
      tableIds: [table.id],
      mapId: deterministicUuid('map', table.canonicalId),
      description: '',
      createdAt: table.createdAt,
      updatedAt: table.updatedAt,
      importId: input.importId,
    });
    return table;
  }

  /** An import with collision_strategy=overwrite replaces the data but keeps the table and its dataset. */
  touchTable(table: UserTable, at: string): void {
    table.updatedAt = at;
    const dataset = this.visualization(table.canonicalId);
    if (dataset) dataset.updatedAt = at;
  }

  addDerived(input: Omit<Visualization, 'type' | 'mapId'> & { mapId?: string }): Visualization {
    const visualization: Visualization = {
      ...input,
      type: 'derived',
      mapId: input.mapId ?? deterministicUuid('map', input.id),
    };
    this.#visualizations.set(visualization.id, visualization);
    return visualization;
  }

  /** Derived maps whose layers read the given table (CARTO's "dependent visualizations"). */
  dependentMaps(tableId: string): Visualization[] {
    return this.visualizations().filter((viz) => viz.type === 'derived' && viz.tableIds.includes(tableId));
  }
}
