//! The tools svchunt can name, and how sure it is.

use std::fmt;

use serde::{Serialize, Serializer};

macro_rules! tools {
    ($($(#[$doc:meta])* $variant:ident => $id:literal,)*) => {
        /// A remote-execution tool family, by its stable id (`psexec`, `impacket-smbexec`, …).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Tool {
            $($(#[$doc])* $variant,)*
        }

        impl Tool {
            /// Every tool, in table order.
            pub const ALL: &'static [Tool] = &[$(Tool::$variant,)*];

            /// The stable id used in output and in allow-list rules.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Tool::$variant => $id,)*
                }
            }
        }
    };
}

tools! {
    /// Sysinternals PsExec (also renamed with `-r`).
    Psexec => "psexec",
    /// PAExec.
    Paexec => "paexec",
    /// RemCom, standalone.
    Remcom => "remcom",
    /// CSExec.
    Csexec => "csexec",
    /// Impacket `psexec.py`.
    ImpacketPsexec => "impacket-psexec",
    /// Impacket `smbexec.py`.
    ImpacketSmbexec => "impacket-smbexec",
    /// Impacket `services.py`.
    ImpacketServices => "impacket-services",
    /// Metasploit's psexec module (binary upload).
    MetasploitPsexec => "metasploit-psexec",
    /// Metasploit's psexec_psh module (PowerShell command line).
    MetasploitPsexecPsh => "metasploit-psexec-psh",
    /// Cobalt Strike `jump psexec` / `psexec64`.
    CobaltstrikePsexec => "cobaltstrike-psexec",
    /// Cobalt Strike `jump psexec_psh`.
    CobaltstrikePsexecPsh => "cobaltstrike-psexec-psh",
    /// PowerShell Empire.
    Empire => "empire",
    /// NetExec / CrackMapExec smbexec.
    NetexecSmbexec => "netexec-smbexec",
    /// winexe.
    Winexe => "winexe",
    /// getsystem-style privilege escalation through a service.
    Getsystem => "getsystem",
    /// Invoke-SMBExec (Invoke-TheHash).
    InvokeSmbexec => "invoke-smbexec",
    /// Invoke-PsExec (Veil PowerTools, Empire's module source).
    InvokePsexec => "invoke-psexec",
    /// Covenant's PSExecCommand task and SharpSploit's PSExec.
    CovenantPsexec => "covenant-psexec",
    /// SharpSC (Covenant's SharpSC task).
    Sharpsc => "sharpsc",
    /// SharpExec.
    Sharpexec => "sharpexec",
    /// Sliver's psexec.
    SliverPsexec => "sliver-psexec",
    /// TChopper: a payload smuggled through service display names.
    Tchopper => "tchopper",
    /// SCShell: an existing service's binary path changed, started, restored.
    Scshell => "scshell",
    /// SharpNoPSExec: the same on a disabled service, start type restored.
    Sharpnopsexec => "sharpnopsexec",
    /// PowerSploit PowerUp's Invoke-ServiceAbuse (local privilege escalation).
    Powerup => "powerup",
    /// No fingerprint holds.
    Unknown => "unknown",
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Tool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How sure an attribution is, from the weight of the fingerprints that hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// One supporting signal.
    Low,
    /// A strong signal, or several supporting ones.
    Medium,
    /// A decisive signal with support, or several strong ones.
    High,
}

impl Confidence {
    /// From a fingerprint score (the sum of the weights of the rows that hold).
    pub fn of_score(score: u32) -> Confidence {
        match score {
            5.. => Confidence::High,
            3..=4 => Confidence::Medium,
            _ => Confidence::Low,
        }
    }

    /// The id used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_serialised_as_strings() {
        let mut ids: Vec<&str> = Tool::ALL.iter().map(|t| t.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Tool::ALL.len());
        assert_eq!(
            serde_json::to_string(&Tool::MetasploitPsexecPsh).unwrap(),
            "\"metasploit-psexec-psh\""
        );
        assert_eq!(
            serde_json::to_string(&Confidence::High).unwrap(),
            "\"high\""
        );
    }
}
