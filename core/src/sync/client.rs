//! The device's side of sync: build a request from the outbox and the
//! cursor, take the server's answer into the store.
//!
//! [`SyncClient::prepare`] and [`SyncClient::receive`] are plain functions
//! over the store and bytes, so tests can run devices and a server in one
//! process; [`SyncClient::sync`] runs whole syncs over any [`Transport`]
//! (HTTP in the app, see [`super::http`]). Local writes never wait for any
//! of this: they go to the store and its outbox, and a sync picks them up.
//!
//! The cursor only moves once the pulled changes are stored, and it is
//! confirmed to the server by the next request; an outbox entry leaves only
//! when the server's answer is stored. A pull of many pages comes as one
//! streamed answer ([`super::pages`]): the device stores each page while
//! the next arrives, and the server builds each next page while the last
//! is on the link, so neither a round trip nor the server's work stands
//! between two pages. A page is stored whole or not at all, like any
//! answer.
//!
//! A connection cut anywhere loses nothing: the next sync sends the same
//! changes (the server ignores the ones it already has) and asks from the
//! same cursor.
//!
//! **A lost device.** When an admin reported the device lost, the server
//! keeps taking its pushes and answers each with the wipe flag and no
//! changes: the rounds go on until the outbox is sent, and the progress
//! comes back with [`Progress::wipe`] set. The caller then closes the store
//! and runs [`super::wipe::erase_and_report`] (the app does so in its
//! `sync` module).
//!
//! [`SyncClient::sync_with_retry`] retries retryable failures (no network,
//! a busy or restarting server) with exponential backoff and jitter
//! ([`backon`]), and holds the store only while it prepares a request or
//! stores an answer: the worker keeps saving while the network or a
//! backoff wait is slow.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Sleeper};

use automerge::{Change, ChangeHash};
use uuid::Uuid;

use super::compact;
use super::wire::{
    self, DocChanges, Notice, Rejection, RejectionCode, SyncRequest, SyncResponse, WireError,
};
use crate::store::{Store, StoreError};

/// Why a sync failed. Nothing saved is lost by any of these.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the server's answer could not be read: {0}")]
    Wire(#[from] WireError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("a change from the server could not be read: {0}")]
    BadChange(String),
    /// The store this sync was for was closed meanwhile (another user
    /// signed in): the sync stops; nothing of the store is touched.
    #[error("the store was closed during the sync")]
    StoreClosed,
}

impl SyncError {
    /// A stable code the app translates.
    pub fn code(&self) -> &str {
        match self {
            SyncError::Store(e) => e.code(),
            SyncError::Wire(e) => e.code(),
            SyncError::Transport(e) => e.code(),
            SyncError::BadChange(_) => "bad_change",
            SyncError::StoreClosed => "not_signed_in",
        }
    }

    /// Worth trying again later (the network, a busy server), as opposed
    /// to something a person must act on (a revoked device).
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Transport(e) => e.is_retryable(),
            SyncError::Wire(_) | SyncError::BadChange(_) => true,
            SyncError::Store(_) | SyncError::StoreClosed => false,
        }
    }
}

/// Why an exchange with the server failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the server answered {status}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The server's certificate is not one this device trusts.
    #[error("the server's certificate is not trusted: {0}")]
    Untrusted(String),
    /// Plain `http://` to a server not on this machine ([`super::trust`]).
    #[error("plain http:// to {0} is refused: use https://")]
    PlainHttp(String),
    #[error("the server address is not valid: {0}")]
    BadAddress(String),
    /// The CA certificate given at setup cannot be read.
    #[error("the CA certificate cannot be read: {0}")]
    BadCa(String),
}

impl TransportError {
    /// The server's code, or `unreachable`.
    pub fn code(&self) -> &str {
        match self {
            TransportError::Unreachable(_) => "unreachable",
            TransportError::Server { code, .. } => code,
            TransportError::Untrusted(_) => "untrusted_certificate",
            TransportError::PlainHttp(_) => "plain_http_refused",
            TransportError::BadAddress(_) => "bad_server_url",
            TransportError::BadCa(_) => "bad_ca_certificate",
        }
    }

