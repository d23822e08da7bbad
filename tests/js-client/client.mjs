// A small Gridwork sync client, written from docs/protocol.md alone (not
// from the Rust code): login (section 2), frames (3, 4), the cursor as a
// BigInt (5), the sync loop with an outbox (6), record documents with
// plain strings, nested maps made with the record and the user id as each
// change's message (7). Records live in memory: it is a proof that the
// document is enough, not an app.

import * as A from "@automerge/automerge";
import { decode as decodeCbor, encode as encodeCbor } from "cborg";
import { decompress } from "fzstd";

export const CONTENT_TYPE = "application/x-gridwork-sync";
const VERSION = 3;
const FLAG_ZSTD = 1;

/** A protocol failure: the server's {code, message}, or a frame error. */
export class ProtocolError extends Error {
  constructor(status, code, message) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/** Section 3: `G` `W` version flags, then the message as CBOR (sent uncompressed). */
export function encodeFrame(message) {
  // cborg writes objects as maps with text keys, Uint8Arrays as byte
  // strings and BigInts as unsigned integers.
  const body = encodeCbor(message);
  const frame = new Uint8Array(4 + body.length);
  frame.set([0x47, 0x57, VERSION, 0], 0);
  frame.set(body, 4);
  return frame;
}

/** Section 3: reads a frame, decompressing a zstd payload. */
export function decodeFrame(bytes) {
  const frame = new Uint8Array(bytes);
  if (frame.length < 4 || frame[0] !== 0x47 || frame[1] !== 0x57) {
    throw new ProtocolError(0, "bad_magic", "not a Gridwork frame");
  }
  if (frame[2] !== VERSION) {
    throw new ProtocolError(0, "unsupported_version", `version ${frame[2]}`);
  }
  let payload = frame.subarray(4);
  if (frame[3] === FLAG_ZSTD) {
    payload = decompress(payload);
  } else if (frame[3] !== 0) {
    throw new ProtocolError(0, "malformed", `flags ${frame[3]}`);
  }
  // Integers past 2^53 come back as BigInts, the others as numbers.
  return decodeCbor(payload);
}

/** A record id (text UUID) as its 16 raw bytes, and back. */
export function uuidBytes(id) {
  return Uint8Array.from(Buffer.from(id.replaceAll("-", ""), "hex"));
}

export function uuidText(bytes) {
  const h = Buffer.from(bytes).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A new UUIDv7: 48 bits of Unix milliseconds, then random bits. */
export function uuidv7() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let ms = BigInt(Date.now());
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  return uuidText(b);
}

/** A plain (scalar) string for a document: never Automerge Text (section 7). */
export const str = (s) => new A.ImmutableString(s);

async function failure(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // A bare status, as the HTTP parser gives.
  }
  return new ProtocolError(
    response.status,
    body.code ?? "http_error",
    body.message ?? `HTTP ${response.status}`,
  );
}

/** Section 2: signs in and enrols a device. */
export async function login(base, user, password, deviceName) {
  const response = await fetch(`${base}/v1/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user, password, device_name: deviceName }),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** A signed-in device: its documents, outbox and cursor. */
export class Device {
  constructor(base, enrolment) {
    this.base = base;
    this.token = enrolment.token;
    this.actor = enrolment.actor_id;
    this.user = enrolment.user;
    this.grids = enrolment.grids;
    /** Section 5: all 64 bits, as a BigInt. */
    this.cursor = 0n;
    /** Record id (text) → Automerge document. */
    this.docs = new Map();
    /** Changes the server has not acknowledged: {id, change}, oldest first. */
    this.outbox = [];
    /** Frames sent and received, for a look at the bytes. */
    this.trace = [];
  }

  static async login(base, user, password, deviceName) {
    return new Device(base, await login(base, user, password, deviceName));
  }

  /** Section 7: the options of every change: the user id and Unix seconds. */
  changeOptions() {
    return { message: this.user.id, time: Math.floor(Date.now() / 1000) };
  }

  /** Makes a record: one change holding every field, nested maps included. */
  create(kind, fields) {
    const id = uuidv7();
    let doc = A.init({ actor: this.actor });
    doc = A.change(doc, this.changeOptions(), (d) => {
      d.kind = str(kind);
      d.v = 1;
      d.id = str(id);
      d.grid = str(this.user.grid);
      d.created_by = str(this.user.id);
      d.created_at = Date.now();
      d.deleted = false;
      Object.assign(d, fields);
    });
    this.keep(id, doc);
    return id;
  }

  /** Edits a record in one change. */
  edit(id, fn, options = this.changeOptions()) {
    this.keep(id, A.change(this.docs.get(id), options, fn));
  }

  keep(id, doc) {
    this.docs.set(id, doc);
    this.outbox.push({ id, change: A.getLastLocalChange(doc) });
  }

  /**
   * The record as plain JSON: scalar strings read as strings, and
   * unsigned integers (`v`, which Automerge gives as a BigInt) as numbers.
   */
  record(id) {
    const doc = this.docs.get(id);
    const plain = (_, v) => (typeof v === "bigint" ? Number(v) : v);
    return doc && JSON.parse(JSON.stringify(doc, plain));
  }

  async post(path, frame) {
    const response = await fetch(`${this.base}${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${this.token}`,
        "content-type": CONTENT_TYPE,
      },
      body: frame,
    });
    if (!response.ok) throw await failure(response);
    const answer = new Uint8Array(await response.arrayBuffer());
    this.trace.push({ sent: frame, received: answer });
    return decodeFrame(answer);
  }

  /** Section 6: one round. */
  async round() {
    const sent = this.outbox.slice();
    const request = { c: this.cursor };
    if (sent.length) {
      request.p = [];
      for (const { id, change } of sent) {
        const last = request.p.at(-1);
        if (last && last.id === id) last.c.push(change);
        else request.p.push({ id, d: uuidBytes(id), c: [change] });
      }
      for (const entry of request.p) delete entry.id;
    }
    const response = await this.post("/v1/sync", encodeFrame(request));
    for (const { d, c } of response.p ?? []) {
      const id = uuidText(d);
      const doc = this.docs.get(id) ?? A.init({ actor: this.actor });
      const [applied] = A.applyChanges(
        doc,
        c.map((bytes) => new Uint8Array(bytes)),
      );
      this.docs.set(id, applied);
    }
    const rejected = (response.r ?? []).map((r) => ({
      id: uuidText(r.d),
      code: r.k,
      params: r.p ?? {},
    }));
    // Acknowledged or refused: either way these leave the outbox (a real
    // app keeps the refused ones aside for the worker).
    this.outbox = this.outbox.slice(sent.length);
    this.cursor = BigInt(response.c);
    return {
      more: response.m === true,
      rejected,
      notices: (response.n ?? []).map((n) => ({
        id: uuidText(n.d),
        code: n.k,
        params: n.p ?? {},
        undone: n.u === true,
      })),
      pulled: (response.p ?? []).reduce((n, d) => n + d.c.length, 0),
    };
  }

  /** Rounds until the server has nothing more and the outbox is empty. */
  async sync(maxRounds = 64) {
    const total = { rounds: 0, rejected: [], notices: [], pulled: 0 };
    for (;;) {
      const r = await this.round();
      total.rounds += 1;
      total.rejected.push(...r.rejected);
      total.notices.push(...r.notices);
      total.pulled += r.pulled;
      if ((!r.more && this.outbox.length === 0) || total.rounds >= maxRounds) {
        return total;
      }
    }
  }
}
