//! `--to sigma`: a Sigma rule set for any SIEM a Sigma backend serves: three base rules (7045,
//! 4697, and 4674 DELETE-capable opens of a SERVICE OBJECT) and two `temporal_ordered`
//! correlation rules (Sigma correlation specification v2) that join a creation to a later
//! DELETE-capable open of the same service on the same host.
//!
//! Field names are the Windows event's own (`EventID`, `Provider_Name`, EventData names,
//! `Computer`), as Sigma's Windows rules spell them; backends map them to their SIEM's fields.

use jiff::SignedDuration;

use super::{AUDITING, ExportOptions, comment_block, duration_literal, whole_seconds_up};
use crate::lifecycle::{DELETE_ACCESS_CODE, SCM_OBJECT_SERVER, SCM_PROVIDER, SERVICE_OBJECT_TYPE};

/// Rule names, the handles the correlation rules refer to.
pub const RULE_7045: &str = "svchunt_service_installed_7045";
/// See [`RULE_7045`].
pub const RULE_4697: &str = "svchunt_service_installed_4697";
/// See [`RULE_7045`].
pub const RULE_4674: &str = "svchunt_service_delete_capable_open_4674";

/// Sigma's `timespan` knows s, m, h, d (and longer): a sub-second part is rounded up so the
/// rule never gets a shorter window than asked.
fn timespan(d: SignedDuration) -> String {
    if d.as_millis() % 1000 == 0 {
        duration_literal(d)
    } else {
        format!("{}s", whole_seconds_up(d))
    }
}

/// Render the rule set as one multi-document YAML file.
pub fn render(options: &ExportOptions) -> String {
    let window = timespan(options.window);
    let header = format!(
        "\
svchunt export --to sigma: remote service execution (PsExec and kin) as Sigma rules.

Finds: base rules for every service installation (7045, 4697) and every DELETE-capable open
of a service by the service control manager (4674, {DELETE_ACCESS_CODE}); two temporal_ordered
correlations (Sigma correlation specification v2) fire when a creation is followed within
{window} by a DELETE-capable open of the same service name on the same computer, by the same
account (7045, whose account is the System/Security UserID SID) or logon session (4697).

{AUDITING}

Cannot express, compared with svchunt hunt:
- services.exe logs a DELETE-capable 4674 at the creation itself: the correlation fires on it, so
  it says 'created, and opened with DELETE', not 'removed'; Sigma cannot ask for the open to
  come seconds later, nor for nothing to follow it;
- Sysmon 12/13 and 7036 removal evidence (they name the service by registry path or display
  name, which no alias can turn into the key name);
- evidence logged before the creation (clock skew between logs);
- the verdict, the 4624 source address and one row per creation: what a backend emits per
  group depends on the backend (some use fixed time buckets and miss pairs across a bucket
  boundary);
- 7045 names the display name, 4674 the key name: services whose two names differ
  (Sysinternals PsExec logs 'PsExec' for PSEXESVC on some versions) do not correlate from 7045."
    );
    let mut out = comment_block("# ", &header);
    out.push_str(&format!(
        "\
title: Service installed (System log)
id: 7326530e-043a-4316-8812-6ed5e2dae716
name: {RULE_7045}
status: experimental
description: A service was installed in the system (Service Control Manager 7045).
author: svchunt
tags:
    - attack.execution
    - attack.t1569.002
logsource:
    product: windows
    service: system
detection:
    selection:
        Provider_Name: '{SCM_PROVIDER}'
        EventID: 7045
    condition: selection
level: informational
---
title: Service installed (Security log)
id: ef757368-47dd-40e3-94b1-23fd8d07176c
name: {RULE_4697}
status: experimental
description: A service was installed in the system (4697, Audit Security System Extension).
author: svchunt
tags:
    - attack.execution
    - attack.t1569.002
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4697
    condition: selection
level: informational
---
title: Service opened with DELETE access by the service control manager
id: 7ffcd89f-c8ed-42b0-a593-b81cb40eb2a1
name: {RULE_4674}
status: experimental
description: >-
    A service object was opened with an access list that includes DELETE (4674, Audit
    Sensitive Privilege Use). services.exe logs one when it creates a service, and one when a
    client opens the service to delete it.
author: svchunt
tags:
    - attack.execution
    - attack.t1569.002
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4674
        ObjectServer: '{SCM_OBJECT_SERVER}'
        ObjectType: '{SERVICE_OBJECT_TYPE}'
        AccessMask|contains: '{DELETE_ACCESS_CODE}'
    condition: selection
level: informational
---
title: Service installed then opened with DELETE by the same account (7045)
id: c74f3c3c-efb9-4eaa-b177-4977778a3daa
name: svchunt_service_created_then_delete_capable_open_7045
status: experimental
description: >-
    A 7045 service installation followed within {window} by a 4674 DELETE-capable open of a
    service of the same name on the same computer by the same account (svchunt's correlation;
    see its header comment for what this cannot tell apart).
author: svchunt
correlation:
    type: temporal_ordered
    rules:
        - {RULE_7045}
        - {RULE_4674}
    group-by:
        - Computer
        - service
        - account
    timespan: {window}
    aliases:
        service:
            {RULE_7045}: ServiceName
            {RULE_4674}: ObjectName
        account:
            {RULE_7045}: UserID
            {RULE_4674}: SubjectUserSid
level: high
---
title: Service installed then opened with DELETE in the same logon session (4697)
id: 92389475-09a4-4ee6-8511-bd1983f95552
name: svchunt_service_created_then_delete_capable_open_4697
status: experimental
description: >-
    A 4697 service installation followed within {window} by a 4674 DELETE-capable open of the
    same service on the same computer from the same logon session.
author: svchunt
correlation:
    type: temporal_ordered
    rules:
        - {RULE_4697}
        - {RULE_4674}
    group-by:
        - Computer
        - service
        - logon
    timespan: {window}
    aliases:
        service:
            {RULE_4697}: ServiceName
            {RULE_4674}: ObjectName
        logon:
            {RULE_4697}: SubjectLogonId
            {RULE_4674}: SubjectLogonId
level: high
"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_never_shrink() {
        assert_eq!(timespan(SignedDuration::from_hours(24)), "24h");
        assert_eq!(timespan(SignedDuration::from_millis(1500)), "2s");
    }
}
