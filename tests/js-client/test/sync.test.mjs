// docs/protocol.md is enough to write a client: this one (client.mjs)
// logs in as a grid worker, pulls the grid, creates a household, edits
// one field, and a second device of the same worker, a supervisor's
// device and the server's own console (Rust reading the documents) all
// see both, against a real gridwork-server process.

import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";

import * as A from "@automerge/automerge";

import { Device, decodeFrame, encodeFrame, str, uuidv7 } from "../client.mjs";
import { PASSWORD, startServer } from "../server.mjs";

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

afterEach((t) => {
  // The server's log, for a failed test only.
  if (t.passed === false) console.error(server?.log());
});

/** A new household's fields besides the common ones (section 7). */
function household(room) {
  return {
    address: {
      estate: str("阳光花园"),
      building: str("3"),
      unit: str("2"),
      room: str(room),
      village: str(""),
      group: str(""),
      detail: str(""),
    },
    point: null,
    use: str("owner_occupied"),
    owner_name: str("李四"),
    owner_phone: null,
    owner_id_number: null,
    door_plate_photo: null,
    flags: {
      low_income: false,
      living_alone: false,
      disability: false,
      special_support: false,
      key_concern: false,
    },
    last_visit_at: null,
    review: [],
  };
}

/** The server's console, signed in as `user`: the record as Rust reads it. */
async function consoleRecord(user, id) {
  const signIn = await fetch(`${server.base}/console/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-gridwork-console": "1" },
    body: JSON.stringify({ user, password: PASSWORD }),
  });
  assert.equal(signIn.status, 200, await signIn.clone().text());
  const cookie = signIn.headers.get("set-cookie").split(";")[0];
  const page = await fetch(`${server.base}/console/api/records/${id}`, {
    headers: { cookie },
  });
  assert.equal(page.status, 200, await page.clone().text());
  return page.json();
}

test("a household made and edited by the JavaScript client reaches a second device", async () => {
  const worker = server.logins["grid worker"].user;
  const a = await Device.login(server.base, worker, PASSWORD, "js tablet A");
  assert.match(a.actor, /^[0-9a-f]{32}$/);

  // Pull: the worker's grid arrives, and the cursor is kept as a BigInt.
  const first = await a.sync();
  assert.deepEqual(first.rejected, []);
  assert.ok(a.docs.size > 0, "the demo's records reach the device");
  assert.equal(typeof a.cursor, "bigint");
  const mine = [...a.docs.keys()].map((id) => a.record(id));
  assert.ok(
    mine.some((r) => r.kind === "household" && typeof r.owner_name === "string"),
    "a demo household reads with plain strings",
  );

  // Create, push; then edit one field of a nested map, push.
  const id = a.create("household", household("501"));
  const created = await a.sync();
  assert.deepEqual(created.rejected, [], "the household is stored");
  assert.deepEqual(created.notices, []);
  a.edit(id, (d) => {
    d.address.room = str("502");
  });
  const edited = await a.sync();
  assert.deepEqual(edited.rejected, [], "the edit is stored");
  assert.deepEqual(edited.notices, []);
  assert.equal(a.outbox.length, 0);

  // A second device of the same worker: both changes arrive.
  const b = await Device.login(server.base, worker, PASSWORD, "js tablet B");
  await b.sync();
  const seen = b.record(id);
  assert.ok(seen, "the new household reaches the second device");
  assert.equal(seen.address.room, "502", "the edit reaches the second device");
  assert.equal(seen.owner_name, "李四");
  assert.equal(seen.created_by, worker);
  const history = A.getAllChanges(b.docs.get(id)).map(A.decodeChange);
  assert.equal(history.length, 2, "the creation and the edit");
  for (const change of history) {
    assert.equal(change.actor, a.actor, "made under the actor from login");
    assert.equal(change.message, worker, "the message is the user id");
    assert.ok(Math.abs(change.time - Date.now() / 1000) < 600, "the time is in seconds");
  }

  // Another user of the grid: the demo's supervisor, on a device…
  const supervisor = server.logins.supervisor.user;
  const c = await Device.login(server.base, supervisor, PASSWORD, "js supervisor tablet");
  await c.sync();
  assert.equal(c.record(id)?.address.room, "502");

  // …and the server itself: its console reads the document with Rust.
  const page = await consoleRecord(supervisor, id);
  assert.equal(page.record.address.room, "502");
  assert.equal(page.record.use, "owner_occupied");

  // Edits flow back: the second device edits, the first receives it.
  b.edit(id, (d) => {
    d.flags.living_alone = true;
  });
  assert.deepEqual((await b.sync()).rejected, []);
  await a.sync();
  assert.equal(a.record(id).flags.living_alone, true);
  assert.equal(a.record(id).address.room, "502");
});

test("a forbidden edit comes back as a notice: a code and params, no sentence", async () => {
  const worker = server.logins["grid worker"].user;
  const a = await Device.login(server.base, worker, PASSWORD, "js tablet notices");
  await a.sync();
  const id = a.create("household", household("601"));
  assert.deepEqual((await a.sync()).notices, []);
  const createdAt = a.record(id).created_at;

  // Section 11: who created a record and when cannot change.
  a.edit(id, (d) => {
    d.created_at = createdAt - 86_400_000;
  });
  const answer = await a.sync();
  assert.deepEqual(answer.rejected, [], "stored, not refused");
  assert.deepEqual(answer.notices, [
    { id, code: "immutable_field", params: {}, undone: true },
  ]);
  assert.equal(a.outbox.length, 0, "acknowledged");
  // The server's undoing change came in the same answer.
  assert.equal(a.record(id).created_at, createdAt);
});

test("the server refuses a change whose message is not the user id", async () => {
  const worker = server.logins["grid worker"].user;
  const d = await Device.login(server.base, worker, PASSWORD, "js tablet D");
  await d.sync();
  const id = uuidv7();
  const forged = { message: "someone-else", time: Math.floor(Date.now() / 1000) };
  let doc = A.init({ actor: d.actor });
  doc = A.change(doc, forged, (x) => {
    x.kind = str("household");
    x.v = 1;
    x.id = str(id);
    x.grid = str(d.user.grid);
    x.created_by = str(worker);
    x.created_at = Date.now();
    x.deleted = false;
    Object.assign(x, household("601"));
  });
  d.docs.set(id, doc);
  d.outbox.push({ id, change: A.getLastLocalChange(doc) });
  const { rejected } = await d.sync();
  assert.deepEqual(
    rejected.map((r) => [r.id, r.code]),
    [[id, "author_mismatch"]],
  );
});

test("frames: header, CBOR keys, a 64-bit cursor, and the server's errors", async () => {
  // An idle request is 8 bytes: GW 3 0 {"c": 0}.
  assert.deepEqual([...encodeFrame({ c: 0 })], [0x47, 0x57, 3, 0, 0xa1, 0x61, 0x63, 0x00]);
  // A cursor past 2^53 survives a round through the codec as a BigInt.
  const big = (32n << 48n) + 7n;
  assert.equal(BigInt(decodeFrame(encodeFrame({ c: big })).c), big);

  const worker = server.logins["grid worker"].user;
  const e = await Device.login(server.base, worker, PASSWORD, "js tablet E");
  const post = (body, type = "application/x-gridwork-sync") =>
    fetch(`${server.base}/v1/sync`, {
      method: "POST",
      headers: { authorization: `Bearer ${e.token}`, "content-type": type },
      body,
    });
  const codeOf = async (response) => [response.status, (await response.json()).code];
  const version1 = encodeFrame({ c: 0 });
  version1[2] = 1;
  assert.deepEqual(await codeOf(await post(version1)), [400, "unsupported_version"]);
  // Version 2, before compact changes: refused too (the app says "update").
  const version2 = encodeFrame({ c: 0 });
  version2[2] = 2;
  assert.deepEqual(await codeOf(await post(version2)), [400, "unsupported_version"]);
  assert.deepEqual(await codeOf(await post(new Uint8Array([1, 2, 3, 4, 5]))), [400, "bad_magic"]);
  assert.deepEqual(
    await codeOf(await post(encodeFrame({ c: 0 }), "application/octet-stream")),
    [400, "bad_request"],
  );
  const anonymous = await fetch(`${server.base}/v1/sync`, {
    method: "POST",
    headers: { "content-type": "application/x-gridwork-sync" },
    body: encodeFrame({ c: 0 }),
  });
  assert.deepEqual(await codeOf(anonymous), [401, "unauthenticated"]);
  // A cursor of epoch 32 (past 2^53) is accepted: another epoch counts as 0.
  const answer = await e.post("/v1/sync", encodeFrame({ c: big }));
  assert.ok(BigInt(answer.c) < 1n << 48n, "epoch 0, a position");
});
