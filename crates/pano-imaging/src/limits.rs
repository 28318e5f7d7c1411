/// Bounds on what import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    /// Largest file read at all.
    pub max_file_bytes: u64,
    /// Largest width x height decoded; checked from the header.
    pub max_pixels: u64,
    /// A panoramic radiograph is wide: smaller images are refused as not being one.
    pub min_long_edge: u32,
    pub min_short_edge: u32,
}

impl Default for ImportLimits {
    fn default() -> Self {
        // Panoramic detectors produce 2-10 megapixels; 80 MP leaves room for scanned films
        // while capping a decode at ~240 MB of RGB.
        Self {
            max_file_bytes: 512 * 1024 * 1024,
            max_pixels: 80_000_000,
            min_long_edge: 512,
            min_short_edge: 256,
        }
    }
}