    fn is_retryable(&self) -> bool {
        match self {
            TransportError::Unreachable(_) => true,
            TransportError::Server { status, .. } => *status >= 500 || *status == 429,
            TransportError::Untrusted(_)
            | TransportError::PlainHttp(_)
            | TransportError::BadAddress(_)
            | TransportError::BadCa(_) => false,
        }
    }
}

/// Most documents one sync repairs; the rest wait for the next.
const REPAIRS_PER_SYNC: u32 = 20;

/// Sends one request body and returns the response body.
pub trait Transport {
    /// Posts a framed [`SyncRequest`] and returns the framed answer.
    fn exchange(&self, body: Vec<u8>) -> impl Future<Output = Result<Vec<u8>, TransportError>>;

    /// Posts a framed [`SyncRequest`] and returns its answer's frames as
    /// they arrive: one, or the pages of a streamed answer
    /// ([`super::pages`]). One unless the transport reads streamed
    /// answers ([`super::http::HttpTransport`] does).
    fn exchange_pages(
        &self,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Frames, TransportError>> {
        async move { Ok(Frames::of(vec![self.exchange(body).await])) }
    }

    /// Posts a framed [`wire::RepairRequest`] about one document and
    /// returns the framed [`wire::RepairResponse`] (see [`super::repair`]).
    fn repair(
        &self,
        doc: Uuid,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, TransportError>>;
}

/// What [`Frames::watched`] tells of each frame taken.
type Watch = Box<dyn FnMut(&Result<Vec<u8>, SyncError>) + Send>;

/// An answer's frames, taken one at a time as they arrive.
pub struct Frames {
    /// Frames in hand, given before the rest of the body.
    ready: VecDeque<Result<Vec<u8>, TransportError>>,
    /// A streamed answer still arriving.
    body: Option<super::http::StreamedBody>,
    /// Told of every frame and failure as it is taken.
    watch: Option<Watch>,
}

impl Frames {
    /// These frames, or failures, in order.
    pub fn of(frames: Vec<Result<Vec<u8>, TransportError>>) -> Frames {
        Frames {
            ready: frames.into(),
            body: None,
            watch: None,
        }
    }

    /// The frames of a streamed answer as its body arrives.
    pub(super) fn streamed(body: super::http::StreamedBody) -> Frames {
        Frames {
            body: Some(body),
            ..Frames::of(Vec::new())
        }
    }

    /// These frames, with `watch` told of each one as it is taken (and of
    /// the failure that ends them): a bench counts bytes so.
    pub fn watched(
        mut self,
        watch: impl FnMut(&Result<Vec<u8>, SyncError>) + Send + 'static,
    ) -> Frames {
        self.watch = Some(Box::new(watch));
        self
    }

    /// The next frame; `None` when the answer has ended.
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, SyncError>> {
        let next = match self.ready.pop_front() {
            Some(frame) => Some(frame.map_err(SyncError::from)),
            None => match &mut self.body {
                Some(body) => body.next().await,
                None => None,
            },
        };
        if matches!(next, None | Some(Err(_))) {
            self.body = None;
        }
        if let (Some(watch), Some(next)) = (&mut self.watch, &next) {
            watch(next);
        }
        next
    }
}

impl std::fmt::Debug for Frames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frames")
            .field("ready", &self.ready.len())
            .field("streaming", &self.body.is_some())
            .finish()
    }
}

/// A request ready to send, with what it carries. The default stands for
/// the request a streamed answer's later page answers: none sent, nothing
/// pushed.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// The framed request.
    pub body: Vec<u8>,
    pushed: Vec<(Uuid, ChangeHash)>,
}

impl Outgoing {
    /// How many changes the request pushes.
    pub fn changes(&self) -> usize {
        self.pushed.len()
    }
}

