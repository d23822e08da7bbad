//! Gridwork's fuzz targets as plain functions over bytes, so the libFuzzer
//! binaries in `fuzz_targets/` are one line each and the seed generator
//! (`examples/seeds.rs`) builds its inputs against the same fixture.
//!
//! Each target feeds its bytes to the code that reads them on the server
//! (or, for photos, on the device) and checks more than "no panic" where a
//! property is cheap to state: a decoded sync message encodes back to
//! itself, a document the server stored reads back as a record, a grid
//! tree's own GeoJSON imports again, every hotline order lands in exactly
//! one list of the report, a prepared photo is a JPEG within its sizes.
//! Results go through [`black_box`] so the optimiser cannot drop the work.
//!
//! A panic the server contains on purpose (Automerge panicking on a
//! device's bytes, `gridwork_server::sync::contain`) is a refusal here as
//! it is on the server: every target first wraps libFuzzer's panic hook
//! (which aborts at any panic, caught or not) so that such a panic
//! unwinds to the server's `catch_unwind` ([`contain_like_the_server`]).
//! Any other panic still stops the run.
//!
//! The server targets (`sync_push`, `hotline_*`) share one [`Fixture`],
//! built once per process: a real [`SqliteStorage`] in a temporary
//! directory (under `/dev/shm` when there is one), loaded with a small demo
//! street, with a tablet enrolled for a grid worker, a community supervisor
//! and a department handler, each with a fixed actor id so the committed
//! seeds stay valid. What a target stores stays stored for the rest of the
//! process, as it would on a real server; a crash that needs that history
//! shows in the run's log, and its input alone may not reproduce it.

pub mod fixture;

use std::hint::black_box;

use automerge::sync::Message;
use automerge::{ActorId, Change};
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::geo::GridTree;
use gridwork_core::media;
use gridwork_core::model::AnyRecord;
use gridwork_core::model::grid::Grid;
use gridwork_core::sync::wire::{
    self, DocChanges, RepairRequest, RepairResponse, SyncRequest, SyncResponse,
};
use gridwork_server::console::hotline;
use gridwork_server::storage::Storage;
use gridwork_server::sync::contain::{contained, containing};
use gridwork_server::sync::{self, RepairError, SyncError};
use uuid::Uuid;

pub use fixture::{Fixture, fixture};

/// Lets a panic inside the server's [`contained`] unwind to it instead of
/// aborting the run (see the module doc). Once per process.
pub fn contain_like_the_server() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if containing() {
                if verbose() {
                    eprintln!("contained: {info}");
                }
            } else {
                fuzzer_hook(info);
            }
        }));
    });
}

/// The sync message decoder: every message type from the same bytes, a
/// request as the server reads it (within its default limit, no xz), an
/// answer as a device does (xz too), its packed changes unpacked. What
/// decodes must encode and decode back to the same message; a repair
/// message is decoded as the server's repair path decodes it. The same
/// bytes as a streamed answer: each whole page is read in order by one
/// answer's reader, which reads pages continuing one xz stream too.
pub fn wire_decode(data: &[u8]) {
    contain_like_the_server();
    round_trip::<SyncRequest>(data, request);
    // A streamed answer's pages, read in order as a device reads them
    // (pages continuing one xz stream among them).
    let mut pages = gridwork_core::sync::pages::PageReader::default();
    pages.push(data);
    let mut reader = wire::AnswerReader::default();
    while let Ok(Some(frame)) = pages.next_frame() {
        let _ = black_box(reader.decode::<SyncResponse>(&frame));
    }
    if let Some(mut answer) = round_trip::<SyncResponse>(data, wire::decode)
        && !answer.packed.is_empty()
        && answer.unpack_pull().is_ok()
    {
        // What unpacks packs and unpacks to the same changes, in every
        // format.
        use gridwork_core::sync::pack;
        for format in 1..=pack::NEWEST {
            let again = pack::pack(&answer.pull, format);
            assert_eq!(
                pack::unpack(&again, usize::MAX).as_ref(),
                Ok(&answer.pull),
                "unpacked changes pack to themselves in format {format}"
            );
        }
    }
    let decode = |message: &[u8]| {
        let _ = black_box(contained("Message::decode", || Message::decode(message)));
    };
    if let Some(repair) = round_trip::<RepairRequest>(data, request) {
        decode(&repair.message);
    }
    if let Some(repair) = round_trip::<RepairResponse>(data, wire::decode)
        && let Some(message) = &repair.message
    {
        decode(message);
    }
}

