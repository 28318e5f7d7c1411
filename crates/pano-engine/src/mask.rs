/// A binary instance mask stored only over its integer box (inclusive ends), never as a
/// full-size image. Rows are padded to whole 64-bit words so that intersections of two
/// masks run a word at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxMask {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    words_per_row: usize,
    bits: Vec<u64>,
    area: u64,
}

impl BoxMask {
    /// An empty mask over `x0..=x1`, `y0..=y1`.
    pub fn new(x0: u32, y0: u32, x1: u32, y1: u32) -> Self {
        let words_per_row = ((x1 - x0 + 1) as usize).div_ceil(64);
        let rows = (y1 - y0 + 1) as usize;
        Self {
            x0,
            y0,
            x1,
            y1,
            words_per_row,
            bits: vec![0; words_per_row * rows],
            area: 0,
        }
    }

    pub fn width(&self) -> u32 {
        self.x1 - self.x0 + 1
    }

    pub fn height(&self) -> u32 {
        self.y1 - self.y0 + 1
    }

    /// Number of set pixels.
    pub fn area(&self) -> u64 {
        self.area
    }

    fn slot(&self, x: u32, y: u32) -> (usize, u32) {
        let dx = (x - self.x0) as usize;
        (
            (y - self.y0) as usize * self.words_per_row + dx / 64,
            (dx % 64) as u32,
        )
    }

    /// One pixel at a time: the reference the word-wise setters are tested against.
    #[cfg(test)]
    pub fn set(&mut self, x: u32, y: u32) {
        let (w, b) = self.slot(x, y);
        if self.bits[w] & (1 << b) == 0 {
            self.bits[w] |= 1 << b;
            self.area += 1;
        }
    }

    /// Sets columns `xa..=xb` of row `y` a word at a time.
    pub fn set_span(&mut self, y: u32, xa: u32, xb: u32) {
        let row = (y - self.y0) as usize * self.words_per_row;
        let (a, b) = ((xa - self.x0) as usize, (xb - self.x0) as usize);
        for w in a / 64..=b / 64 {
            let lo = if w == a / 64 { a % 64 } else { 0 };
            let hi = if w == b / 64 { b % 64 } else { 63 };
            let bits = (u64::MAX >> (63 - hi)) & (u64::MAX << lo);
            let word = &mut self.bits[row + w];
            self.area += (bits & !*word).count_ones() as u64;
            *word |= bits;
        }
    }

