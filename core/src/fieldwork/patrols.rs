//! Patrols (巡查): start one, record its track and check-ins as the walk
//! goes on, stop it, and read it back with its figures (distance, time in
//! the grid, coverage).
//!
//! Check-ins and the stop are saved at once; GPS fixes are held in memory
//! ([`HeldTracks`], one [`TrackBuffer`] a patrol) and saved together
//! (every [`TRACK_FLUSH_FIXES`] fixes or every [`TRACK_FLUSH_MS`], and with
//! a check-in, the stop, or a [`PatrolEdit::Flush`] when the app is hidden
//! or closed), so a crash loses at most the last minute of track.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::{WorkError, Worker, day_of};
use crate::geo::{PatrolMetrics, TrackPoint, boundary_of, patrol_metrics};
use crate::model::grid::Grid;
use crate::model::{CheckIn, GeoPoint, Meta, Patrol};
use crate::store::{Store, StoreError};

/// A patrol `worker` starts in `grid` at `now_ms`: running, nothing
/// recorded yet.
pub fn blank_patrol(grid: &str, worker: &str, now_ms: i64) -> Patrol {
    Patrol {
        meta: Meta::new(grid, worker, now_ms),
        worker: worker.to_string(),
        started_at: now_ms,
        ended_at: None,
        track: Vec::new(),
        check_ins: Vec::new(),
        notes: String::new(),
        incident_ids: Vec::new(),
    }
}

/// What the patrol screen records as the walk goes on.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PatrolEdit {
    /// A position: a GPS fix, or a tap on the map where there is none.
    Point { point: TrackPoint },
    /// A check-in with a note at a point, also a point of the track.
    CheckIn {
        point: GeoPoint,
        at: i64,
        #[serde(default)]
        note: String,
    },
    /// An incident reported from this patrol (also after it ended: the
    /// report may be finished later).
    Incident { id: Uuid },
    /// The end of the patrol, with its closing notes.
    Stop {
        at: i64,
        #[serde(default)]
        notes: String,
    },
    /// Save the fixes held in a [`TrackBuffer`] now (the app is hidden or
    /// closing); changes nothing else.
    Flush,
}

/// Held GPS fixes are saved once this many have come…
pub const TRACK_FLUSH_FIXES: usize = 12;

/// …or once the oldest held one is this old (milliseconds), whichever is
/// first. With a fix every 5 s both come to a minute: a 2-hour patrol is
/// about 120 changes instead of 1,440.
pub const TRACK_FLUSH_MS: i64 = 60_000;

/// GPS fixes of a running patrol not saved yet. Every save of a patrol is
/// one Automerge change that its document keeps for good, so saving each
/// fix made a long patrol's document grow by a change's overhead every
/// 5 seconds. Fixes are held here and saved together when
/// [`TrackBuffer::push`] says so, and always with a check-in, the stop, and
/// when the app is hidden or closed ([`PatrolEdit::Flush`]).
///
/// The price: the held fixes live only in memory, so a crash (or the
/// system killing the app without warning) loses at most the fixes of the
/// last [`TRACK_FLUSH_MS`] (at most [`TRACK_FLUSH_FIXES`] of them). Check-ins
/// and everything else a worker types are saved at once as before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackBuffer {
    points: Vec<TrackPoint>,
    /// When (device clock) the oldest held fix was taken in.
    since_ms: Option<i64>,
}

impl TrackBuffer {
    /// Holds a fix taken in at `now_ms`; true when the held fixes should be
    /// saved now.
    pub fn push(&mut self, point: TrackPoint, now_ms: i64) -> bool {
        let since = *self.since_ms.get_or_insert(now_ms);
        self.points.push(point);
        self.points.len() >= TRACK_FLUSH_FIXES || now_ms - since >= TRACK_FLUSH_MS
    }

    /// The held fixes, oldest first, to save; the buffer is empty after.
    pub fn take(&mut self) -> Vec<TrackPoint> {
        self.since_ms = None;
        std::mem::take(&mut self.points)
    }

    /// The held fixes, to draw with the saved track.
    pub fn points(&self) -> &[TrackPoint] {
        &self.points
    }
}

/// An ended patrol takes no more points, check-ins or stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the patrol has already ended")]
pub struct PatrolEnded;

impl PatrolEnded {
    /// The stable code for the UI.
    pub const CODE: &'static str = "patrol_ended";
}