/// What one or more rounds did, for the sync screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub rounds: u32,
    pub changes_sent: u64,
    pub changes_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Documents the server refused, with its reasons.
    pub rejected: Vec<Rejection>,
    /// Stored changes the worker should hear about: a transition kept but
    /// not applied, a forbidden edit the server undid (its compensating
    /// change is among the changes received).
    pub notices: Vec<Notice>,
    /// Records changed by what was received, for the UI to refresh.
    pub changed: Vec<Uuid>,
    /// Documents put right through the repair path ([`super::repair`]).
    pub repaired: u32,
    /// Changes still waiting to be sent.
    pub pending: u64,
    /// The server has more to send.
    pub more: bool,
    /// An admin reported this device lost: the outbox went to the server
    /// (what it still holds could not be sent) and the device must now
    /// erase its data and report it ([`super::wipe`]).
    pub wipe: bool,
    /// Tries so far in [`SyncClient::sync_with_retry`] (1 when the first
    /// one went through).
    pub attempts: u32,
    /// The code of the failure being retried, while waiting.
    pub retrying_after: Option<String>,
    /// How long the client waits before the next try.
    pub retry_in: Option<Duration>,
}

impl Progress {
    fn add(&mut self, other: Progress) {
        self.rounds += other.rounds;
        self.changes_sent += other.changes_sent;
        self.changes_received += other.changes_received;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.rejected.extend(other.rejected);
        self.notices.extend(other.notices);
        self.changed.extend(other.changed);
        self.repaired += other.repaired;
        self.pending = other.pending;
        self.more = other.more;
        self.wipe |= other.wipe;
    }
}

/// The bytes of changes a device asks for per answer: 4 MiB, four times
/// the server's default. A first sync's answers are packed
/// ([`super::pack`]) and zstd finds more to share in a larger page: on the
/// bench's grid, 84.5 bytes a document in pages of 4,000 documents against
/// 91 in pages of 1,000, and a third of the round trips, each a second on
/// 2G. The price: a page cut short is sent again whole, up to about 30 s
/// of a 2G link against 18.
pub const PAGE_BUDGET: u32 = 4 * 1024 * 1024;

/// The sync client's settings.
#[derive(Debug, Clone)]
pub struct SyncClient {
    /// Most changes pushed in one request.
    pub push_limit: u32,
    /// Bytes of changes asked for per answer (the server caps it, at
    /// 8 MiB by default): [`PAGE_BUDGET`] unless set. Asked only with a
    /// packed answer ([`SyncRequest::new`]); a small push gets the
    /// server's default.
    pub budget: Option<u32>,
    /// Most rounds in one [`SyncClient::sync`].
    pub max_rounds: u32,
    /// Waits between tries of [`SyncClient::sync_with_retry`].
    pub retry: ExponentialBuilder,
}

impl Default for SyncClient {
    fn default() -> Self {
        SyncClient {
            push_limit: 2_000,
            budget: Some(PAGE_BUDGET),
            max_rounds: 64,
            // 1 s, 2 s, 4 s … up to 5 minutes, each shortened by a random
            // jitter so a village's tablets do not all return at once.
            retry: ExponentialBuilder::default()
                .with_min_delay(Duration::from_secs(1))
                .with_max_delay(Duration::from_secs(300))
                .with_max_times(10)
                .with_jitter(),
        }
    }
}

/// Access to the device's store for the length of one call: a store the
/// caller holds (`&mut Store`), one shared with the app's writes
/// (`&Mutex<Store>`, locked only while a request is prepared or an answer
/// stored), or the app's signed-in session, which may be gone by the next
/// call ([`SyncError::StoreClosed`]).
pub trait StoreAccess {
    /// Runs `f` with the store, if it is still open.
    fn with<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> Result<R, SyncError>;
}

impl StoreAccess for &mut Store {
    fn with<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> Result<R, SyncError> {
        Ok(f(self))
    }
}

impl StoreAccess for &Mutex<Store> {
    fn with<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> Result<R, SyncError> {
        // A panic elsewhere while holding the lock left no half-written
        // state behind: every store write is one SQLite transaction.
        let mut guard = self.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f(&mut guard))
    }
}

/// The compact form of an outbox change ([`super::compact`]), `None` when
/// it goes whole. The device compacts with its own actor, and as if the
/// change's message were its user's id: the server rebuilds it with the
/// signed-in user's id and the enrolment's actor, never the payload's,
/// and a change that named anyone else fails its checksum there and comes
/// back `compact_unresolved`, to go whole (and be judged on its author).
fn compact_own(change: &[u8], own_actor: &[u8]) -> Option<Vec<u8>> {
    let message = std::str::from_utf8(compact::message(change)?).ok()?;
    if message.is_empty() {
        return None;
    }
    compact::compact(change, own_actor, message)
}

