//! 4-connected components of labelled pixels, found on runs (maximal horizontal stretches of
//! one label in a row) rather than pixel by pixel, and the outer boundary of each.
//!
//! Both inputs of the geometry come as runs or turn into few of them: an instance mask is
//! stored as rows of runs, and a tooth map has long stretches of one class. Union-find over
//! runs touches each run once and each pair of overlapping runs in adjacent rows once, so a
//! mask costs its run count rather than its area, and no per-pixel label or id grid is ever
//! allocated (a 500-detection image covers each pixel ~30 deep).

/// One 4-connected component of equal non-zero labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    pub label: u8,
    pub pixels: u64,
    /// Its first pixel in raster order: the top-left corner of that pixel is on its outer
    /// boundary, and nothing of the component lies above or left of it on that row.
    pub first: (usize, usize),
}

/// The components of a grid of runs, in raster order of their first pixels.
pub struct Components {
    pub width: usize,
    pub height: usize,
    /// Every run `(start, end)` (end exclusive), row by row, left to right.
    runs: Vec<(u32, u32)>,
    /// The component (index into `list`) of each run.
    run_component: Vec<u32>,
    /// Row `y`'s runs are `runs[row_start[y]..row_start[y + 1]]`.
    row_start: Vec<usize>,
    pub list: Vec<Component>,
}

/// Union-find root with path halving.
fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let grand = parent[parent[i as usize] as usize];
        parent[i as usize] = grand;
        i = grand;
    }
    i
}

impl Components {
    /// `row(y, out)` appends row `y`'s runs `(start, end, label)`: left to right, not
    /// overlapping, `end` exclusive and at most `width`, labels non-zero.
    pub fn from_runs(
        width: usize,
        height: usize,
        mut row: impl FnMut(usize, &mut Vec<(u32, u32, u8)>),
    ) -> Self {
        let mut labelled: Vec<(u32, u32, u8)> = Vec::new();
        let mut row_start = Vec::with_capacity(height + 1);
        for y in 0..height {
            row_start.push(labelled.len());
            row(y, &mut labelled);
        }
        row_start.push(labelled.len());

        // Runs of one label in adjacent rows that share a column are connected.
        let mut parent: Vec<u32> = (0..labelled.len() as u32).collect();
        for y in 1..height {
            let (mut i, i_end) = (row_start[y - 1], row_start[y]);
            let (mut j, j_end) = (row_start[y], row_start[y + 1]);
            while i < i_end && j < j_end {
                let (a, b) = (labelled[i], labelled[j]);
                if a.0 < b.1 && b.0 < a.1 && a.2 == b.2 {
                    let (ra, rb) = (find(&mut parent, i as u32), find(&mut parent, j as u32));
                    // The smaller index (the earlier run in raster order) stays the root.
                    let (lo, hi) = (ra.min(rb), ra.max(rb));
                    parent[hi as usize] = lo;
                }
                if a.1 <= b.1 {
                    i += 1;
                } else {
                    j += 1;
                }
            }
        }

        // Components numbered by their first run in raster order, whose start is the first
        // pixel (runs of one row are disjoint, so nothing of it lies left of that start).
        let mut component_of_root = vec![u32::MAX; labelled.len()];
        let mut run_component = Vec::with_capacity(labelled.len());
        let mut list: Vec<Component> = Vec::new();
        let mut y = 0;
        for (r, &(start, end, label)) in labelled.iter().enumerate() {
            while row_start[y + 1] <= r {
                y += 1;
            }
            let root = find(&mut parent, r as u32) as usize;
            if component_of_root[root] == u32::MAX {
                component_of_root[root] = list.len() as u32;
                list.push(Component {
                    label,
                    pixels: 0,
                    first: (start as usize, y),
                });
            }
            let c = component_of_root[root];
            list[c as usize].pixels += (end - start) as u64;
            run_component.push(c);
        }
        Self {
            width,
            height,
            runs: labelled.into_iter().map(|(s, e, _)| (s, e)).collect(),
            run_component,
            row_start,
            list,
        }
    }