    /// Whether (x, y), in image coordinates, is set; false outside the box.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x < self.x0 || x > self.x1 || y < self.y0 || y > self.y1 {
            return false;
        }
        let (w, b) = self.slot(x, y);
        self.bits[w] & (1 << b) != 0
    }

    /// The set pixels of image row `y` as runs `(start, end)` of columns, `end` exclusive,
    /// appended to `out`: consumers sum or paint whole runs instead of single pixels.
    pub fn runs_into(&self, y: u32, out: &mut Vec<(u32, u32)>) {
        if y < self.y0 || y > self.y1 {
            return;
        }
        let row = &self.bits[(y - self.y0) as usize * self.words_per_row..][..self.words_per_row];
        let mut open: Option<u32> = None;
        for (i, &word) in row.iter().enumerate() {
            let base = self.x0 + (i * 64) as u32;
            let mut pos = 0u32;
            while pos < 64 {
                let rest = word >> pos;
                match open {
                    Some(start) => {
                        // Bits shifted in from above are zero, so this stays below 64 - pos
                        // unless the run reaches the end of the word and goes on.
                        let ones = rest.trailing_ones();
                        if ones >= 64 - pos {
                            break;
                        }
                        out.push((start, base + pos + ones));
                        open = None;
                        pos += ones;
                    }
                    None => {
                        if rest == 0 {
                            break;
                        }
                        let zeros = rest.trailing_zeros();
                        open = Some(base + pos + zeros);
                        pos += zeros;
                    }
                }
            }
        }
        if let Some(start) = open {
            out.push((start, self.x1 + 1));
        }
    }

    /// Sets the pixels of row `y` whose bits are set in `bits`, bit i being column `x + i`;
    /// `x + 63` may pass the box's end only where those bits are clear.
    pub fn set_bits(&mut self, y: u32, x: u32, bits: u64) {
        if bits == 0 {
            return;
        }
        let row = (y - self.y0) as usize * self.words_per_row;
        let dx = (x - self.x0) as usize;
        let (w, shift) = (dx / 64, dx % 64);
        let lo = bits << shift;
        let word = &mut self.bits[row + w];
        self.area += (lo & !*word).count_ones() as u64;
        *word |= lo;
        if shift > 0 {
            let hi = bits >> (64 - shift);
            if hi != 0 {
                let word = &mut self.bits[row + w + 1];
                self.area += (hi & !*word).count_ones() as u64;
                *word |= hi;
            }
        }
    }

    /// 64 pixels of row `y` starting at image column `x` (bit 0 = column x); zero outside.
    fn word_at(&self, y: u32, x: u32) -> u64 {
        if y < self.y0 || y > self.y1 || x > self.x1 {
            return 0;
        }
        let row = &self.bits[(y - self.y0) as usize * self.words_per_row..][..self.words_per_row];
        let fetch = |i: i64| {
            if i >= 0 && (i as usize) < row.len() {
                row[i as usize]
            } else {
                0
            }
        };
        let dx = x as i64 - self.x0 as i64;
        let (wi, shift) = (dx.div_euclid(64), dx.rem_euclid(64) as u32);
        if shift == 0 {
            fetch(wi)
        } else {
            (fetch(wi) >> shift) | (fetch(wi + 1) << (64 - shift))
        }
    }

    /// Pixels set in both masks.
    pub fn intersection(&self, other: &BoxMask) -> u64 {
        let (x0, x1) = (self.x0.max(other.x0), self.x1.min(other.x1));
        let (y0, y1) = (self.y0.max(other.y0), self.y1.min(other.y1));
        if x0 > x1 || y0 > y1 {
            return 0;
        }
        let mut n = 0u64;
        for y in y0..=y1 {
            let mut x = x0;
            while x <= x1 {
                let remaining = x1 - x + 1;
                let keep = if remaining >= 64 {
                    u64::MAX
                } else {
                    (1u64 << remaining) - 1
                };
                n += (self.word_at(y, x) & other.word_at(y, x) & keep).count_ones() as u64;
                x = x.saturating_add(64);
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_intersection(a: &BoxMask, b: &BoxMask) -> u64 {
        let mut n = 0;
        for y in a.y0.min(b.y0)..=a.y1.max(b.y1) {
            for x in a.x0.min(b.x0)..=a.x1.max(b.x1) {
                n += (a.get(x, y) && b.get(x, y)) as u64;
            }
        }
        n
    }

    #[test]
    fn set_get_area_and_intersection() {
        let mut a = BoxMask::new(10, 10, 19, 14);
        let mut b = BoxMask::new(15, 12, 30, 20);
        for y in 10..=14 {
            for x in 10..=19 {
                a.set(x, y);
            }
        }
        a.set(10, 10); // setting twice counts once
        assert_eq!(a.area(), 50);
        for y in 12..=20 {
            for x in 15..=30 {
                if (x + y) % 2 == 0 {
                    b.set(x, y);
                }
            }
        }
        assert!(!a.get(9, 10) && a.get(19, 14) && !a.get(20, 14));
        let expected = (15..=19)
            .flat_map(|x| (12..=14).map(move |y| (x, y)))
            .filter(|(x, y)| (x + y) % 2 == 0)
            .count();
        assert_eq!(a.intersection(&b), expected as u64);
        assert_eq!(b.intersection(&a), expected as u64);
        let mut runs = Vec::new();
        a.runs_into(30, &mut runs);
        assert!(runs.is_empty(), "outside the box");
        b.runs_into(12, &mut runs);
        assert_eq!(runs.len(), 8, "alternate pixels: one run each");
        runs.clear();
        a.runs_into(12, &mut runs);
        assert_eq!(runs, vec![(10, 20)]);
    }

    proptest::proptest! {
        #[test]
        fn wordwise_intersection_equals_pixelwise(
            ax in 0u32..150, ay in 0u32..40, aw in 1u32..200, ah in 1u32..30,
            bx in 0u32..150, by in 0u32..40, bw in 1u32..200, bh in 1u32..30,
            seed in 0u64..1000,
        ) {
            let mut a = BoxMask::new(ax, ay, ax + aw - 1, ay + ah - 1);
            let mut b = BoxMask::new(bx, by, bx + bw - 1, by + bh - 1);
            let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            for m in [&mut a, &mut b] {
                for y in m.y0..=m.y1 {
                    for x in m.x0..=m.x1 {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        if (s >> 33) % 3 != 0 { m.set(x, y); }
                    }
                }
            }
            proptest::prop_assert_eq!(a.intersection(&b), naive_intersection(&a, &b));
            let mut spans = BoxMask::new(ax, ay, ax + aw - 1, ay + ah - 1);
            let mut pixels = spans.clone();
            let (xa, xb) = (ax + (seed as u32 % aw), ax + aw - 1 - (seed as u32 / 7 % aw).min(aw - 1 - seed as u32 % aw));
            spans.set_span(ay, xa, xb);
            spans.set_span(ay, xa, xb);
            for x in xa..=xb { pixels.set(x, ay); }
            proptest::prop_assert_eq!(&spans, &pixels);
            let naive: Vec<u32> = (a.x0..=a.x1).filter(|&x| a.get(x, a.y0)).collect();
            let mut runs = Vec::new();
            a.runs_into(a.y0, &mut runs);
            let expanded: Vec<u32> = runs.iter().flat_map(|&(s, e)| s..e).collect();
            proptest::prop_assert_eq!(&expanded, &naive);
            // Runs are maximal: none touches the next.
            proptest::prop_assert!(runs.windows(2).all(|w| w[0].1 < w[1].0));
            // set_bits equals setting pixel by pixel, wherever the 64 columns start.
            let mut words = BoxMask::new(ax, ay, ax + aw - 1, ay + ah - 1);
            let mut pixels = words.clone();
            let start = ax + (seed as u32 % aw);
            let room = (ax + aw - start).min(64);
            let bits = (s | 1) & if room == 64 { u64::MAX } else { (1u64 << room) - 1 };
            words.set_bits(ay, start, bits);
            words.set_bits(ay, start, bits);
            for i in 0..room {
                if bits >> i & 1 == 1 { pixels.set(start + i, ay); }
            }
            proptest::prop_assert_eq!(&words, &pixels);
        }
    }
}
