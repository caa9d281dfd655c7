// Installation settings over kysely: named values, written once or replaced.
import type { SettingsRepo } from '../../../ports/library-store.ts';
import type { Db } from './kysely-db.ts';

export class KyselySettingsRepo implements SettingsRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async get(name: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('settings')
      .select('value')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.value;
  }

  async putIfAbsent(name: string, value: string): Promise<string> {
    await this.db
      .insertInto('settings')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return (await this.get(name)) ?? value;
  }

  async put(name: string, value: string): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
      .execute();
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom('settings').where('name', '=', name).execute();
  }
}