    /// The component holding pixel (x, y), if any.
    fn component_at(&self, x: i64, y: i64) -> Option<u32> {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return None;
        }
        let (from, to) = (self.row_start[y as usize], self.row_start[y as usize + 1]);
        let row = &self.runs[from..to];
        let k = row.partition_point(|r| r.0 as i64 <= x);
        (k > 0 && x < row[k - 1].1 as i64).then(|| self.run_component[from + k - 1])
    }

    fn is(&self, id: u32, x: i64, y: i64) -> bool {
        self.component_at(x, y) == Some(id)
    }

    /// The corners of a component's outer boundary, clockwise on screen, in pixel-corner
    /// coordinates of the grid.
    pub fn outer_corners(&self, c: &Component) -> Vec<(u32, u32)> {
        let start = (c.first.0 as i64, c.first.1 as i64);
        let id = self
            .component_at(start.0, start.1)
            .expect("a component's first pixel is one of its runs");
        // The walk keeps the component on its right. It starts east along the first
        // pixel's top edge, which is outer: nothing of the component lies above that row.
        let (mut v, mut d) = (start, 0usize);
        let mut corners = vec![(start.0 as u32, start.1 as u32)];
        loop {
            v = (v.0 + STEPS[d].0, v.1 + STEPS[d].1);
            if v == start {
                break;
            }
            // The two pixels ahead of vertex v in direction d, left and right of the way.
            let (ahead_left, ahead_right) = match d {
                0 => ((v.0, v.1 - 1), (v.0, v.1)),
                1 => ((v.0, v.1), (v.0 - 1, v.1)),
                2 => ((v.0 - 1, v.1), (v.0 - 1, v.1 - 1)),
                _ => ((v.0 - 1, v.1 - 1), (v.0, v.1 - 1)),
            };
            let next = if !self.is(id, ahead_right.0, ahead_right.1) {
                // The component ends here on our right (also where it only touches a pixel
                // ahead-left by a corner: 4-connectivity does not pass through corners).
                (d + 1) % 4
            } else if self.is(id, ahead_left.0, ahead_left.1) {
                (d + 3) % 4
            } else {
                d
            };
            if next != d {
                corners.push((v.0 as u32, v.1 as u32));
                d = next;
            }
        }
        corners
    }
}

/// Directions along pixel edges, clockwise on screen (y down): east, south, west, north.
const STEPS: [(i64, i64); 4] = [(1, 0), (0, 1), (-1, 0), (0, -1)];

/// A row-major grid of labels; 0 is background.
pub struct LabelGrid<'a> {
    pub width: usize,
    pub height: usize,
    pub labels: &'a [u8],
}

impl LabelGrid<'_> {
    pub fn components(&self) -> Components {
        let w = self.width;
        Components::from_runs(w, self.height, |y, out| {
            let row = &self.labels[y * w..][..w];
            let mut x = 0;
            while x < w {
                let label = row[x];
                let start = x;
                x += row[x..].iter().take_while(|&&l| l == label).count();
                if label != 0 {
                    out.push((start as u32, x as u32, label));
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition: flood fill pixel by pixel, components numbered in raster order
    /// of their first pixel; each pixel's component (or None).
    fn flood_fill(w: usize, h: usize, labels: &[u8]) -> (Vec<Component>, Vec<Option<usize>>) {
        let mut ids: Vec<Option<usize>> = vec![None; w * h];
        let mut list = Vec::new();
        for start in 0..w * h {
            if labels[start] == 0 || ids[start].is_some() {
                continue;
            }
            let id = list.len();
            let mut pixels = 0;
            let mut stack = vec![start];
            ids[start] = Some(id);
            while let Some(i) = stack.pop() {
                pixels += 1;
                let (x, y) = (i % w, i / w);
                let mut near = vec![];
                if x > 0 {
                    near.push(i - 1);
                }
                if x + 1 < w {
                    near.push(i + 1);
                }
                if y > 0 {
                    near.push(i - w);
                }
                if y + 1 < h {
                    near.push(i + w);
                }
                for j in near {
                    if labels[j] == labels[start] && ids[j].is_none() {
                        ids[j] = Some(id);
                        stack.push(j);
                    }
                }
            }
            list.push(Component {
                label: labels[start],
                pixels,
                first: (start % w, start / w),
            });
        }
        (list, ids)
    }

    #[test]
    fn runs_give_the_components_flood_fill_gives() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..300 {
            let (w, h) = (1 + (next() % 40) as usize, 1 + (next() % 30) as usize);
            // Noise (each pixel its own draw) and blobs (labels held along the row), with
            // 1 to 3 labels: spirals, holes, corner contacts and U shapes all turn up.
            let kinds = 1 + (next() % 3) as u8;
            let hold = if case % 2 == 0 { 1 } else { 1 + next() % 8 };
            let mut labels = vec![0u8; w * h];
            let mut current = 0u8;
            for (i, l) in labels.iter_mut().enumerate() {
                if (i as u64).is_multiple_of(hold) {
                    current = (next() % (kinds as u64 + 1)) as u8;
                }
                *l = current;
            }
            let grid = LabelGrid {
                width: w,
                height: h,
                labels: &labels,
            };
            let found = grid.components();
            let (expected, ids) = flood_fill(w, h, &labels);
            assert_eq!(found.list, expected, "case {case}: {w}x{h}");
            for y in 0..h {
                for x in 0..w {
                    assert_eq!(
                        found.component_at(x as i64, y as i64),
                        ids[y * w + x].map(|i| i as u32),
                        "case {case}: pixel ({x}, {y})"
                    );
                }
            }
            // Every component's boundary closes and starts at its first pixel.
            for c in &found.list {
                let corners = found.outer_corners(c);
                assert_eq!(corners[0], (c.first.0 as u32, c.first.1 as u32));
                assert!(corners.len() >= 4 && corners.len().is_multiple_of(2));
            }
        }
    }
}
