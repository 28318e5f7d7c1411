use std::fmt;
use std::str::FromStr;

/// Which execution provider the engine should use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionProviderChoice {
    /// The best GPU provider compiled in and present in the loaded runtime, else CPU.
    Auto,
    #[default]
    Cpu,
    Cuda,
    DirectMl,
    CoreMl,
}

impl ExecutionProviderChoice {
    pub fn name(self) -> &'static str {
        match self {
            ExecutionProviderChoice::Auto => "auto",
            ExecutionProviderChoice::Cpu => "cpu",
            ExecutionProviderChoice::Cuda => "cuda",
            ExecutionProviderChoice::DirectMl => "directml",
            ExecutionProviderChoice::CoreMl => "coreml",
        }
    }
}

impl fmt::Display for ExecutionProviderChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExecutionProviderChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            "directml" | "dml" => Ok(Self::DirectMl),
            "coreml" => Ok(Self::CoreMl),
            other => Err(format!(
                "unknown execution provider '{other}' (expected auto, cpu, cuda, directml or coreml)"
            )),
        }
    }
}