/// Applies one edit to a running patrol.
pub fn edit_patrol(patrol: &mut Patrol, edit: PatrolEdit) -> Result<(), PatrolEnded> {
    if let PatrolEdit::Incident { id } = edit {
        if !patrol.incident_ids.contains(&id) {
            patrol.incident_ids.push(id);
        }
        return Ok(());
    }
    if edit == PatrolEdit::Flush {
        return Ok(());
    }
    if patrol.ended_at.is_some() {
        return Err(PatrolEnded);
    }
    match edit {
        PatrolEdit::Incident { .. } | PatrolEdit::Flush => {}
        PatrolEdit::Point { point } => patrol.track.push(point),
        PatrolEdit::CheckIn { point, at, note } => {
            patrol.track.push(TrackPoint {
                lon: point.lon,
                lat: point.lat,
                t_ms: at,
            });
            patrol.check_ins.push(CheckIn {
                at,
                point,
                photo: None,
                qr: None,
                note,
            });
        }
        PatrolEdit::Stop { at, notes } => {
            // A device clock set back must not make an end before the start.
            patrol.ended_at = Some(at.max(patrol.started_at));
            patrol.notes = notes;
        }
    }
    Ok(())
}

/// A patrol with its figures, for the patrol screens.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct PatrolView {
    pub patrol: Patrol,
    /// Distance, time inside the grid and coverage so far; coverage is 0
    /// when the patrol's grid has no boundary among `grids`.
    pub metrics: PatrolMetrics,
    /// Milliseconds from start to end (or to `now_ms` while running).
    pub duration_ms: i64,
}

/// Derives a patrol's figures against its grid's boundary in `grids`.
pub fn patrol_view(patrol: Patrol, grids: &[Grid], now_ms: i64) -> PatrolView {
    let boundary = grids
        .iter()
        .find(|g| g.code == patrol.meta.grid)
        .and_then(boundary_of)
        .unwrap_or_else(|| ::geo::MultiPolygon::new(Vec::new()));
    let metrics = patrol_metrics(&patrol.track, &boundary);
    let duration_ms = (patrol.ended_at.unwrap_or(now_ms) - patrol.started_at).max(0);
    PatrolView {
        patrol,
        metrics,
        duration_ms,
    }
}

/// Starts a patrol by the worker in their grid now, saved at once.
pub fn start(store: &mut Store, worker: &Worker<'_>, now_ms: i64) -> Result<Patrol, WorkError> {
    let patrol = blank_patrol(worker.grid, worker.user, now_ms);
    Ok(store.insert(patrol, &worker.author(now_ms), day_of(now_ms))?)
}

/// The GPS fixes held for this device's running patrols, by patrol (see
/// [`TrackBuffer`]). Lives as long as the signed-in session.
#[derive(Debug, Default)]
pub struct HeldTracks(HashMap<Uuid, TrackBuffer>);

impl HeldTracks {
    /// A patrol with the fixes held for it drawn after the saved ones, and
    /// its figures against the worker's grids.
    pub fn view(&self, mut patrol: Patrol, grids: &[Grid], now_ms: i64) -> PatrolView {
        if let Some(held) = self.0.get(&patrol.meta.id) {
            patrol.track.extend_from_slice(held.points());
        }
        patrol_view(patrol, grids, now_ms)
    }

    /// Patrol `id` as stored, with its held fixes and figures.
    pub fn get(
        &self,
        store: &Store,
        worker: &Worker<'_>,
        id: Uuid,
        now_ms: i64,
    ) -> Result<PatrolView, WorkError> {
        let patrol: Patrol = store.get(id)?.ok_or(StoreError::NotFound(id))?;
        Ok(self.view(patrol, worker.grids, now_ms))
    }

    /// Records a point (held until due), a check-in, the stop, a linked
    /// incident, or saves the held points ([`PatrolEdit::Flush`]); returns
    /// the patrol as the screen shows it. An ended patrol takes no more
    /// points, check-ins or stops ([`PatrolEnded`]), and a refused edit
    /// writes nothing.
    pub fn edit(
        &mut self,
        store: &mut Store,
        worker: &Worker<'_>,
        id: Uuid,
        edit: PatrolEdit,
        now_ms: i64,
    ) -> Result<PatrolView, WorkError> {
        let stored: Patrol = store.get(id)?.ok_or(StoreError::NotFound(id))?;
        let links = matches!(edit, PatrolEdit::Incident { .. } | PatrolEdit::Flush);
        if stored.ended_at.is_some() && !links {
            return Err(PatrolEnded.into());
        }
        let patrol = match edit {
            PatrolEdit::Point { point } => {
                if !self.0.entry(id).or_default().push(point, now_ms) {
                    stored
                } else {
                    self.save(store, worker, id, PatrolEdit::Flush, now_ms)?
                }
            }
            PatrolEdit::Flush if !self.0.contains_key(&id) => stored,
            edit => self.save(store, worker, id, edit, now_ms)?,
        };
        Ok(self.view(patrol, worker.grids, now_ms))
    }

