//! `--to eql`: an Elastic EQL `sequence` over Winlogbeat/ECS fields: a service installed (7045)
//! and then stopped (7036) on the same host, joined on the service's name, within the window.
//!
//! EQL joins on fields, not on expressions, so the join uses the two events that name a service
//! the same way: 7045's `ServiceName` and 7036's `param1` are both the display name. The 4674
//! (key name, and also logged at creation) and Sysmon's registry path cannot be joined to them
//! without an ingest pipeline, which the header says.

use super::{AUDITING, ExportOptions, comment_block, duration_literal};
use crate::lifecycle::SCM_PROVIDER;

/// Render the query.
pub fn render(options: &ExportOptions) -> String {
    let window = duration_literal(options.window);
    let header = format!(
        "\
svchunt export --to eql: remote service execution (PsExec and kin) in Elastic (EQL over
Winlogbeat / ECS fields).

Finds: a service installed (System 7045) and then stopped (System 7036, 'stopped') on the same
host.name within {window}, the two joined on the service's display name (7045 ServiceName,
7036 param1). One sequence per creation: a service re-created under the same name starts a new
sequence.

{AUDITING}
This query reads only the System log (7045, 7036); the Security and Sysmon events serve
svchunt hunt and the other exports.

Cannot express, compared with svchunt hunt:
- creations with no stop in the window (EQL finds sequences, not absences): svchunt lists
  them, this query does not;
- 4697 (Security-log creations), 4674 DELETE-capable opens and Sysmon 12/13: they name the
  service by key name or registry path, which EQL cannot join to 7045's display name without
  an ingest pipeline; and the 4674 logged at creation is no removal, which a sequence cannot
  tell apart by time;
- a stop logged before its creation (clock skew) is not seen;
- the verdict, the 4624 source address and the lifetime (the sequence's two timestamps give
  it);
- join keys compare exactly (svchunt compares host and service names case-insensitively), and
  the 7036 state is matched as the English text 'stopped'."
    );
    let mut out = comment_block("// ", &header);
    out.push_str(&format!(
        "\
sequence by host.name with maxspan={window}
  [any where event.code == \"7045\" and winlog.channel == \"System\" and winlog.provider_name == \"{SCM_PROVIDER}\"]
    by winlog.event_data.ServiceName
  [any where event.code == \"7036\" and winlog.channel == \"System\" and winlog.provider_name == \"{SCM_PROVIDER}\"
    and winlog.event_data.param2 == \"stopped\"]
    by winlog.event_data.param1
"
    ));
    out
}