impl SyncClient {
    /// Builds the request: unsent changes (oldest first, grouped by
    /// document) and the cursor.
    pub fn prepare(&self, store: &Store) -> Result<Outgoing, SyncError> {
        let entries = store.outbox(self.push_limit)?;
        let own = store.actor().to_bytes();
        let mut push: Vec<DocChanges> = Vec::new();
        let mut pushed = Vec::with_capacity(entries.len());
        for entry in entries {
            pushed.push((entry.doc_id, entry.hash));
            let bytes = if entry.whole {
                entry.bytes
            } else {
                compact_own(&entry.bytes, own).unwrap_or(entry.bytes)
            };
            match push.last_mut() {
                Some(last) if last.doc == entry.doc_id => last.changes.push(bytes),
                _ => push.push(DocChanges {
                    doc: entry.doc_id,
                    changes: vec![bytes],
                }),
            }
        }
        let request = SyncRequest::new(store.sync_cursor()?, push, self.budget);
        Ok(Outgoing {
            body: wire::encode_push(&request),
            pushed,
        })
    }

    /// Takes the server's answer: stores what it sent, clears what it
    /// accepted from the outbox, keeps its refusals for the worker, and
    /// moves the cursor, all in that order so a crash anywhere loses nothing.
    pub fn receive(
        &self,
        store: &mut Store,
        outgoing: &Outgoing,
        body: &[u8],
    ) -> Result<Progress, SyncError> {
        let response: SyncResponse = wire::decode(body)?;
        self.take_answer(store, outgoing, response, body.len())
    }

    /// [`SyncClient::receive`] for an answer already decoded from `size`
    /// bytes.
    fn take_answer(
        &self,
        store: &mut Store,
        outgoing: &Outgoing,
        mut response: SyncResponse,
        size: usize,
    ) -> Result<Progress, SyncError> {
        response.unpack_pull()?;
        let mut batch = Vec::with_capacity(response.pull.len());
        let mut received = 0u64;
        for doc in &response.pull {
            let mut changes = Vec::with_capacity(doc.changes.len());
            for bytes in &doc.changes {
                changes.push(
                    Change::from_bytes(bytes.clone())
                        .map_err(|e| SyncError::BadChange(e.to_string()))?,
                );
            }
            received += changes.len() as u64;
            batch.push((doc.doc, changes));
        }
        let outcome = store.apply_remote_batch(batch)?;
        // A compact change the server could not rebuild: the document's
        // changes stay in the outbox and go whole next time. Nothing for
        // the worker to see.
        let (unresolved, rejected): (Vec<Rejection>, Vec<Rejection>) = response
            .rejected
            .into_iter()
            .partition(|r| r.code == RejectionCode::CompactUnresolved.code());
        let sent_for = |doc: Uuid| -> Vec<ChangeHash> {
            outgoing
                .pushed
                .iter()
                .filter(|(d, _)| *d == doc)
                .map(|(_, h)| *h)
                .collect()
        };
        for rejection in &unresolved {
            let hashes = sent_for(rejection.doc);
            tracing::info!(doc = %rejection.doc, "the server could not rebuild a compact change; sending it whole");
            store.send_whole(&hashes)?;
        }
        let refused: Vec<Uuid> = rejected.iter().chain(&unresolved).map(|r| r.doc).collect();
        let accepted: Vec<ChangeHash> = outgoing
            .pushed
            .iter()
            .filter(|(doc, _)| !refused.contains(doc))
            .map(|(_, hash)| *hash)
            .collect();
        store.ack(&accepted)?;
        for rejection in &rejected {
            store.reject(rejection, &sent_for(rejection.doc))?;
        }
        for notice in &response.notices {
            tracing::info!(doc = %notice.doc, code = %notice.code, "the server noted a stored change");
        }
        store.record_notices(&response.notices, jiff::Timestamp::now().as_millisecond())?;
        store.set_sync_cursor(response.cursor)?;
        Ok(Progress {
            rounds: 1,
            changes_sent: outgoing.pushed.len() as u64,
            changes_received: received,
            bytes_sent: outgoing.body.len() as u64,
            bytes_received: size as u64,
            rejected,
            notices: response.notices,
            changed: outcome.changed,
            pending: store.pending_count()?,
            more: response.more,
            wipe: response.wipe,
            ..Progress::default()
        })
    }

