//! Whether a boundary is a valid polygon: `geo`'s [`Validation`] rules
//! (OGC Simple Features), checked in `O(n log n)` for a ring of `n`
//! vertices instead of `geo`'s `O(n²)`.
//!
//! `geo` 0.33 finds a ring's self-intersection by testing every pair of
//! its segments: for a ring of the 10,000 vertices an import may hold,
//! 10⁸ pairs, about 20 s in a test build. An import of many such rings
//! would take hours. So this module runs the same rules in the same order
//! and gives the same first error (`geo`'s own [`InvalidPolygon`] and
//! [`InvalidMultiPolygon`]), but finds crossing segments with `geo`'s
//! sweep-line [`Intersections`], which only pairs segments whose
//! x-ranges overlap. The relations between rings and between polygons
//! are `geo`'s [`Relate`], as its validation does. A property test holds
//! this module to `geo`'s [`Validation`] on random small shapes (a
//! MultiPolygon's polygons are checked before their relations, see
//! [`multi_polygon_error`]).
//!
//! [`Validation`]: ::geo::Validation

use ::geo::algorithm::validation::{
    CoordIndex, GeometryIndex, InvalidMultiPolygon, InvalidPolygon, RingRole,
};
use ::geo::coordinate_position::CoordPos;
use ::geo::dimensions::Dimensions;
use ::geo::sweep::{Cross, Intersections};
use ::geo::{
    HasDimensions, Line, LineString, MultiPolygon, Polygon, PreparedGeometry, Relate,
    RemoveRepeatedPoints,
};

/// The first reason `polygon` is invalid, as `geo`'s
/// `polygon.check_validation()` would give it.
pub(super) fn polygon_error(polygon: &Polygon<f64>) -> Option<InvalidPolygon> {
    if polygon.is_empty() {
        return None;
    }
    let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
    for (i, ring) in rings.enumerate() {
        if ring.0.is_empty() {
            continue;
        }
        let role = if i == 0 {
            RingRole::Exterior
        } else {
            RingRole::Interior(i - 1)
        };
        if ring.remove_repeated_points().0.len() < 4 {
            return Some(InvalidPolygon::TooFewPointsInRing(role));
        }
        if self_intersects(ring) {
            return Some(InvalidPolygon::SelfIntersection(role));
        }
        if let Some(at) = ring
            .0
            .iter()
            .position(|c| !c.x.is_finite() || !c.y.is_finite())
        {
            return Some(InvalidPolygon::NonFiniteCoord(role, CoordIndex(at)));
        }
    }
    if polygon.interiors().iter().all(|r| r.0.is_empty()) {
        return None;
    }
    // Holes inside the outline, touching it and each other at points only.
    let outline = Polygon::new(polygon.exterior().clone(), vec![]);
    let outline = PreparedGeometry::from(&outline);
    for (i, hole) in polygon.interiors().iter().enumerate() {
        if hole.0.is_empty() {
            continue;
        }
        let role = RingRole::Interior(i);
        let hole_shape = Polygon::new(hole.clone(), vec![]);
        let prepared = PreparedGeometry::from(&hole_shape);
        let m = outline.relate(&prepared);
        if !m.is_contains() {
            return Some(InvalidPolygon::InteriorRingNotContainedInExteriorRing(role));
        }
        if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return Some(InvalidPolygon::IntersectingRingsOnALine(
                RingRole::Exterior,
                role,
            ));
        }
        for (j, other) in polygon.interiors().iter().enumerate().skip(i + 1) {
            if other.0.is_empty() {
                continue;
            }
            let m = prepared.relate(&Polygon::new(other.clone(), vec![]));
            let other_role = RingRole::Interior(j);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Some(InvalidPolygon::IntersectingRingsOnAnArea(role, other_role));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Some(InvalidPolygon::IntersectingRingsOnALine(role, other_role));
            }
        }
    }
    None
}

