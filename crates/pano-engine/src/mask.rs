/// A binary instance mask stored only over its integer box (inclusive ends), never as a
/// full-size image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxMask {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    bits: Vec<u64>,
    area: u64,
}

impl BoxMask {
    /// An empty mask over `x0..=x1`, `y0..=y1`.
    pub fn new(x0: u32, y0: u32, x1: u32, y1: u32) -> Self {
        let n = ((x1 - x0 + 1) as usize) * ((y1 - y0 + 1) as usize);
        Self { x0, y0, x1, y1, bits: vec![0; n.div_ceil(64)], area: 0 }
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

    fn index(&self, x: u32, y: u32) -> usize {
        ((y - self.y0) * self.width() + (x - self.x0)) as usize
    }

    pub fn set(&mut self, x: u32, y: u32) {
        let i = self.index(x, y);
        let (word, bit) = (i / 64, i % 64);
        if self.bits[word] & (1 << bit) == 0 {
            self.bits[word] |= 1 << bit;
            self.area += 1;
        }
    }

    /// Whether (x, y), in image coordinates, is set; false outside the box.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x < self.x0 || x > self.x1 || y < self.y0 || y > self.y1 {
            return false;
        }
        let i = self.index(x, y);
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    /// Set columns of one image row, as (x) values.
    pub fn row(&self, y: u32) -> impl Iterator<Item = u32> + '_ {
        let inside = y >= self.y0 && y <= self.y1;
        let (x0, x1) = if inside { (self.x0, self.x1 + 1) } else { (0, 0) };
        (x0..x1).filter(move |&x| self.get(x, y))
    }

    /// Pixels set in both masks.
    pub fn intersection(&self, other: &BoxMask) -> u64 {
        let (x0, x1) = (self.x0.max(other.x0), self.x1.min(other.x1));
        let (y0, y1) = (self.y0.max(other.y0), self.y1.min(other.y1));
        if x0 > x1 || y0 > y1 {
            return 0;
        }
        let mut n = 0;
        for y in y0..=y1 {
            for x in x0..=x1 {
                if self.get(x, y) && other.get(x, y) {
                    n += 1;
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // overlap region x 15..=19, y 12..=14: 15 pixels, of which b has the even ones
        let expected = (15..=19).flat_map(|x| (12..=14).map(move |y| (x, y))).filter(|(x, y)| (x + y) % 2 == 0).count();
        assert_eq!(a.intersection(&b), expected as u64);
        assert_eq!(b.intersection(&a), expected as u64);
        assert_eq!(a.row(12).count(), 10);
        assert_eq!(a.row(30).count(), 0);
    }
}