    /// Syncs until the server has nothing more and the outbox is empty (or
    /// `max_rounds`), reporting progress after every round. One try: see
    /// [`SyncClient::sync_with_retry`] for retries.
    pub async fn sync<T: Transport>(
        &self,
        store: &mut Store,
        transport: &T,
        mut on_progress: impl FnMut(&Progress),
    ) -> Result<Progress, SyncError> {
        let mut total = Progress::default();
        self.rounds(&mut &mut *store, transport, &mut total, &mut on_progress)
            .await?;
        Ok(total)
    }

    /// Syncs like [`SyncClient::sync`], trying again after a retryable
    /// failure (see [`SyncError::is_retryable`]) with exponential backoff
    /// and jitter ([`SyncClient::retry`]). Each try resumes where the last
    /// one stopped: rounds already stored stay stored. The store is locked
    /// only while a request is built or an answer stored, never across the
    /// network or a wait, so local writes go on. Progress carries the try
    /// count, and while waiting, what failed and how long the wait is.
    pub async fn sync_with_retry<S: StoreAccess, T: Transport>(
        &self,
        store: S,
        transport: &T,
        mut on_progress: impl FnMut(&Progress),
    ) -> Result<Progress, SyncError> {
        let mut delays = self.retry.build();
        let mut total = Progress::default();
        let mut access = store;
        loop {
            total.attempts += 1;
            total.retrying_after = None;
            total.retry_in = None;
            let error = match self
                .rounds(&mut access, transport, &mut total, &mut on_progress)
                .await
            {
                Ok(()) => return Ok(total),
                Err(e) => e,
            };
            let delay = match delays.next() {
                Some(delay) if error.is_retryable() => delay,
                _ => return Err(error),
            };
            tracing::info!(
                attempt = total.attempts,
                code = error.code(),
                ?delay,
                "sync failed; trying again"
            );
            total.retrying_after = Some(error.code().to_string());
            total.retry_in = Some(delay);
            total.pending = access.with(|s| s.pending_count())??;
            on_progress(&total);
            backon::TokioSleeper.sleep(delay).await;
        }
    }

    /// Runs rounds until nothing is left, adding each to `total`. A round
    /// is a request and its answer; a streamed answer's pages after the
    /// first ([`super::pages`]) count as rounds of their own, each stored
    /// while the next arrives.
    async fn rounds<S: StoreAccess, T: Transport>(
        &self,
        store: &mut S,
        transport: &T,
        total: &mut Progress,
        on_progress: &mut impl FnMut(&Progress),
    ) -> Result<(), SyncError> {
        let first = total.rounds;
        let mut repaired = false;
        loop {
            let request = store.with(|s| self.prepare(s))??;
            let pushed = request.changes();
            let mut frames = transport.exchange_pages(request.body.clone()).await?;
            let mut answer = frames
                .next()
                .await
                .unwrap_or(Err(SyncError::Wire(WireError::Truncated)))?;
            // The first page answers the request, each later one a pull
            // from the cursor of the page before it.
            let mut outgoing = request;
            let mut reader = wire::AnswerReader::default();
            let (more, pending, wipe) = loop {
                let response: SyncResponse = reader.decode(&answer)?;
                let size = answer.len();
                // On a slow link the next page arrives while this one is
                // stored. Should storing fail, the next page is dropped
                // unread: the store's cursor has not moved, and the next
                // sync asks from it again. `join!` polls `frames` first.
                let keep = async { store.with(|s| self.take_answer(s, &outgoing, response, size)) };
                let (next, round) = tokio::join!(frames.next(), keep);
                let round = round??;
                let last = (round.more, round.pending, round.wipe);
                total.add(round);
                on_progress(total);
                if total.rounds - first >= self.max_rounds {
                    return Ok(());
                }
                match next {
                    Some(next) => {
                        answer = next?;
                        outgoing = Outgoing::default();
                    }
                    None => break last,
                }
            };
            let again = more || (pushed > 0 && pending > 0);
            if wipe && !again {
                // A lost device: everything it could push is pushed;
                // nothing comes down and nothing needs repair.
                return Ok(());
            }
            if !again {
                // Caught up: whatever still disagrees needs the repair
                // path, once per sync; what it puts back in the outbox
                // goes out in one more round.
                if repaired {
                    return Ok(());
                }
                repaired = true;
                if self.repair_divergent(store, transport, total).await? == 0 {
                    return Ok(());
                }
                on_progress(total);
            }
        }
    }

