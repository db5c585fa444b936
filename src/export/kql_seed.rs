//! `--to kql-seed`: the seed Sentinel hunting query, generated rather than pasted, with its
//! window (`between (0s .. window)`) and its `bin()` rounding as options.
//!
//! With the defaults the query body is the seed's, operator for operator, so that what
//! `svchunt hunt --semantics kql` computes offline (see [`crate::kql`]) is what this query
//! computes in Sentinel. Its known flaws are kept on purpose and listed in the header.

use super::{AUDITING, ExportOptions, comment_block, duration_literal};
use crate::lifecycle::{DELETE_ACCESS_CODE, SCM_PROVIDER};

/// Render the seed query.
pub fn render(options: &ExportOptions) -> String {
    let rounding = duration_literal(options.rounding);
    let window = duration_literal(options.window);
    let header = format!(
        "\
svchunt export --to kql-seed: the seed hunting query for Microsoft Sentinel (legacy agent
tables Event and SecurityEvent), as svchunt hunt --semantics kql runs it offline.

Finds: a 7045 service installation joined to any 4674 with DELETE ({DELETE_ACCESS_CODE}) by the same
account on the same computer, logged 0s..{window} later after rounding both times down to
{rounding}; keeps one row per service name.

{AUDITING}

Cannot express what svchunt's lifecycle view does, by design of the seed:
- the service name is not a join key: any DELETE-capable 4674 of the account pairs with the
  creation (RemoteRegistry opens by secretsdump, the SC manager database);
- the 4674 that services.exe logs at creation counts as the deletion;
- summarize arg_max(...) by InstalledService keeps one row per name across ALL hosts, so the
  same tool on two hosts gives one row;
- a removal logged before the creation (clock skew between logs) is dropped;
- 4697 (Security log creations) and Sysmon evidence are not read.
Use svchunt export --to kql for the lifecycle semantics."
    );
    let mut out = comment_block("// ", &header);
    out.push_str(&format!(
        "\
Event
| where EventID == 7045
| where Source == \"{SCM_PROVIDER}\"
| parse EventData with * '<Data Name=\"ServiceName\">' InstalledService '</Data>' '<Data Name=\"ImagePath\">' Exe '</Data>' *
| extend SourceTimeRounded = bin(TimeGenerated, {rounding})
| project SourceTime = TimeGenerated, SourceTimeRounded, Computer, UserName, InstalledService, Exe, SourceEventID = EventID
| join kind=inner
    (
    SecurityEvent
        | where EventID == 4674
        | where AccessMask has \"{DELETE_ACCESS_CODE}\"
        | extend TargetTimeRounded = bin(TimeGenerated, {rounding})
        | project TargetTime = TimeGenerated, TargetTimeRounded, Computer, UserName = Account, InstalledService = ObjectName, TargetEventID = EventID
    ) on UserName, Computer
| where (TargetTimeRounded - SourceTimeRounded) between (0s .. {window})
| summarize arg_max(SourceTime, *) by InstalledService
| project SourceTime, SourceEventID, TargetTime, TargetEventID, Computer, UserName, InstalledService, Exe
| sort by SourceTime
"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    /// The body (without comments) of the rendered query.
    fn body(text: &str) -> String {
        text.lines()
            .filter(|l| !l.starts_with("//"))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    #[test]
    fn options_reach_the_query() {
        let options = ExportOptions {
            window: SignedDuration::from_mins(90),
            rounding: SignedDuration::from_millis(100),
            ..ExportOptions::default()
        };
        let text = body(&render(&options));
        assert!(text.contains("between (0s .. 90m)"));
        assert_eq!(text.matches("bin(TimeGenerated, 100ms)").count(), 2);
    }
}