/// What the server lets a sync body decompress and decode to: its
/// default `max_body_bytes`.
fn body_limit() -> usize {
    static LIMIT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| gridwork_server::config::Settings::default().max_body_bytes)
}

/// A request read as the server reads it.
fn request<T: serde::de::DeserializeOwned>(data: &[u8]) -> Result<T, wire::WireError> {
    wire::decode_within(data, body_limit())
}

fn round_trip<T>(data: &[u8], read: fn(&[u8]) -> Result<T, wire::WireError>) -> Option<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    match read(data) {
        Ok(message) => {
            let again = wire::decode::<T>(&wire::encode(&message));
            assert_eq!(
                again.as_ref(),
                Ok(&message),
                "a decoded message encodes to itself"
            );
            Some(black_box(message))
        }
        Err(e) => {
            black_box(e.code());
            None
        }
    }
}

/// What the first byte of a `sync_push` input asks for (its value modulo
/// 4); the next multiple of 4 picks the device (see [`Fixture::devices`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushMode {
    /// The rest is a whole sync body, as `POST /v1/sync` reads it.
    Body = 0,
    /// The rest is one raw Automerge change for a document the device
    /// holds (its first byte picks which, see [`Fixture::docs`]), inside a
    /// well-formed request.
    Change = 1,
    /// The rest is a record as JSON (`AnyRecord`, tagged by `kind`): a
    /// document the server holds is edited to it (only what differs is
    /// written, as the app does), any other becomes a new document; the
    /// device's own actor makes the change, as a hostile app would.
    Record = 2,
    /// The rest is a repair message (`POST /v1/repair/{doc}`); its first
    /// byte picks the document.
    Repair = 3,
}

impl PushMode {
    /// The first byte of an input for `mode` on device `device`.
    pub fn header(self, device: usize) -> u8 {
        (device * 4) as u8 + self as u8
    }
}

/// Loading pushed changes through the server's checks: the real
/// [`sync::run`] (or [`sync::repair`]) on the shared fixture. A refused
/// document is the right answer to bad input; an internal error (a 500 to
/// the device) is not, and neither is storing a document a device cannot
/// read back.
pub fn sync_push(data: &[u8]) {
    contain_like_the_server();
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let device = &f.devices[(head as usize / 4) % f.devices.len()];
    let request = match head % 4 {
        0 => match wire::decode_within::<SyncRequest>(rest, body_limit()) {
            Ok(r) => r,
            Err(e) => {
                black_box(e.code());
                return;
            }
        },
        1 => {
            let Some((&pick, change)) = rest.split_first() else {
                return;
            };
            SyncRequest {
                cursor: 0,
                push: vec![DocChanges {
                    doc: f.docs[pick as usize % f.docs.len()],
                    changes: vec![change.to_vec()],
                }],
                budget: Some(4096),
                ..SyncRequest::default()
            }
        }
        2 => {
            let record = match serde_json::from_slice::<AnyRecord>(rest) {
                Ok(record) => record,
                Err(e) => {
                    if verbose() {
                        eprintln!("sync_push: not a record: {e}");
                    }
                    return;
                }
            };
            match record_changes(f, &device.actor, &device.session.user.id, &record) {
                Some(push) => SyncRequest {
                    cursor: 0,
                    push: vec![push],
                    budget: Some(4096),
                    ..SyncRequest::default()
                },
                None => {
                    if verbose() {
                        eprintln!("sync_push: the record makes no change");
                    }
                    return;
                }
            }
        }
        _ => {
            let Some((&pick, message)) = rest.split_first() else {
                return;
            };
            let doc = f.docs[pick as usize % f.docs.len()];
            let request = RepairRequest {
                message: message.to_vec(),
            };
            match sync::repair(&f.storage, &f.ctx, &device.session, doc, request) {
                Ok(answer) => {
                    if verbose() {
                        eprintln!(
                            "sync_push: repair answered {} heads, message: {}",
                            answer.heads.len(),
                            answer.message.is_some()
                        );
                    }
                    if let Some(m) = &answer.message {
                        Message::decode(m).expect("the server's repair message decodes");
                    }
                    black_box(answer);
                }
                Err(RepairError::BadMessage(m)) => {
                    black_box(m);
                }
                Err(e) => panic!("a repair message made the server fail: {e}"),
            }
            return;
        }
    };
    let pushed: Vec<Uuid> = request.push.iter().map(|d| d.doc).collect();
    match sync::run(&f.storage, &f.ctx, &device.session, request, f.now) {
        Ok(response) => {
            if verbose() {
                eprintln!(
                    "sync_push: {} pushed, refused {:?}, notices {:?}",
                    pushed.len(),
                    response
                        .rejected
                        .iter()
                        .map(|r| (&r.code, &r.params))
                        .collect::<Vec<_>>(),
                    response.notices.iter().map(|n| &n.code).collect::<Vec<_>>()
                );
            }
            let body = wire::encode(&response);
            assert_eq!(
                wire::decode::<SyncResponse>(&body).as_ref(),
                Ok(&response),
                "the answer encodes to itself"
            );
            for doc in pushed {
                if response.rejected.iter().any(|r| r.doc == doc) {
                    continue;
                }
                stored_doc_reads_back(&f.storage, doc);
            }
            black_box(response);
        }
        Err(SyncError::Busy) => {}
        Err(e) => panic!("a push made the server fail: {e}"),
    }
}