    /// Repairs the documents the batched sync left divergent; returns how
    /// many changes went back to the outbox.
    async fn repair_divergent<S: StoreAccess, T: Transport>(
        &self,
        store: &mut S,
        transport: &T,
        total: &mut Progress,
    ) -> Result<u64, SyncError> {
        let docs = store.with(|s| s.divergent_docs(REPAIRS_PER_SYNC))??;
        let mut requeued = 0;
        for doc in docs {
            let repaired = self.repair(store, transport, doc).await?;
            tracing::info!(%doc, ?repaired, "repaired a divergent document");
            requeued += repaired.requeued;
            total.repaired += 1;
        }
        total.pending = store.with(|s| s.pending_count())??;
        Ok(requeued)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use automerge::ActorId;

    use super::*;
    use crate::doc::Author;
    use crate::model::Household;
    use crate::sync::compact::{Held, expand};

    const USER: &str = "wangfang";

    /// A household a form would save.
    fn household() -> Household {
        let mut h =
            crate::fieldwork::forms::blank_household("440106001001001", USER, 1_779_000_000_000);
        h.address.room = "801".into();
        h
    }

    fn pushed(outgoing: &Outgoing) -> Vec<u8> {
        let request: SyncRequest = wire::decode(&outgoing.body).unwrap();
        assert_eq!(request.push.len(), 1);
        request.push[0].changes[0].clone()
    }

    #[test]
    fn an_edit_goes_compact_and_whole_after_the_server_could_not_rebuild_it() {
        let actor = ActorId::from(&[7u8; 16][..]);
        let mut store = Store::open_in_memory(actor.clone()).unwrap();
        let client = SyncClient::default();
        let author = Author::new(USER, 1_795_000_000_000);
        let today = jiff::civil::date(2026, 11, 22);
        let h = store.insert(household(), &author, today).unwrap();
        let first = store.outbox(10).unwrap().remove(0);
        let created = Change::from_bytes(first.bytes.clone()).unwrap();
        store.ack(&[first.hash]).unwrap();
        store
            .update::<Household>(h.meta.id, &author, today, |h| {
                h.address.detail = "门口有台阶".into();
            })
            .unwrap();
        let edit = store.outbox(10).unwrap().remove(0);

        // Compact: the server rebuilds the very change with the
        // enrolment's actor and the user's id.
        let outgoing = client.prepare(&store).unwrap();
        let sent = pushed(&outgoing);
        assert!(compact::is_compact(&sent));
        assert!(
            sent.len() + 50 <= edit.bytes.len(),
            "{} of {}",
            sent.len(),
            edit.bytes.len()
        );
        let held: Held = [&created].into_iter().collect();
        assert_eq!(
            expand(&sent, actor.to_bytes(), USER, &held).unwrap(),
            edit.bytes
        );

        // The server cannot rebuild it: nothing for the worker, the change
        // stays and goes whole next time.
        let answer = wire::encode(&SyncResponse {
            cursor: 5,
            rejected: vec![Rejection::new(
                h.meta.id,
                RejectionCode::CompactUnresolved,
                Default::default(),
            )],
            ..SyncResponse::default()
        });
        let progress = client.receive(&mut store, &outgoing, &answer).unwrap();
        assert!(progress.rejected.is_empty(), "{:?}", progress.rejected);
        assert_eq!(progress.pending, 1);
        assert!(store.rejections().unwrap().is_empty());
        let again = client.prepare(&store).unwrap();
        assert_eq!(pushed(&again), edit.bytes);
        let progress = client
            .receive(&mut store, &again, &wire::encode(&SyncResponse::default()))
            .unwrap();
        assert_eq!(progress.pending, 0);
    }

    /// Answers each sync request with a scripted streamed answer, noting
    /// the request's cursor, and for every frame taken, the cursor the
    /// device held as it was taken.
    struct Pages {
        store: Arc<Mutex<Store>>,
        /// Each answer's frames, or the failure in place of one.
        answers: Mutex<Vec<Answer>>,
        asked: Mutex<Vec<u64>>,
        held: Arc<Mutex<Vec<u64>>>,
    }

    type Answer = Vec<Result<Vec<u8>, TransportError>>;

    impl Transport for Pages {
        async fn exchange(&self, _body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
            unreachable!("a sync takes its answer's frames")
        }

        async fn exchange_pages(&self, body: Vec<u8>) -> Result<Frames, TransportError> {
            let request: SyncRequest = wire::decode(&body).unwrap();
            self.asked.lock().unwrap().push(request.cursor);
            let (store, held) = (self.store.clone(), self.held.clone());
            Ok(
                Frames::of(self.answers.lock().unwrap().remove(0)).watched(move |_| {
                    let cursor = store.lock().unwrap().sync_cursor().unwrap();
                    held.lock().unwrap().push(cursor);
                }),
            )
        }

        fn repair(
            &self,
            _doc: Uuid,
            _body: Vec<u8>,
        ) -> impl Future<Output = Result<Vec<u8>, TransportError>> {
            std::future::ready(Err(TransportError::Unreachable("no repair here".into())))
        }
    }

    /// A page of one new household, `more` behind it or not.
    fn page(cursor: u64, more: bool) -> (Uuid, Vec<u8>) {
        let author = Author::new(USER, 1_795_000_000_000);
        let record = crate::model::AnyRecord::Household(household());
        let mut doc =
            crate::doc::RecordDoc::create_any(&record, ActorId::from(&[9u8; 16][..]), &author)
                .unwrap();
        let changes = doc
            .changes_since(&[])
            .into_iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let answer = wire::encode(&SyncResponse {
            cursor,
            more,
            pull: vec![DocChanges {
                doc: doc.id(),
                changes,
            }],
            ..SyncResponse::default()
        });
        (doc.id(), answer)
    }

    #[tokio::test]
    async fn a_streamed_pull_stores_each_page_while_the_next_arrives() {
        let store = Arc::new(Mutex::new(
            Store::open_in_memory(ActorId::from(&[7u8; 16][..])).unwrap(),
        ));
        let (first, one) = page(10, true);
        let (second, two) = page(20, true);
        let (third, three) = page(30, false);
        let pages = Pages {
            store: store.clone(),
            answers: Mutex::new(vec![vec![
                Ok(one),
                Ok(two),
                Err(TransportError::Unreachable("cut".into())),
            ]]),
            asked: Mutex::new(Vec::new()),
            held: Arc::default(),
        };
        let client = SyncClient::default();

        // The link is cut in the third page: one request, and the two
        // pages before the cut are stored, with the second's cursor.
        let mut access = &*store;
        let mut total = Progress::default();
        let cut = client
            .rounds(&mut access, &pages, &mut total, &mut |_| {})
            .await;
        assert!(matches!(cut, Err(SyncError::Transport(_))), "{cut:?}");
        assert_eq!(*pages.asked.lock().unwrap(), [0]);
        assert_eq!(
            *pages.held.lock().unwrap(),
            [0, 0, 10],
            "each next page is taken before the last is stored"
        );
        assert_eq!(total.rounds, 2);
        {
            let s = store.lock().unwrap();
            assert!(s.get::<Household>(first).unwrap().is_some());
            assert!(s.get::<Household>(second).unwrap().is_some());
            assert_eq!(s.sync_cursor().unwrap(), 20);
        }

        // The next sync asks from there, for the page that was cut.
        pages.asked.lock().unwrap().clear();
        *pages.answers.lock().unwrap() = vec![vec![Ok(three)]];
        client
            .rounds(&mut access, &pages, &mut total, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(*pages.asked.lock().unwrap(), [20]);
        let s = store.lock().unwrap();
        assert!(s.get::<Household>(third).unwrap().is_some());
        assert_eq!(s.sync_cursor().unwrap(), 30);
    }
}
