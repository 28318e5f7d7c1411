//! How ONNX Runtime runs the two sessions: graph optimisation, memory planning, threads.
//!
//! The defaults are the settings that measured best on the full-size models
//! (docs/benchmarks.md, "Speed work"); the pipeline benchmark can switch each one so that a
//! change is always measured against the others.

use std::fmt;

use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::RunOptions;

/// How far ONNX Runtime rewrites the graph before running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphOptimization {
    Disable,
    Basic,
    Extended,
    /// Also the layout transformations (NCHWc blocked convolutions on x86).
    All,
}

impl GraphOptimization {
    fn level(self) -> GraphOptimizationLevel {
        match self {
            GraphOptimization::Disable => GraphOptimizationLevel::Disable,
            GraphOptimization::Basic => GraphOptimizationLevel::Level1,
            GraphOptimization::Extended => GraphOptimizationLevel::Level2,
            GraphOptimization::All => GraphOptimizationLevel::Level3,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "disable" | "none" => Some(Self::Disable),
            "basic" => Some(Self::Basic),
            "extended" => Some(Self::Extended),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

/// Session settings for both models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTuning {
    pub optimization: GraphOptimization,
    /// ONNX Runtime's CPU arena: keeps freed tensor memory for reuse instead of returning it.
    pub cpu_arena: bool,
    /// Plans one block for all intermediate tensors of an input shape and keeps it.
    pub memory_pattern: bool,
    /// Gives the arena's unused memory back after a run that no other follows at once
    /// (`MemoryAfter::Release`), so that an idle engine holds its models, not the last
    /// analysis's working memory (allocations within a run still reuse it).
    pub arena_shrinkage: bool,
    /// Worker threads spin briefly before sleeping between operators.
    pub spinning: bool,
    /// Weights re-laid out once for the matrix kernels at load (a second copy of them).
    pub prepacking: bool,
    /// Threads ONNX Runtime may use per session; `None` = its default (all cores).
    pub intra_threads: Option<usize>,
}

impl Default for SessionTuning {
    fn default() -> Self {
        Self {
            optimization: GraphOptimization::All,
            // Both off: a clinic's radiographs come in many sizes, and with the arena and a
            // memory plan per input shape a batch of 20 grew to 2.8 GB (docs/benchmarks.md).
            cpu_arena: true,
            memory_pattern: false,
            arena_shrinkage: true,
            spinning: true,
            prepacking: true,
            intra_threads: None,
        }
    }
}

impl SessionTuning {
    pub(crate) fn apply(&self, builder: SessionBuilder) -> Result<SessionBuilder, String> {
        let mut builder = builder
            .with_optimization_level(self.optimization.level())
            .map_err(|e| e.to_string())?
            .with_memory_pattern(self.memory_pattern)
            .map_err(|e| e.to_string())?
            .with_intra_op_spinning(self.spinning)
            .map_err(|e| e.to_string())?
            .with_prepacking(self.prepacking)
            .map_err(|e| e.to_string())?;
        if let Some(n) = self.intra_threads {
            builder = builder.with_intra_threads(n).map_err(|e| e.to_string())?;
        }
        Ok(builder)
    }

    /// The run options of one run; `last` says nothing follows it at once.
    pub(crate) fn run_options(&self, last: bool) -> Result<RunOptions, String> {
        let mut options = RunOptions::new().map_err(|e| e.to_string())?;
        if self.cpu_arena && self.arena_shrinkage && last {
            options
                .set("memory.enable_memory_arena_shrinkage", "cpu:0")
                .map_err(|e| e.to_string())?;
        }
        Ok(options)
    }
}

impl fmt::Display for SessionTuning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        write!(
            f,
            "graph optimisation {:?}, CPU arena {} (shrunk after each run: {}), memory pattern {}, \
             spinning {}, threads {}",
            self.optimization,
            on(self.cpu_arena),
            on(self.arena_shrinkage),
            on(self.memory_pattern),
            on(self.spinning),
            self.intra_threads
                .map(|n| n.to_string())
                .unwrap_or_else(|| "all cores".into())
        )
    }
}