/// A document the server stored (or left as it was) is a record a device
/// can read, with the id it is stored under, made by one change with no
/// dependencies: a second creation would hide its nested lists and maps
/// (`sync::state`, "a record is created once").
fn stored_doc_reads_back(storage: &dyn Storage, doc: Uuid) {
    let Some(stored) = storage.load_doc(doc).expect("load a stored document") else {
        return;
    };
    let read = RecordDoc::load(&stored.snapshot, ActorId::random())
        .and_then(|mut d| d.read_any().map(|r| (d.id(), r, roots(&mut d))));
    match read {
        Ok((id, record, roots)) => {
            assert_eq!(id, doc, "document {doc} is stored under its own id");
            assert_eq!(roots, 1, "document {doc} was created {roots} times");
            black_box(record);
        }
        Err(e) => panic!("the server stored document {doc}, which no device can read: {e}"),
    }
}

/// How many of the document's changes have no dependencies.
fn roots(doc: &mut RecordDoc) -> usize {
    doc.automerge()
        .get_changes(&[])
        .iter()
        .filter(|c| c.deps().is_empty())
        .count()
}

/// The change(s) a device with `actor` makes to arrive at `record`: an
/// edit of the server's copy when the server holds that id, else a new
/// document. `None` when the record cannot be written at all.
fn record_changes(
    f: &Fixture,
    actor: &ActorId,
    user: &str,
    record: &AnyRecord,
) -> Option<DocChanges> {
    let id = record.meta().id;
    let author = Author::new(user, f.now.as_millisecond());
    let stored = f.storage.load_doc(id).expect("load a stored document");
    let changes: Vec<Change> = match stored {
        Some(stored) => {
            let mut doc = RecordDoc::load(&stored.snapshot, actor.clone()).ok()?;
            let before = doc.read_any().ok()?;
            let heads = doc.heads();
            doc.write_diff_any(&author, &before, record).ok()??;
            doc.changes_since(&heads)
        }
        None => {
            let mut doc = RecordDoc::create_any(record, actor.clone(), &author).ok()?;
            doc.changes_since(&[])
        }
    };
    Some(DocChanges {
        doc: id,
        changes: changes.iter().map(|c| c.raw_bytes().to_vec()).collect(),
    })
}

/// Whether to say what each input came to (`GRIDWORK_FUZZ_VERBOSE=1`),
/// to check that seeds reach what they are meant to.
fn verbose() -> bool {
    static VERBOSE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *VERBOSE.get_or_init(|| std::env::var_os("GRIDWORK_FUZZ_VERBOSE").is_some())
}

