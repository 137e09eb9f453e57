import { assertEquals } from "../../tests/_helpers/assert.ts";
import { throws } from "node:assert/strict";
import { MigrationError, openDb, schemaVersion } from "./mod.ts";
import { MIGRATIONS } from "./migrations.ts";

Deno.test("openDb applies every migration once", () => {
  const db = openDb(":memory:");
  assertEquals(schemaVersion(db), MIGRATIONS.at(-1)!.version);
  db.close();
});

Deno.test("a failing migration changes nothing and names itself", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/m.db`;
  const first = [{ version: 1, name: "one", sql: "CREATE TABLE a (x INTEGER);" }];
  openDb(path, { migrations: first }).close();
  const bad = [...first, {
    version: 2,
    name: "broken",
    sql: "CREATE TABLE b (y INTEGER); INSERT INTO nope VALUES (1);",
  }];
  throws(() => openDb(path, { migrations: bad }), (e) => {
    return e instanceof MigrationError && /version 2 \(broken\)/.test(e.message);
  });
  const db = openDb(path, { migrations: first });
  assertEquals(schemaVersion(db), 1);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").all();
  assertEquals(tables.length, 0);
  db.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a database newer than the build is refused", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/m.db`;
  openDb(path, { migrations: [{ version: 5, name: "future", sql: "" }] }).close();
  throws(() => openDb(path, { migrations: MIGRATIONS.slice(0, 1) }), MigrationError);
  await Deno.remove(dir, { recursive: true });
});