/// The first reason `shape` is invalid. Each polygon is checked first,
/// then how they lie to each other: `geo` checks polygon 0, then its
/// relation to every other, then polygon 1 …, and its relation code
/// asserts (in builds with debug assertions) on a degenerate polygon, so
/// here no relation is computed before every polygon is known valid. On a
/// shape whose polygons are all valid the answer is `geo`'s.
pub(super) fn multi_polygon_error(shape: &MultiPolygon<f64>) -> Option<InvalidMultiPolygon> {
    if let Some((i, e)) = shape
        .0
        .iter()
        .enumerate()
        .find_map(|(i, p)| polygon_error(p).map(|e| (i, e)))
    {
        return Some(InvalidMultiPolygon::InvalidPolygon(GeometryIndex(i), e));
    }
    for (i, polygon) in shape.0.iter().enumerate() {
        for (j, other) in shape.0.iter().enumerate().skip(i + 1) {
            let m = polygon.relate(other);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Some(InvalidMultiPolygon::ElementsOverlaps(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Some(InvalidMultiPolygon::ElementsTouchOnALine(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
        }
    }
    None
}

/// A ring's segment and its place in the ring.
#[derive(Clone, Copy)]
struct Segment(Line<f64>);

impl Cross for Segment {
    type Scalar = f64;

    fn line(&self) -> Line<f64> {
        self.0
    }
}

/// `geo`'s rule for a ring crossing itself: two of its segments meet, and
/// not merely where one ends and the other starts.
fn self_intersects(ring: &LineString<f64>) -> bool {
    Intersections::from_iter(ring.lines().map(Segment)).any(|(a, b, _)| {
        let (a, b) = (a.0, b.0);
        a.start != b.end && a.end != b.start
    })
}

#[cfg(test)]
mod tests {
    use ::geo::{Coord, Validation};
    use proptest::prelude::*;

    use super::*;

    fn ring(points: &[(f64, f64)]) -> LineString<f64> {
        let mut coords: Vec<Coord<f64>> = points.iter().map(|&(x, y)| Coord { x, y }).collect();
        if let Some(&first) = coords.first() {
            coords.push(first);
        }
        LineString(coords)
    }

    /// Points on a small lattice, so that shared vertices, touching edges
    /// and collinear overlaps come up often.
    fn arb_ring() -> impl Strategy<Value = LineString<f64>> {
        prop::collection::vec((0i32..6, 0i32..6), 0..9).prop_map(|points| {
            ring(
                &points
                    .into_iter()
                    .map(|(x, y)| (f64::from(x), f64::from(y)))
                    .collect::<Vec<_>>(),
            )
        })
    }

    fn arb_polygon() -> impl Strategy<Value = Polygon<f64>> {
        (arb_ring(), prop::collection::vec(arb_ring(), 0..3))
            .prop_map(|(outline, holes)| Polygon::new(outline, holes))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn agrees_with_geos_validation_on_polygons(p in arb_polygon()) {
            prop_assert_eq!(polygon_error(&p), p.check_validation().err());
        }

        /// Valid parts (rectangles on the lattice) that overlap, touch
        /// on an edge or a corner, or lie apart.
        #[test]
        fn agrees_with_geos_validation_on_multi_polygons(
            parts in prop::collection::vec((0i32..5, 0i32..5, 1i32..3, 1i32..3), 0..4)
        ) {
            let shape = MultiPolygon::new(
                parts
                    .into_iter()
                    .map(|(x, y, w, h)| {
                        let (x, y, w, h) = (f64::from(x), f64::from(y), f64::from(w), f64::from(h));
                        Polygon::new(ring(&[(x, y), (x + w, y), (x + w, y + h), (x, y + h)]), vec![])
                    })
                    .collect(),
            );
            prop_assert_eq!(multi_polygon_error(&shape), shape.check_validation().err());
        }
    }

    /// Found by the property test: `geo` relates polygon 0 to a degenerate
    /// polygon 1 before checking polygon 1, and its relate asserts.
    #[test]
    fn a_degenerate_part_is_named_without_relating_it() {
        let shape = MultiPolygon::new(vec![
            Polygon::new(ring(&[(0.0, 5.0), (0.0, 0.0), (2.0, 2.0)]), vec![]),
            Polygon::new(
                LineString(vec![Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 }]),
                vec![ring(&[(0.0, 0.0), (1.0, 4.0)])],
            ),
        ]);
        assert_eq!(
            multi_polygon_error(&shape),
            Some(InvalidMultiPolygon::InvalidPolygon(
                GeometryIndex(1),
                InvalidPolygon::TooFewPointsInRing(RingRole::Exterior)
            ))
        );
    }

    #[test]
    fn a_bow_tie_crosses_itself_and_a_square_does_not() {
        let bow_tie = Polygon::new(
            ring(&[(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)]),
            vec![],
        );
        assert_eq!(
            polygon_error(&bow_tie),
            Some(InvalidPolygon::SelfIntersection(RingRole::Exterior))
        );
        let square = Polygon::new(
            ring(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]),
            vec![],
        );
        assert_eq!(polygon_error(&square), None);
    }
}