/// The GeoJSON grid import: core's parser and checks, and the server's
/// merge with a stored tree. A tree that imports writes GeoJSON that
/// imports again to the same grids, and every grid's centroid finds a grid.
pub fn grid_import(data: &[u8]) {
    contain_like_the_server();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tree) = GridTree::from_geojson(text) {
        let written = tree.to_geojson();
        let again = GridTree::from_geojson(&written)
            .unwrap_or_else(|e| panic!("a tree's own GeoJSON imports again: {e}\n{written}"));
        assert_eq!(
            again.grids().iter().map(|g| &g.code).collect::<Vec<_>>(),
            tree.grids().iter().map(|g| &g.code).collect::<Vec<_>>(),
            "the same grids after a round trip"
        );
        for grid in tree.grids() {
            if let Some([lon, lat]) = grid.centroid {
                black_box(tree.locate(lon, lat));
            }
        }
        black_box(gridwork_server::grids::place(&tree));
    }
    let alone = gridwork_server::grids::import(&[], text).map(|i| i.imported);
    let merged = gridwork_server::grids::import(stored_grids(), text).map(|i| i.imported);
    if verbose() {
        eprintln!("grid_import: alone {alone:?}, over the stored tree {merged:?}");
    }
    let _ = black_box((alone, merged));
}

/// The grids of the fixture's demo street, as a server would hold them
/// (without building the whole fixture: the grid target needs no storage).
fn stored_grids() -> &'static [Grid] {
    static GRIDS: std::sync::OnceLock<Vec<Grid>> = std::sync::OnceLock::new();
    GRIDS.get_or_init(|| {
        GridTree::from_geojson(&fixture::demo().grid_tree_geojson)
            .expect("the demo's grid tree")
            .grids()
            .to_vec()
    })
}

/// The 12345 hotline import from a JSON file: parsing, then (when the file
/// reads) placing and storing every order as the fixture's community
/// supervisor, through the same push path as the console.
pub fn hotline_json(data: &[u8]) {
    hotline_file(data, hotline::parse_json);
}

/// The 12345 hotline import from a CSV file (see [`hotline_json`]).
pub fn hotline_csv(data: &[u8]) {
    hotline_file(data, hotline::parse_csv);
}

fn hotline_file(
    data: &[u8],
    parse: fn(&str) -> Result<Vec<hotline::HotlineOrder>, hotline::FileError>,
) {
    contain_like_the_server();
    // The console refuses a file that is not UTF-8 before parsing it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let orders = match parse(text) {
        Ok(orders) => orders,
        Err(e) => {
            black_box(e.to_string());
            return;
        }
    };
    let f = fixture();
    let report = hotline::import(&f.storage, &f.ctx, &f.console, &orders, f.now)
        .unwrap_or_else(|e| panic!("a hotline file made the import fail: {e}"));
    if verbose() {
        eprintln!(
            "hotline: {} orders, {} imported, {} already, unplaced {:?}",
            orders.len(),
            report.imported.len(),
            report.already.len(),
            report
                .unplaced
                .iter()
                .map(|u| (u.code, &u.params))
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(
        report.imported.len() + report.already.len() + report.unplaced.len(),
        orders.len(),
        "every order is imported, already there or refused, once"
    );
    for placed in report.imported.iter().chain(&report.already) {
        stored_doc_reads_back(&f.storage, placed.id);
    }
    black_box(report);
}

/// Photo preparation on the device, and the server's check of what it
/// uploads: a photo that prepares is an image the server's check accepts,
/// and the result is a JPEG within its sizes that the check accepts too.
pub fn photo_prepare(data: &[u8]) {
    contain_like_the_server();
    let inspected = media::inspect(data);
    match media::prepare(data) {
        Ok(prepared) => {
            assert!(inspected.is_ok(), "prepared a photo inspect refuses");
            for (encoded, long_side) in [
                (&prepared.photo, media::PHOTO_LONG_SIDE),
                (&prepared.thumbnail, media::THUMB_LONG_SIDE),
            ] {
                let seen = media::inspect(&encoded.bytes).expect("a prepared photo passes inspect");
                assert_eq!(seen.format, "image/jpeg");
                assert_eq!((seen.width, seen.height), (encoded.width, encoded.height));
                assert!(encoded.width.max(encoded.height) <= long_side);
                assert_eq!(encoded.sha256, media::sha256_hex(&encoded.bytes));
            }
            black_box(prepared);
        }
        Err(e) => {
            black_box(e.code());
        }
    }
    let _ = black_box(inspected);
}
