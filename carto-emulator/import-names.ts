// Names of what an import creates: valid table names, `t` → `t_1` on collisions, and `X Import` for maps.

const MAX_TABLE_NAME = 60;

/** `ValidTableNameProposer`: lower-case, only `[a-z0-9_]`, starting with a letter, at most 60 characters. */
export function validTableName(raw: string): string {
  let name = raw.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (!/^[a-z]/.test(name)) name = `table_${name}`;
  return name.slice(0, MAX_TABLE_NAME);
}

/** The first of `name`, `name_1`, `name_2`, … that no existing table of the user has. */
export function availableTableName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  for (let suffix = 1; ; suffix += 1) {
    const tail = `_${suffix}`;
    const candidate = `${name.slice(0, MAX_TABLE_NAME - tail.length)}${tail}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** `ensure_unique_name` for restored maps: `X`, then `X Import`, `X Import 2`, … among the user's maps. */
export function availableMapName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  let candidate = `${name} Import`;
  for (let suffix = 2; taken.has(candidate); suffix += 1) candidate = `${name} Import ${suffix}`;
  return candidate;
}