    /// Saves the held fixes of every patrol (the app is closing); returns
    /// the patrols whose fixes could not be saved, with why.
    pub fn flush_all(
        &mut self,
        store: &mut Store,
        worker: &Worker<'_>,
        now_ms: i64,
    ) -> Vec<(Uuid, WorkError)> {
        let ids: Vec<Uuid> = self.0.keys().copied().collect();
        ids.into_iter()
            .filter_map(|id| {
                self.save(store, worker, id, PatrolEdit::Flush, now_ms)
                    .err()
                    .map(|e| (id, e))
            })
            .collect()
    }

    /// Saves the held fixes of patrol `id` and then `edit`, as one change.
    /// Should the store fail, the fixes stay held for the next try; once
    /// saved, or refused for good (the patrol ended elsewhere), they go.
    fn save(
        &mut self,
        store: &mut Store,
        worker: &Worker<'_>,
        id: Uuid,
        edit: PatrolEdit,
        now_ms: i64,
    ) -> Result<Patrol, WorkError> {
        let held = self
            .0
            .get(&id)
            .map(|b| b.points().to_vec())
            .unwrap_or_default();
        let result = store.write(|tx| {
            tx.try_update::<Patrol, WorkError>(id, &worker.author(now_ms), day_of(now_ms), |p| {
                for point in held {
                    edit_patrol(p, PatrolEdit::Point { point })?;
                }
                Ok(edit_patrol(p, edit)?)
            })
        });
        if matches!(result, Ok(_) | Err(WorkError::PatrolEnded(_))) {
            self.0.remove(&id);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldwork::testkit::{NOW, open_store, square_grid, worker};

    #[test]
    fn held_fixes_are_saved_every_twelve_or_every_minute() {
        let fix = |t: i64| TrackPoint {
            lon: 113.3271,
            lat: 23.1275,
            t_ms: NOW + t,
        };
        let mut b = TrackBuffer::default();
        for i in 0..11 {
            assert!(!b.push(fix(i * 1_000), NOW + i * 1_000), "fix {i}");
        }
        assert!(b.push(fix(11_000), NOW + 11_000), "the twelfth");
        assert_eq!(b.take().len(), 12);
        assert!(b.points().is_empty());
        // Slow fixes: the minute comes first.
        assert!(!b.push(fix(0), NOW));
        assert!(!b.push(fix(30_000), NOW + 30_000));
        assert!(b.push(fix(60_000), NOW + 60_000));
        assert_eq!(b.points().len(), 3);
    }

    #[test]
    fn a_patrol_records_points_and_check_ins_until_it_stops() {
        let mut p = blank_patrol("440106001001001", "gw-1", NOW);
        assert_eq!(p.ended_at, None);
        let fix = |lon: f64, t: i64| PatrolEdit::Point {
            point: TrackPoint {
                lon,
                lat: 23.1275,
                t_ms: NOW + t,
            },
        };
        edit_patrol(&mut p, fix(113.3271, 0)).unwrap();
        edit_patrol(&mut p, fix(113.3279, 60_000)).unwrap();
        let at = GeoPoint {
            lon: 113.3279,
            lat: 23.1276,
            crs: "EPSG:4326".into(),
            accuracy_m: None,
        };
        edit_patrol(
            &mut p,
            PatrolEdit::CheckIn {
                point: at,
                at: NOW + 90_000,
                note: "消防通道畅通".into(),
            },
        )
        .unwrap();
        assert_eq!(p.track.len(), 3, "a check-in is a point of the track too");
        assert_eq!(p.check_ins[0].note, "消防通道畅通");
        // A clock set back cannot end it before it began.
        let stop = PatrolEdit::Stop {
            at: NOW - 5,
            notes: "无异常".into(),
        };
        edit_patrol(&mut p, stop.clone()).unwrap();
        assert_eq!(p.ended_at, Some(NOW));
        assert_eq!(edit_patrol(&mut p, stop), Err(PatrolEnded));
        assert_eq!(
            edit_patrol(&mut p, fix(113.3275, 100_000)),
            Err(PatrolEnded)
        );
        assert_eq!(p.track.len(), 3);
        // An incident found on the way is linked, once, even after the end.
        let found = Uuid::now_v7();
        edit_patrol(&mut p, PatrolEdit::Incident { id: found }).unwrap();
        edit_patrol(&mut p, PatrolEdit::Incident { id: found }).unwrap();
        assert_eq!(p.incident_ids, vec![found]);
    }

    #[test]
    fn a_patrol_view_measures_the_walk_against_its_grid() {
        let mut p = blank_patrol("440106001001001", "gw-1", NOW);
        for (i, lon) in [113.3271, 113.3275, 113.3279].into_iter().enumerate() {
            let point = TrackPoint {
                lon,
                lat: 23.1275,
                t_ms: NOW + i as i64 * 30_000,
            };
            edit_patrol(&mut p, PatrolEdit::Point { point }).unwrap();
        }
        let view = patrol_view(p.clone(), &[square_grid()], NOW + 120_000);
        assert!((75.0..90.0).contains(&view.metrics.distance_m), "{view:?}");
        assert!(view.metrics.coverage_share > 0.0 && view.metrics.coverage_share < 1.0);
        assert_eq!(view.duration_ms, 120_000, "running: up to now");
        // Without the grid's boundary, the distance still counts.
        let elsewhere = patrol_view(p, &[], NOW + 120_000);
        assert_eq!(elsewhere.metrics.distance_m, view.metrics.distance_m);
        assert_eq!(elsewhere.metrics.coverage_share, 0.0);
    }

    #[test]
    fn held_fixes_are_saved_with_a_check_in_and_an_ended_patrol_takes_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(&dir.path().join("device.sqlite"));
        let gw = worker("gw-1");
        let mut held = HeldTracks::default();
        let patrol = start(&mut store, &gw, NOW).unwrap();
        assert_eq!(patrol.worker, "gw-1");
        let id = patrol.meta.id;
        let fix = |i: i64| PatrolEdit::Point {
            point: TrackPoint {
                lon: 113.3271 + i as f64 * 0.0001,
                lat: 23.1275,
                t_ms: NOW + i * 5_000,
            },
        };
        for i in 0..3 {
            let view = held
                .edit(&mut store, &gw, id, fix(i), NOW + i * 5_000)
                .unwrap();
            assert_eq!(view.patrol.track.len(), i as usize + 1, "drawn while held");
        }
        let stored: Patrol = store.get(id).unwrap().unwrap();
        assert!(stored.track.is_empty(), "held, not saved yet");
        assert_eq!(store.pending_count().unwrap(), 1, "the start alone");

        let check_in = PatrolEdit::CheckIn {
            point: GeoPoint::wgs84(113.3275, 23.1276),
            at: NOW + 20_000,
            note: "消防通道畅通".into(),
        };
        held.edit(&mut store, &gw, id, check_in, NOW + 20_000)
            .unwrap();
        let stored: Patrol = store.get(id).unwrap().unwrap();
        assert_eq!(stored.track.len(), 4, "the held fixes and the check-in");
        assert_eq!(store.pending_count().unwrap(), 2, "as one change");

        let stop = PatrolEdit::Stop {
            at: NOW + 60_000,
            notes: "无异常".into(),
        };
        held.edit(&mut store, &gw, id, stop.clone(), NOW + 60_000)
            .unwrap();
        let pending = store.pending_count().unwrap();
        for edit in [fix(9), stop] {
            let refused = held
                .edit(&mut store, &gw, id, edit, NOW + 70_000)
                .unwrap_err();
            assert!(matches!(refused, WorkError::PatrolEnded(_)), "{refused:?}");
        }
        assert_eq!(store.pending_count().unwrap(), pending, "nothing written");
        let found = Uuid::now_v7();
        let view = held
            .edit(
                &mut store,
                &gw,
                id,
                PatrolEdit::Incident { id: found },
                NOW + 80_000,
            )
            .unwrap();
        assert_eq!(
            view.patrol.incident_ids,
            vec![found],
            "linked after the end"
        );
        assert!(held.flush_all(&mut store, &gw, NOW).is_empty());
    }
}
