// Fills a fresh catalog with the users and the deterministic demo maps every emulator with the same options shares.
import { Catalog, type TablePrivacy, type VisualizationPrivacy } from './catalog';
import { deterministicUuid } from './ids';

const THEMES = [
  'Store locations',
  'Delivery zones',
  'Customer visits',
  'Sales territories',
  'Flood risk',
  'Bike lanes',
  'Air quality',
  'Retail footfall',
];

/** Seeded timestamps start here so listings and generated files never depend on when the emulator started. */
const SEED_EPOCH = Date.UTC(2024, 2, 1, 9, 0, 0);
const DAY = 86_400_000;

export interface SeedOptions {
  users: { name: string; apiKey: string }[];
  maps: number;
}

export function seedCatalog(options: SeedOptions): Catalog {
  const catalog = new Catalog();
  for (const user of options.users) catalog.addAccount(user.name, user.apiKey);
  const owner = options.users[0]?.name;
  if (owner === undefined) return catalog;
  for (let index = 1; index <= options.maps; index += 1) {
    const theme = THEMES[(index - 1) % THEMES.length];
    const privacy = mapPrivacy(index, options.maps);
    const createdAt = SEED_EPOCH + (index - 1) * DAY;
    const base = `${theme.toLowerCase().replace(/ /g, '_')}_${index}`;
    // Odd maps read two tables and even maps one, so exports with and without user_tables_ids both have cases.
    const tableNames = index % 2 === 1 ? [base, `${base}_areas`] : [base];
    const tableIds = tableNames.map((name, position) => {
      const table = catalog.addTable({
        owner,
        name,
        privacy: tablePrivacy(privacy),
        rowCount: 250 * index + 40 * position,
        createdAt: new Date(createdAt - 3_600_000 + position * 60_000).toISOString(),
        id: deterministicUuid('table', owner, name),
        canonicalId: deterministicUuid('dataset', owner, name),
      });
      return table.id;
    });
    catalog.addDerived({
      id: deterministicUuid('visualization', owner, String(index)),
      name: `${theme} ${index}`,
      owner,
      privacy,
      tableIds,
      description: `Demo map ${index} of the CARTO emulator`,
      createdAt: new Date(createdAt).toISOString(),
      updatedAt: new Date(createdAt + 6 * 3_600_000 + index * 60_000).toISOString(),
    });
  }
  return catalog;
}

/**
 * The first maps are public (anonymous exports work); the last is private (anonymous and other users get 403), and
 * with enough maps one is link-shared and one password-protected, to cover every privacy the API reports.
 */
function mapPrivacy(index: number, count: number): VisualizationPrivacy {
  if (count >= 2 && index === count) return 'PRIVATE';
  if (count >= 4 && index === count - 1) return 'LINK';
  if (count >= 6 && index === count - 2) return 'PASSWORD';
  return 'PUBLIC';
}

/** Tables have no password privacy: a password-protected map keeps its data private. */
function tablePrivacy(privacy: VisualizationPrivacy): TablePrivacy {
  return privacy === 'PASSWORD' ? 'PRIVATE' : privacy;
}
